"""The undo journal lives in the store: several steps back, redo, across a restart."""

from __future__ import annotations

from reader.paper import Paper
from reader.store import Store

PAPER = Paper.make("Memorizing Transformers", "Language models typically need to be trained. " * 8)
OTHER = Paper.make("Neural Operator: Learning Maps Between Function Spaces", "Operators. " * 30)


def test_undo_steps_back_and_redo_steps_forward(tmp_path):
    db = tmp_path / "store.json"
    store = Store(db)
    store.set_bookmark(PAPER, True)
    store.add_tags(PAPER, ["to-read"])
    store.set_note(PAPER, "read section 3")
    store.mark_read([PAPER])  # read marks are not undo steps
    assert store.undo() == "note · Memorizing Transformers"
    assert store.get(PAPER.id)["note"] == ""
    assert store.undo() == "tag #to-read · Memorizing Transformers"
    assert store.get(PAPER.id)["tags"] == []
    assert store.get(PAPER.id)["bookmarked_at"]
    assert store.get(PAPER.id)["read_at"]  # untouched by undo
    assert store.redo() == "tag #to-read · Memorizing Transformers"
    assert store.get(PAPER.id)["tags"] == ["to-read"]


def test_undo_survives_a_restart_and_a_new_change_clears_redo(tmp_path):
    db = tmp_path / "store.json"
    Store(db).set_bookmarks([PAPER, OTHER], True)
    reopened = Store(db)
    assert reopened.undo() == "bookmark · 2 papers"
    assert not reopened.get(PAPER.id)["bookmarked_at"] and not reopened.get(OTHER.id)["bookmarked_at"]
    reopened.add_tags(PAPER, ["x"])
    assert Store(db).redo() is None
    assert Store(db).journal() == {"undo": ["tag #x · Memorizing Transformers"], "redo": []}


def test_nothing_to_undo(tmp_path):
    store = Store(tmp_path / "store.json")
    assert store.undo() is None and store.redo() is None
    store.set_bookmark(PAPER, False)  # no change: no step
    assert store.undo() is None


def test_an_undoable_read_mark_is_one_step_that_undo_reverses_alone(tmp_path):
    db = tmp_path / "store.json"
    store = Store(db)
    store.set_note(OTHER, "keep me")
    store.mark_read([PAPER, OTHER], undoable=True)
    assert store.undo() == "read · 2 papers"
    assert not store.get(PAPER.id)["read_at"] and not store.get(OTHER.id)["read_at"]
    assert store.get(OTHER.id)["note"] == "keep me"  # the older step is untouched
    assert store.redo() == "read · 2 papers"
    assert store.get(PAPER.id)["read_at"] and store.get(OTHER.id)["read_at"]
    store.mark_read([PAPER], read=False, undoable=True)
    assert not store.get(PAPER.id)["read_at"]
    assert store.undo() == "unread · Memorizing Transformers"
    assert store.get(PAPER.id)["read_at"]
