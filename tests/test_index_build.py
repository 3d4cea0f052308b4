"""The index built in a helper process while papers are parsed (reader.index.build) is the
index SearchEngine builds, and anything wrong with the helper only costs the time it saved."""

from __future__ import annotations

import io
import os
import pickle
import random
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import ABSTRACT
from hypothesis import given, settings
from hypothesis import strategies as st

from reader.app import PaperReaderApp
from reader.cli import main
from reader.digest import Library, LibraryLoader, bundled_digest, load_library
from reader.index import build as index_build
from reader.index import cache as index_cache
from reader.index import tokenizer
from reader.index.build import BuildCancelled, IndexBuilder
from reader.index.engine import SearchEngine
from reader.index.tokenizer import CHUNK, fold_bytes
from reader.paper import Paper, paper_id
from reader.store import Store
from tests.app_support import SIZE, settle
from tests.test_index_tokenizer import TEXT

WORDS = [
    *("neural", "operator", "learning", "maps", "between", "function"),
    *("spaces", "graph", "diffusion", "transformer", "sparse"),
]


def many_papers(count: int, seed: int = 1) -> list[Paper]:
    """More papers than one CHUNK, with new words turning up all along (the vocabulary grows)."""
    rnd = random.Random(seed)
    papers = []
    for n in range(count):
        title = " ".join(rnd.choice(WORDS) for _ in range(5)) + f" w{n % 997} Padé"
        abstract = f"{title} {rnd.choice(WORDS)} x{n} y{n // 3} " + ABSTRACT[: rnd.randint(40, 200)]
        papers.append(Paper(f"p{n}", title, abstract, "f", n))
    return papers


def assert_same_index(engine: SearchEngine, other: SearchEngine) -> None:
    assert engine.words == other.words
    for a, b in ((engine.title_postings, other.title_postings), (engine.abstract_postings, other.abstract_postings)):
        assert np.array_equal(a.starts, b.starts)
        assert np.array_equal(a.docs, b.docs)


def fed(papers: list[Paper], batch: int = 1234) -> IndexBuilder:
    builder = IndexBuilder()
    for start in range(0, len(papers), batch):
        builder.add(papers[start : start + batch])
    return builder


def test_the_helpers_index_is_the_one_built_here() -> None:
    papers = many_papers(2 * CHUNK + 321)
    builder = fed(papers)
    engine = builder.engine(papers)
    assert builder.fallback == ""  # the helper did the work
    assert_same_index(engine, SearchEngine(papers))
    assert list(engine.search("'x4321").indices) == [4321]
    assert engine.search("x4321").indices[0] == 4321


def test_papers_added_after_the_feeding_are_indexed_too() -> None:
    # Stored snapshots come after the digests' papers: never fed, sent when the index is asked for.
    papers = many_papers(CHUNK + 10)
    builder = fed(papers[: CHUNK + 3])
    snapshot = Paper(
        "kept", "A kept paper about zyzzyva", "Its abstract, kept in the store: zyzzyva.", "store", 0, True
    )
    everything = [*papers, snapshot]
    engine = builder.engine(everything)
    assert builder.fallback == ""
    assert_same_index(engine, SearchEngine(everything))
    assert list(engine.abstract_postings[engine.vocab["zyzzyva"]]) == [len(everything) - 1]


def test_a_paper_changed_after_it_was_sent_is_indexed_as_it_is_now() -> None:
    papers = many_papers(2 * CHUNK + 50)
    builder = fed(papers)
    papers[7].abstract = papers[7].abstract + " quokka"  # a longer abstract found in a later digest
    engine = builder.engine(papers)
    assert builder.fallback == ""  # only its new text is tokenized again
    assert_same_index(engine, SearchEngine(papers))
    assert list(engine.search("quokka").indices) == [7]


def test_words_of_a_changed_text_take_their_fresh_places_and_words_it_lost_go() -> None:
    papers = many_papers(3 * CHUNK)
    late = 2 * CHUNK + 5
    papers[3].abstract += " wombat"  # only paper 3 had it: gone once its abstract changes
    papers[late].abstract += " numbat"  # first in the last chunk: will first appear in paper 9
    builder = fed(papers)
    papers[3].abstract = "A new text: numbat and x7 and brandnewword."
    papers[9].title = papers[9].title + " numbat"
    papers[late].abstract = papers[late].abstract.replace("x", "y")  # words moved within a later chunk
    engine = builder.engine(papers)
    assert builder.fallback == ""
    fresh = SearchEngine(papers)
    assert_same_index(engine, fresh)  # the same word ids: in order of first appearance, as built fresh
    assert "wombat" not in engine.vocab and engine.search("'wombat").indices.tolist() == []
    assert sorted(engine.search("'numbat").indices.tolist()) == [3, 9, late]
    assert engine.words.index("brandnewword") < engine.words.index(f"x{CHUNK}")
    for query in ("numbat", "wombat", "brandnew", "x7 graph", "neural -operator", "wombta"):
        assert engine.search(query).indices.tolist() == fresh.search(query).indices.tolist()


@given(
    st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=25),
    st.lists(st.tuples(st.integers(0, 24), st.booleans(), TEXT), min_size=1, max_size=8),
    st.sampled_from([1, 2, 3, 7]),
)
@settings(max_examples=25, deadline=None)
def test_papers_changed_after_they_were_sent_index_as_built_fresh(
    pairs: list[tuple[str, str]], changes: list[tuple[int, bool, str]], chunk: int
) -> None:
    # Hostile text (controls, surrogates, folding letters, long words) in tiny chunks: a changed
    # paper's words move across chunks, vanish, or first appear in an unchanged paper after it.
    papers = [Paper(f"p{k}", title, abstract, "generated", k) for k, (title, abstract) in enumerate(pairs)]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(index_build, "CHUNK", chunk)
        m.setattr(tokenizer, "CHUNK", chunk)
        builder = fed(papers, batch=2)
        for k, title, text in changes:
            paper = papers[k % len(papers)]
            if title:
                paper.title = text
            else:
                paper.abstract = text
        engine = builder.engine(papers)
        fresh = SearchEngine(papers)
    assert builder.fallback == ""
    assert_same_index(engine, fresh)
    assert engine.ascii_only.tolist() == fresh.ascii_only.tolist()


def test_a_digest_repeating_a_paper_with_a_longer_abstract_is_indexed_by_the_helper(tmp_path: Path) -> None:
    papers = many_papers(CHUNK + 700)
    again = Paper("", papers[9].title, papers[9].abstract + " a longer copy: quokka", "f", 0)
    path = tmp_path / "big.txt"
    path.write_text("".join(f"{p.title}\n{p.abstract}\n" for p in [*papers, again]), encoding="utf-8")
    builder = IndexBuilder()
    library = LibraryLoader([path], builder=builder).load()
    engine = builder.engine(library.papers)
    assert builder.fallback == ""
    assert library.papers[9].abstract == again.abstract
    assert_same_index(engine, SearchEngine(load_library([path]).papers))
    assert list(engine.search("quokka").indices) == [9]


def test_a_frame_cut_short_is_an_error_not_half_an_index() -> None:
    # The parent died mid-frame: the helper says so rather than index what arrived.
    folded = fold_bytes(["a title"])
    frame = index_build._HEADER.pack(index_build._CHUNK_KIND, 1, len(folded), len(folded), 0) + folded + folded
    out = io.BytesIO()
    index_build.serve(io.BytesIO(frame[:-3]), out)
    out.seek(0)
    reply = pickle.load(out)
    assert reply[0] == "error" and "mid-frame" in reply[1]


@given(
    st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=30),
    st.lists(st.sampled_from([0, 1, 2]), min_size=30, max_size=30),
    st.lists(st.tuples(st.integers(0, 29), st.booleans(), TEXT), max_size=6),
    st.sampled_from([1, 2, 3, 7]),
)
@settings(max_examples=200, deadline=None)
def test_chunks_tokenized_on_both_sides_combine_into_the_fresh_index(
    pairs: list[tuple[str, str]], sides: list[int], changes: list[tuple[int, bool, str]], chunk: int
) -> None:
    # Chunks split any way between the helper, the parser and the chunks taken back at the end
    # (each side in order), papers changed after: the same index, word ids included.
    papers = [Paper(f"p{k}", title, abstract, "generated", k) for k, (title, abstract) in enumerate(pairs)]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(index_build, "CHUNK", chunk)
        m.setattr(tokenizer, "CHUNK", chunk)
        streams = [index_build.Stream() for _ in range(3)]
        for c, first in enumerate(range(0, len(papers), chunk)):
            some = papers[first : first + chunk]
            titles, abstracts = fold_bytes([p.title for p in some]), fold_bytes([p.abstract for p in some])
            streams[sides[c % len(sides)]].add(c, first, len(some), titles, abstracts)
        chunks = len(range(0, len(papers), chunk))
        title_parts, abstract_parts, words, bounds = index_build.combine(streams, chunks)
        changed = sorted({k % len(papers) for k, _title, _text in changes})
        for k, title, text in changes:
            if title:
                papers[k % len(papers)].title = text
            else:
                papers[k % len(papers)].abstract = text
        if changed:
            words = index_build.swap_texts(papers, changed, title_parts, abstract_parts, words, bounds)
        engine = SearchEngine(papers, tokenized=(title_parts, abstract_parts, words))
        fresh = SearchEngine(papers)
    assert_same_index(engine, fresh)


def test_a_helper_that_dies_costs_only_time() -> None:
    papers = many_papers(CHUNK + 50)
    builder = fed(papers[:CHUNK])
    assert builder._proc is not None
    builder._proc.kill()
    builder.add(papers[CHUNK:])
    engine = builder.engine(papers)
    assert builder.fallback
    assert_same_index(engine, SearchEngine(papers))


def test_feeding_a_dead_helper_never_waits_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # More chunks than the queue holds, sent after the helper died (it could not even import us).
    monkeypatch.setattr(index_build, "CHUNK", 10)
    monkeypatch.setattr(index_build, "_BACKLOG", 2)
    papers = many_papers(400)
    builder = IndexBuilder()
    assert builder._proc is not None
    builder._proc.kill()
    done = threading.Event()
    feeder = threading.Thread(target=lambda: (builder.add(papers), done.set()), daemon=True)
    feeder.start()
    feeder.join(timeout=60)  # a hang, not a duration: the old writer left a full queue nobody took from
    assert done.is_set()
    engine = builder.engine(papers)
    assert builder.fallback
    assert_same_index(engine, SearchEngine(papers))


def test_a_helper_that_cannot_start_costs_only_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_build.sys, "executable", "/nonexistent/python")
    papers = many_papers(300)
    builder = fed(papers)
    assert "did not start" in builder.fallback
    assert_same_index(builder.engine(papers), SearchEngine(papers))


def test_cancel_stops_the_helper_and_the_build() -> None:
    papers = many_papers(CHUNK + 1)
    builder = fed(papers)
    proc = builder._proc
    builder.cancel()
    assert proc is not None and proc.poll() is not None  # the process is gone, not left running
    with pytest.raises(BuildCancelled):
        builder.engine(papers)


def test_a_cache_hit_stops_the_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_cache, "MIN_PAPERS", 10)
    papers = many_papers(500)
    first = index_cache.cached_engine(papers, tmp_path, builder=fed(papers))
    assert list(tmp_path.glob("*.npz"))  # built by the helper, saved
    builder = fed(papers)
    proc = builder._proc
    again = index_cache.cached_engine(papers, tmp_path, builder=builder)
    assert proc is not None and proc.poll() is not None
    assert_same_index(again, first)


def test_start_for_only_big_readable_digests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert IndexBuilder.start_for([bundled_digest()]) is None  # 200 KB: indexed here in milliseconds
    assert IndexBuilder.start_for([tmp_path / "missing.txt"]) is None  # the loader reports that
    monkeypatch.setattr(index_build, "MIN_BYTES", 1000)
    builder = IndexBuilder.start_for([bundled_digest()])
    assert builder is not None
    builder.close()


def test_cli_search_with_the_helper_prints_what_it_prints_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.txt"
    path.write_text("".join(f"{p.title}\n{p.abstract}\n" for p in many_papers(CHUNK + 700)), encoding="utf-8")
    monkeypatch.setenv("PAPER_READER_CACHE", str(tmp_path / "cache"))
    outputs = {}
    for helper in (False, True):
        monkeypatch.setattr(index_build, "MIN_BYTES", 0 if helper else 1 << 40)
        monkeypatch.setenv("PAPER_READER_CACHE", str(tmp_path / f"cache-{helper}"))  # built, not loaded
        for query in ("graph diffusion x5020", "'x5020"):
            assert main(["search", query, str(path), "--db", str(tmp_path / "s.json"), "--limit", "50"]) == 0
            outputs[helper, query] = capsys.readouterr().out
    assert outputs[True, "graph diffusion x5020"] == outputs[False, "graph diffusion x5020"]
    assert outputs[True, "graph diffusion x5020"].count("\n") >= 3
    assert outputs[True, "'x5020"] == outputs[False, "'x5020"]
    [line] = outputs[True, "'x5020"].splitlines()
    assert line.startswith(paper_id(many_papers(CHUNK + 700)[5020].title))


def test_cli_search_on_a_digest_repeating_papers_prints_the_same_with_the_helper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Later copies bring longer abstracts (one with a word no other paper has, one dropping a word
    # only its first copy had): the helper's index must answer as one built after the parse.
    papers = many_papers(2 * CHUNK + 300)
    papers[9].abstract += " wombat"
    again = [
        (papers[9].title, papers[9].abstract.replace(" wombat", "") + " a longer copy: quokka Schrödinger ﬁne"),
        (papers[CHUNK + 3].title, papers[CHUNK + 3].abstract + " and Padé naïve x7 again"),
    ]
    path = tmp_path / "big.txt"
    path.write_text("".join(f"{t}\n{a}\n" for t, a in [(p.title, p.abstract) for p in papers] + again), "utf-8")
    outputs = {}
    for helper in (False, True):
        monkeypatch.setattr(index_build, "MIN_BYTES", 0 if helper else 1 << 40)
        monkeypatch.setenv("PAPER_READER_CACHE", str(tmp_path / f"cache-{helper}"))
        for query in ("quokka", "'wombat", "schrodinger fine", "pade naive x7", "graph diffusion x7"):
            assert main(["search", query, str(path), "--db", str(tmp_path / "s.json"), "--limit", "50"]) in (0, 1)
            outputs[helper, query] = capsys.readouterr().out
    for query in ("quokka", "'wombat", "schrodinger fine", "pade naive x7", "graph diffusion x7"):
        assert outputs[True, query] == outputs[False, query], query
    assert outputs[True, "quokka"].startswith(paper_id(papers[9].title))
    assert outputs[True, "'wombat"] == ""


async def test_app_loading_a_big_digest_searches_with_the_helpers_index(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    papers = many_papers(CHUNK + 700)
    path.write_text("".join(f"{p.title}\n{p.abstract}\n" for p in papers), encoding="utf-8")
    builder = IndexBuilder()
    app = PaperReaderApp(Library(), Store(tmp_path / "s.json"), loader=LibraryLoader([path]), builder=builder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        engine = await app.index_ready()
        assert builder.fallback == ""
        assert app.builder is None  # handed over and done with
        assert_same_index(engine, SearchEngine(load_library([path]).papers))
        assert app.collection.papers[int(engine.search("x5555").indices[0])].abstract.startswith(papers[5555].title)


def test_no_helper_when_the_index_is_probably_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A second run on the same files loads the index from the cache: a helper would only burn a core.
    monkeypatch.setattr(index_build, "MIN_BYTES", 0)
    monkeypatch.setattr(index_cache, "MIN_PAPERS", 10)
    monkeypatch.setenv("PAPER_READER_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "d.txt"
    path.write_text("".join(f"{p.title}\n{p.abstract}\n" for p in many_papers(300)), encoding="utf-8")
    first = IndexBuilder.start_for([path])
    assert first is not None
    args = ["search", "graph", str(path), "--db", str(tmp_path / "s.json")]
    assert main(args) == 0  # builds the index (with a helper) and caches it
    first.close()
    assert IndexBuilder.start_for([path]) is None
    assert IndexBuilder.start_for([path], "latin-1") is not None  # read another way: other papers
    os.utime(path, ns=(1, 1))  # changed (or just touched): the guess is off, a helper starts
    builder = IndexBuilder.start_for([path])
    assert builder is not None
    builder.close()
    assert main(args) == 0
    assert IndexBuilder.start_for([path]) is None
    for entry in (tmp_path / "cache" / index_cache.SUBFOLDER / "segments").glob("*.seg"):
        entry.unlink()  # the segment went (pruned): the hint leads nowhere
    builder = IndexBuilder.start_for([path])
    assert builder is not None
    builder.close()
