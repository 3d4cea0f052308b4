"""Search finds the paper a person half-remembers: partial matches when one word is off, and other
forms of words (plurals, stems, spellings, compounds typed joined, letters and digits split or glued),
always ranked after what matches as typed."""

from __future__ import annotations

import json

import pytest

from reader.cli import main
from reader.index.engine import SearchEngine
from reader.index.forms import splits, word_forms
from reader.index.highlight import matched
from reader.paper import Paper


@pytest.fixture(autouse=True)
def private_env(tmp_path, monkeypatch):
    """The CLI's store, cache and config in this test's own folder."""
    for name, value in {
        "PAPER_READER_DB": tmp_path / "store.json",
        "PAPER_READER_CACHE": tmp_path / "cache",
        "PAPER_READER_CONFIG": tmp_path / "config.toml",
        "XDG_CONFIG_HOME": tmp_path / "config",
        "XDG_DATA_HOME": tmp_path / "data",
        "XDG_CACHE_HOME": tmp_path / "xcache",
    }.items():
        monkeypatch.setenv(name, str(value))


def search(capsys, *args: str) -> list[str]:
    assert main(["search", *args]) in (0, None)
    return capsys.readouterr().out.splitlines()


def engine_of(*titles: str, abstracts: dict[int, str] | None = None) -> SearchEngine:
    abstracts = abstracts or {}
    return SearchEngine([Paper(f"p{k}", t, abstracts.get(k, ""), "test", k) for k, t in enumerate(titles)])


def titles(engine: SearchEngine, rows) -> list[str]:
    return [engine.papers[int(i)].title for i in rows]


# -- issue 12's examples, in the command line --------------------------------------------------

EXAMPLES = [
    ("difusion modle tutorial", "Step-by-Step Diffusion: An Elementary Tutorial"),
    ("stepbystep diffusion", "Step-by-Step Diffusion: An Elementary Tutorial"),
    ("lowrank adaptation tales", "Low-Rank Approximation, Adaptation, and Other Tales"),
    ("selfattention feedforward", "Linear Self-Attention Approximation via Trainable Feedforward Kernel"),
    ("finetuning silver bullet", "Initialization using Update Approximation is a Silver Bullet"),
    ("spacefilling curves", "Planar Substitutions to Lebesgue type Space-Filling Curves"),
    ("mathematical capability chatgpt", "Mathematical Capabilities of ChatGPT"),
    ("universal properties rnn", "Minimal Width for Universal Property of Deep RNN"),
    ("philosophers care complexities", "Why Philosophers Should Care About Computational Complexity"),
    ("amplifying alchemy capabilities", "Alchemy: Amplifying Theorem-Proving Capability through Symbolic Mutation"),
    ("hard negative mine isometric", "Mathematical Justification of Hard Negative Mining via Isometric"),
    ("qwen 2.5 math", "Qwen2.5-Math Technical Report"),
    ("qwen2.5 math", "Qwen2.5-Math Technical Report"),
]


@pytest.mark.parametrize("query, title", EXAMPLES)
def test_each_example_of_the_issue_finds_its_paper_first_or_second(capsys, query: str, title: str) -> None:
    lines = search(capsys, query, "--limit", "2")
    assert any(line.split("\t")[2].startswith(title) for line in lines), lines


def test_one_word_off_still_finds_the_paper_as_a_partial_match_in_json(capsys) -> None:
    objects = [json.loads(line) for line in search(capsys, "chinchilla replication deepmind", "--json")]
    assert objects[0]["title"] == "Chinchilla Scaling: A replication attempt"
    assert objects[0]["partial"] is True and objects[0]["missing"] == "deepmind"
    assert all(o["partial"] is True for o in objects)  # no paper has all three words
    full = [json.loads(line) for line in search(capsys, "chinchilla replication", "--json")]
    assert full[0]["partial"] is False and "missing" not in full[0]


def test_partial_matches_follow_the_full_ones_within_the_limit(capsys) -> None:
    lines = search(capsys, "difusion modle tutorial", "--limit", "3")
    assert len(lines) == 3
    assert lines[0].count("\t") == 2  # the full match: id, score, title
    assert all(line.endswith("\tmissing: tutorial") or "\tmissing: " in line for line in lines[1:])


# -- graceful AND in the engine ------------------------------------------------------------------


def test_full_matches_come_before_partial_ones_which_are_a_group_apart() -> None:
    engine = engine_of("alpha beta gamma", "alpha beta", "beta gamma delta", "alpha", "unrelated words")
    result = engine.search("alpha beta gamma")
    assert titles(engine, result.indices) == ["alpha beta gamma"]
    assert len(result) == 1  # the count is of full matches only
    assert titles(engine, result.partial) == ["alpha beta", "beta gamma delta"]
    assert result.missing == ("gamma", "alpha")
    assert result.missing_word(1) == "gamma" and result.missing_word(0) is None
    assert 0 not in result.partial and 3 not in result.partial  # two words missing: not a partial match


def test_no_partial_matches_when_enough_papers_match_every_word() -> None:
    engine = engine_of(*[f"alpha beta {k}" for k in range(12)], "alpha other")
    result = engine.search("alpha beta")
    assert len(result) == 12 and len(result.partial) == 0


def test_one_word_queries_and_strict_terms_never_go_partial() -> None:
    engine = engine_of("alpha gamma", "alpha beta", "alpha beta gamma delta")
    assert len(engine.search("zzzz").partial) == 0
    # 'exact, "phrase", !exclusion and filters stay strict: only a plain word may be missing.
    assert titles(engine, engine.search("alpha zzzz 'gamma").partial) == ["alpha gamma", "alpha beta gamma delta"]
    assert titles(engine, engine.search('alpha zzzz "beta gamma"').partial) == ["alpha beta gamma delta"]
    assert titles(engine, engine.search("alpha zzzz !delta").partial) == ["alpha gamma", "alpha beta"]
    assert len(engine.search("alpha zzzz is:bookmarked").partial) == 0
    assert len(engine.search("'zzzz alpha").partial) == 0


def test_partial_matches_respect_the_limit() -> None:
    engine = engine_of("alpha beta gamma", "alpha beta", "alpha gamma", "beta gamma")
    result = engine.search("alpha beta gamma", limit=2)
    assert len(result.indices) + len(result.partial) == 2


# -- word forms, each ranked after the form as typed ----------------------------------------------


def test_the_exact_form_ranks_before_a_plural_or_stem() -> None:
    engine = engine_of("Mining hard negatives", "A mine of data", "Many models", "One model")
    assert titles(engine, engine.search("mine").indices) == ["A mine of data", "Mining hard negatives"]
    assert titles(engine, engine.search("models").indices)[:1] == ["Many models"]
    assert titles(engine, engine.search("capabilities").indices) == []
    engine = engine_of("Capability of X", "Capabilities of Y", "Universal properties", "A property")
    assert titles(engine, engine.search("capability").indices) == ["Capability of X", "Capabilities of Y"]
    assert titles(engine, engine.search("capabilities").indices) == ["Capabilities of Y", "Capability of X"]
    assert titles(engine, engine.search("property").indices) == ["A property", "Universal properties"]


def test_title_before_abstract_even_for_another_form() -> None:
    engine = engine_of("Something else", "Capabilities of models", abstracts={0: "We test one capability."})
    assert titles(engine, engine.search("capability").indices) == ["Capabilities of models", "Something else"]


def test_british_and_american_spellings_find_each_other_exact_first() -> None:
    engine = engine_of("We optimize it", "We optimise it", "The colour of noise", "Behavioral cloning")
    assert titles(engine, engine.search("optimise").indices) == ["We optimise it", "We optimize it"]
    assert titles(engine, engine.search("optimize").indices) == ["We optimize it", "We optimise it"]
    assert titles(engine, engine.search("color").indices) == ["The colour of noise"]
    assert titles(engine, engine.search("behavioural").indices) == ["Behavioral cloning"]


def test_a_compound_typed_joined_finds_its_parts_side_by_side_only() -> None:
    engine = engine_of("Coreset construction", "The core of a set", "Core-set methods", "Step-by-step proofs")
    assert titles(engine, engine.search("coreset").indices) == ["Coreset construction", "Core-set methods"]
    assert titles(engine, engine.search("stepbystep").indices) == ["Step-by-step proofs"]
    assert titles(engine, engine.search("step by step").indices) == ["Step-by-step proofs"]  # split still works


def test_a_compound_with_too_many_papers_to_read_still_finds_them_all_the_read_ones_first(monkeypatch) -> None:
    from reader.index import engine as engine_module

    monkeypatch.setattr(engine_module, "MAX_VERIFIED", 1)
    engine = engine_of("Core-set methods", "A core of the set", "Other", abstracts={2: "a core-set here"})
    # One paper is read (the first with both parts in its title); the others count unread, lower.
    assert titles(engine, engine.search("coreset").indices) == ["Core-set methods", "A core of the set", "Other"]
    monkeypatch.setattr(engine_module, "MAX_VERIFIED", 500)
    engine.clear_caches()
    assert titles(engine, engine.search("coreset").indices) == ["Core-set methods", "Other"]


def test_letters_and_digits_split_or_glued() -> None:
    engine = engine_of("Qwen2.5-Math report", "GPT-4 technical report", "Llama2 chat", "The K-12 classroom")
    assert titles(engine, engine.search("qwen 2.5").indices)[:1] == ["Qwen2.5-Math report"]
    assert titles(engine, engine.search("qwen2.5").indices)[:1] == ["Qwen2.5-Math report"]
    assert titles(engine, engine.search("gpt4").indices) == ["GPT-4 technical report"]
    assert titles(engine, engine.search("llama 2").indices) == ["Llama2 chat"]
    assert titles(engine, engine.search("k12").indices) == ["The K-12 classroom"]


def test_a_transposition_is_one_typo_in_short_words_too() -> None:
    engine = engine_of("Diffusion models explained", "Top results", "A modal logic")
    assert titles(engine, engine.search("modle").indices)[:1] == ["Diffusion models explained"]
    assert titles(engine, engine.search("tpo").indices) == ["Top results"]


def test_word_forms_rules() -> None:
    assert {"mining", "mines"} <= word_forms("mine")
    assert {"capabilities"} <= word_forms("capability") and "capability" in word_forms("capabilities")
    assert {"normalizing", "normalise"} <= word_forms("normalize")
    assert {"color", "colours"} <= word_forms("colour") and "behavior" in word_forms("behaviour")
    assert "modeling" in word_forms("modelling") and "analyze" in word_forms("analyse")
    assert "mine" not in word_forms("mine")
    known = {"step", "by", "low", "rank", "gpt", "4", "k", "12", "st", "ep"}.__contains__
    assert splits("stepbystep", known)[0] == ("step", "by", "step")
    assert splits("lowrank", known) == [("low", "rank")]
    assert splits("gpt4", known) == [("gpt", "4")] and splits("k12", known) == [("k", "12")]
    assert splits("stepby", lambda w: False) == []


# -- why it matched: spans of the title and the abstract ---------------------------------------


def covered(text: str, spans) -> list[str]:
    return [text[start:end] for start, end in spans]


def test_matched_gives_title_and_abstract_spans_and_says_when_only_the_abstract_matched() -> None:
    title, abstract = "Attention is all you need", "We replace recurrence with self-attention; the Transformer wins."
    engine = engine_of(title, "Transformers everywhere", abstracts={0: abstract})
    why = matched(engine, title, abstract, "transformer")
    assert why.title == () and covered(abstract, why.abstract) == ["Transformer"]
    assert why.abstract_only
    why = matched(engine, title, abstract, "attention 'recurrence")
    assert covered(title, why.title) == ["Attention"] and not why.abstract_only
    assert covered(abstract, why.abstract) == ["recurrence", "attention"]


def test_matched_covers_other_forms_compounds_and_glued_words() -> None:
    title = "Step-by-Step Diffusion: Capabilities of Llama2 and Padé approximants"
    engine = engine_of(title)
    assert covered(title, matched(engine, title, "", "stepbystep").title) == ["Step-by-Step"]
    assert covered(title, matched(engine, title, "", "capability").title) == ["Capabilities"]
    assert covered(title, matched(engine, title, "", "llama 2").title) == ["Llama2"]
    assert covered(title, matched(engine, title, "", "pade difusion").title) == ["Diffusion", "Padé"]
    assert matched(engine, title, "", "!diffusion").title == ()


def test_the_best_partial_matches_are_kept_when_there_are_more_than_room_for() -> None:
    titles_ = [f"alpha {'beta ' * (k % 3)}gamma{k}" for k in range(30)] + ["beta alpha extra"] * 5
    engine = SearchEngine([Paper(f"p{k}", t, "", "test", k) for k, t in enumerate(titles_)])
    every = engine.search("alpha beta zzzz")
    assert len(every.indices) == 0 and len(every.partial) == 25
    for room in (1, 3, 7, 24):
        some = engine.search("alpha beta zzzz", limit=room)
        assert some.partial.tolist() == every.partial[:room].tolist()
        assert some.missing == every.missing[:room]


def test_the_core_keeps_partial_matches_apart_from_the_count_and_in_the_sort(tmp_path) -> None:
    from reader.core.opening import open_library
    from reader.digest import bundled_digest
    from reader.store import Store

    library = open_library([bundled_digest()], Store(tmp_path / "store.json"))
    found = library.search("chinchilla replication deepmind")
    assert len(found) == 0 and found.unread == 0  # shown count and unread count: full matches only
    assert library.papers[int(found.partial[0])].title == "Chinchilla Scaling: A replication attempt"
    assert found.missing[0] == "deepmind" and len(found.missing) == len(found.partial) == len(found.partial_scores)
    by_title = library.search("chinchilla replication deepmind", sort="title")
    assert sorted(by_title.partial.tolist()) == sorted(found.partial.tolist())
    shown = [library.papers[int(i)].title.casefold() for i in by_title.partial]
    assert shown == sorted(shown)
    assert dict(zip(by_title.partial.tolist(), by_title.missing)) == dict(zip(found.partial.tolist(), found.missing))


# -- in the app: the detail pane shows where the query matched ------------------------------------


def _highlighted(widget) -> list[str]:  # type: ignore[no-untyped-def]
    """The stretches of a Static's text styled as matches (bold underline, the list's look)."""
    content = widget.content
    return [str(content)[s.start : s.end] for s in content.spans if "underline" in str(s.style)]


async def test_the_detail_pane_highlights_matches_in_the_title_and_the_abstract(tmp_path) -> None:
    from tests.app_support import opened, settle

    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("slash", *"stepbystep difusion flow")
        await settle(app, pilot)
        detail = app.screen.query_one("#detail-title").parent
        title = detail.query_one("#detail-title")
        abstract = detail.query_one("#detail-abstract")
        assert str(title.content) == "Step-by-Step Diffusion: An Elementary Tutorial"
        assert _highlighted(title) == ["Step-by-Step", "Diffusion"]
        assert {"flow", "diffusion"} <= {h.casefold() for h in _highlighted(abstract)}


async def test_the_app_lists_partial_matches_apart_dimmed_with_the_missing_word(tmp_path) -> None:
    from reader.widgets.paper_list import PaperList
    from tests.app_support import notifications, opened, settle

    async with opened(tmp_path / "store.json") as (app, pilot):
        await pilot.press("slash", *"chinchilla replication deepmind")
        await settle(app, pilot)
        papers = app.screen.query_one(PaperList)
        assert len(papers.rows) == 0 and len(papers.partial) >= 1
        assert papers.border_subtitle.startswith("0 / 164")  # not counted with the papers shown
        assert papers.border_subtitle.endswith(f" · {len(papers.partial)} lack a word")
        assert papers.paper is not None and papers.paper.title == "Chinchilla Scaling: A replication attempt"
        width = papers.scrollable_content_region.width
        first = int(papers.partial[0])
        assert papers._row(first, papers.papers[first], width, "deepmind").plain.rstrip().endswith("lacks deepmind")
        await pilot.press("enter", "R")  # to the list, then "mark every paper shown read"
        await settle(app, pilot)
        assert any("read already" in n for n in notifications(app))  # no paper shown: nothing marked
        # A query with full matches marks the rows found through their abstract alone.
        await pilot.press("escape", "slash", *"operator learning")
        await settle(app, pilot)
        drawn = [papers._row(int(i), papers.papers[int(i)], width).plain for i in papers.rows]
        assert any(line.rstrip().endswith("(abstract)") for line in drawn)
        assert not any(line.rstrip().endswith("(abstract)") for line in drawn if "Operator" in line)
