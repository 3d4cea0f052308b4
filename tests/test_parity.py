"""The CLI and the app are shells over one core: the same queries (every operator, rank:, each
sort) give the same papers in the same order, and the same actions store the same result."""

from __future__ import annotations

import json

import pytest

from reader.cli import main
from reader.paper import paper_id
from reader.screens.ask import AskScreen
from reader.sorting import SORTS
from reader.store import Store
from reader.widgets.paper_list import PaperList
from reader.widgets.search_box import SearchBox
from tests.app_support import SIZE, make_app, settle

NEURAL_OPERATOR = "Neural Operator: Learning Maps Between Function Spaces"
PAON = "PAON: A New Neuron Model using Padé Approximants"  # the first paper of the bundled digest
MATH = "Generating Mathematical Derivations with Large Language Models"
PROSE = "PROSE: Predicting Operators and Symbolic Expressions using Multimodal Transformers"

QUERIES = [
    "neural operator",  # fuzzy words
    "nueral opertor",  # typos
    "'Learning Maps",  # exact
    "operator !neural",  # excluded
    '"neural operator"',  # phrase
    "#ops",  # tag
    "is:bookmarked",
    "is:unread",
    "is:read",
    "is:new",
    "has:note",
    "has:code",
    "has:tags",
    "has:link",
    "operator rank:ops",  # ranked by likeness to the tagged papers
    "learning rank:nosuch",  # a rank: tag nobody has
]
SORTED = ["learning"]  # with every sort


@pytest.fixture(autouse=True)
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SSH_TTY", "SSH_CONNECTION"):
        monkeypatch.delenv(name, raising=False)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def cli_ids(capsys: pytest.CaptureFixture[str], db: str, query: str, sort: str) -> list[str]:
    out = cli(capsys, "search", query, "--limit", "0", "--sort", sort, "--json", "--db", db)
    return [o["id"] for o in map(json.loads, out.splitlines()) if not o.get("partial")]


def annotations(db) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    """What the user made, per paper, without the times it was made at."""
    return {
        pid: (bool(r.get("bookmarked_at")), r.get("tags"), r.get("note"), r.get("link"), bool(r.get("read_at")))
        for pid, r in Store(db).records().items()
        if r.get("bookmarked_at") or r.get("tags") or r.get("note") or r.get("link") or r.get("read_at")
    }


async def test_the_same_actions_store_the_same_result(tmp_path, capsys):
    by_cli, by_app = str(tmp_path / "cli.json"), tmp_path / "app.json"
    a, b = paper_id(NEURAL_OPERATOR), paper_id(MATH)
    for args in (
        ["bookmark", a],
        ["tag", a, "ops", "Later"],
        ["note", a, "section 3"],
        ["link", a, "https://example.org/mine"],
        ["read", a],
        ["bookmark", b],
        ["tag", b, "ops"],
        ["tag", b, "ops", "--remove"],
        ["read", b],
        ["unread", b],
    ):
        cli(capsys, *args, "--db", by_cli)

    app = make_app(by_app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        papers = app.screen.query_one(PaperList)

        async def select(title: str) -> None:
            await pilot.press("slash", "ctrl+u", *f"'{title}", "enter")  # enter: to the list, top paper
            await settle(app, pilot)
            assert papers.paper is not None and papers.paper.title == title

        await select(NEURAL_OPERATOR)
        await pilot.press("R")  # the one paper shown is read
        await pilot.press("b", "t", *"ops", "enter", *"Later", "enter", "escape")
        await pilot.press("n", *"section 3", "escape")
        await settle(app, pilot)
        await pilot.press("L", *"https://example.org/mine", "enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, AskScreen)
        await select(MATH)
        await pilot.press("b", "t", *"ops", "enter", "escape")
        await settle(app, pilot)
        await pilot.press("t", "tab", "x", "escape")  # remove #ops again
        await settle(app, pilot)
        await pilot.press("R", "U")  # read, then unread again
        await settle(app, pilot)

    assert annotations(by_app) == annotations(by_cli)
    assert annotations(by_cli)[a] == (True, ["ops", "Later"], "section 3", "https://example.org/mine", True)


async def test_the_same_queries_give_the_same_papers_in_the_same_order(tmp_path, capsys):
    db = str(tmp_path / "store.json")
    for args in (
        ["read", paper_id(PAON)],  # whether or not the app reads the first paper when it opens
        ["bookmark", paper_id(NEURAL_OPERATOR)],
        ["tag", paper_id(NEURAL_OPERATOR), "ops"],
        ["tag", paper_id(PROSE), "ops"],
        ["note", paper_id(MATH), "check the proofs"],
        ["link", paper_id(MATH), "https://example.org/math"],
        ["bookmark", paper_id(MATH)],
        ["read", paper_id(MATH)],
    ):
        cli(capsys, *args, "--db", db)
    wanted = [(q, "relevance") for q in QUERIES] + [(q, s) for q in SORTED for s in SORTS]
    expected = {(q, s): cli_ids(capsys, db, q, s) for q, s in wanted}
    assert expected[("operator rank:ops", "relevance")][0] in (paper_id(NEURAL_OPERATOR), paper_id(PROSE))
    assert all(expected[(q, "relevance")] for q in QUERIES if q != "is:new")  # every query finds something

    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        papers, search = screen.query_one(PaperList), screen.query_one(SearchBox)
        seen: dict[tuple[str, str], list[str]] = {}
        for query, sort in wanted:
            while screen.sort != sort:
                screen.action_cycle_sort()  # the S key
            search.focus()
            search.value = query  # at once: typing key by key ran a search per key (37 s -> 5 s)
            await settle(app, pilot)
            seen[(query, sort)] = [papers.papers[i].id for i in papers.rows.tolist()]
        await pilot.press("ctrl+u")
        await settle(app, pilot)
    for key in wanted:
        assert seen[key] == expected[key], key
    assert Store(db).records()[paper_id(PAON)]["read_at"]  # nothing else was read meanwhile
