"""cached_engine's ``ready`` callback: search is usable as soon as the index is, before the cache entry is written.

The app hands ``ready`` to Collection.build_index to show "search ready" early: it must be
called exactly once, with the very engine returned, whether the index was built (cache
miss: before the entry is saved), loaded (cache hit), or not cached at all.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest

from reader import locations
from reader.collection import Collection
from reader.digest import bundled_digest, load_library
from reader.index import cache as index_cache
from reader.index import storage
from reader.index.cache import cached_engine, papers_key
from reader.index.engine import SearchEngine
from reader.paper import Paper
from reader.store import Store

QUERIES = ["operator", "neural operator", "nueral opertor", "'relu", '"language model"', "transf"]


@pytest.fixture(scope="module")
def real_papers() -> list[Paper]:
    return load_library([bundled_digest()]).papers


@pytest.fixture(scope="module")
def built(real_papers: list[Paper]) -> SearchEngine:
    return SearchEngine(real_papers)


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cache even the real digest (164 papers)."""
    monkeypatch.setattr(index_cache, "MIN_PAPERS", 10)


def cache_files(directory: Path) -> list[Path]:
    """Entries and temporary files, anywhere under ``directory``."""
    return sorted(p for p in directory.rglob("*") if p.suffix == ".npz" or p.name.startswith(".paper-reader-tmp-"))


class Ready:
    """A ``ready`` callback that records each engine, what the cache folder held then, and its answers."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.engines: list[SearchEngine] = []
        self.files_then: list[list[Path]] = []
        self.answers: list[dict[str, list[int]]] = []

    def __call__(self, engine: SearchEngine) -> None:
        self.engines.append(engine)
        self.files_then.append(cache_files(self.cache_dir))
        self.answers.append({q: engine.search(q).indices.tolist() for q in QUERIES})


def assert_searches_like(answers: dict[str, list[int]], built: SearchEngine) -> None:
    for query, indices in answers.items():
        assert indices == built.search(query).indices.tolist(), query
    assert answers["operator"]  # not an empty engine


def test_a_miss_is_ready_before_the_entry_is_written(real_papers, built, tmp_path, small_threshold) -> None:
    ready = Ready(tmp_path)
    engine = cached_engine(real_papers, tmp_path, ready=ready)
    assert len(ready.engines) == 1 and ready.engines[0] is engine
    assert ready.files_then == [[]]  # neither the entry nor its temporary file yet
    assert_searches_like(ready.answers[0], built)
    # ...and the entry was written after: the next start is a hit.
    assert cache_files(tmp_path) == [tmp_path / f"{papers_key(real_papers)}.npz"]


def test_a_hit_is_ready_once_with_the_loaded_engine(real_papers, built, tmp_path, small_threshold, monkeypatch) -> None:
    cached_engine(real_papers, tmp_path)
    [entry] = cache_files(tmp_path)
    data = entry.read_bytes()
    monkeypatch.setattr(SearchEngine, "__init__", lambda self, papers: pytest.fail("built, not loaded"))
    ready = Ready(tmp_path)
    engine = cached_engine(real_papers, tmp_path, ready=ready)
    monkeypatch.undo()
    assert len(ready.engines) == 1 and ready.engines[0] is engine
    assert ready.files_then == [[entry]]
    assert entry.read_bytes() == data  # not written again
    assert_searches_like(ready.answers[0], built)


def test_a_small_library_is_ready_once_and_not_cached(real_papers, built, tmp_path) -> None:
    assert len(real_papers) < index_cache.MIN_PAPERS
    ready = Ready(tmp_path)
    engine = cached_engine(real_papers, tmp_path, ready=ready)
    assert len(ready.engines) == 1 and ready.engines[0] is engine
    assert_searches_like(ready.answers[0], built)
    assert cache_files(tmp_path) == []


def test_an_empty_library_is_ready_once(tmp_path, small_threshold) -> None:
    ready = Ready(tmp_path)
    engine = cached_engine([], tmp_path, ready=ready)
    assert ready.engines == [engine] and engine.n == 0
    assert ready.answers == [{q: [] for q in QUERIES}]


def test_a_bad_entry_is_rebuilt_and_ready_before_it_is_rewritten(real_papers, built, tmp_path, small_threshold) -> None:
    cached_engine(real_papers, tmp_path)
    [entry] = cache_files(tmp_path)
    good = entry.read_bytes()
    damaged = good[: len(good) // 2]
    entry.write_bytes(damaged)
    seen_on_disk: list[bytes] = []
    ready = Ready(tmp_path)

    def callback(engine: SearchEngine) -> None:
        seen_on_disk.append(entry.read_bytes())
        ready(engine)

    engine = cached_engine(real_papers, tmp_path, ready=callback)
    assert ready.engines == [engine]
    assert seen_on_disk == [damaged]  # ready came first, the entry was rewritten after
    assert_searches_like(ready.answers[0], built)
    assert entry.read_bytes() != damaged
    assert np.array_equal(storage.load(entry, real_papers).search("operator").indices, built.search("operator").indices)


def test_an_unwritable_cache_is_still_ready_once(real_papers, built, tmp_path, small_threshold) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("in the way")
    ready = Ready(tmp_path)
    engine = cached_engine(real_papers, not_a_folder, ready=ready)
    assert ready.engines == [engine]
    assert_searches_like(ready.answers[0], built)
    assert cache_files(tmp_path) == []


def test_a_raising_callback_is_not_called_again(real_papers, tmp_path, small_threshold) -> None:
    calls: list[SearchEngine] = []

    def boom(engine: SearchEngine) -> None:
        calls.append(engine)
        raise RuntimeError("ui gone")

    with contextlib.suppress(RuntimeError):
        cached_engine(real_papers, tmp_path, ready=boom)
    assert len(calls) == 1


def test_the_app_path_miss_then_hit(built, tmp_path, small_threshold, monkeypatch) -> None:
    # As the app does it: a Collection over the loaded digests builds its index with ``ready``.
    monkeypatch.setenv(locations.CACHE_ENV, str(tmp_path / "cache"))
    events: list[tuple[str, int]] = []

    def start() -> tuple[Collection, SearchEngine]:
        collection = Collection(load_library([bundled_digest()]), Store(tmp_path / "store.json"), index=False)
        ready = Ready(tmp_path)
        engine = collection.build_index(ready=ready)
        events.append(("ready", len(ready.engines)))
        assert ready.engines == [engine] and collection.engine is engine
        assert_searches_like(ready.answers[0], built)
        return collection, ready

    _, first = start()
    assert first.files_then == [[]]
    [entry] = cache_files(tmp_path)
    monkeypatch.setattr(SearchEngine, "__init__", lambda self, papers: pytest.fail("built, not loaded"))
    _, second = start()
    assert second.files_then == [[entry]]
    assert events == [("ready", 1), ("ready", 1)]
