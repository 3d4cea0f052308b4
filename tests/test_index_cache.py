"""The on-disk index cache: a loaded index behaves as a built one; a bad or stale entry is never used."""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reader import digest
from reader.digest import bundled_digest, load_library
from reader.index import cache as index_cache
from reader.index import storage
from reader.index.cache import cached_engine, papers_key
from reader.index.engine import SearchEngine
from reader.index.highlight import title_spans
from reader.index.storage import IndexFileError
from reader.index.tokenizer import fold_words
from reader.paper import Paper

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

QUERIES = [
    "neural operator",
    "nueral opertor",
    "mathemat reason",
    "reinforcment lerning",
    "transf",
    "'former",
    '"language model"',
    "-learning graph",
    "llm agent",
    "x",
    "zzzzqqq",
    "",
]


@pytest.fixture(scope="module")
def real_papers() -> list[Paper]:
    return load_library([bundled_digest()]).papers


@pytest.fixture(scope="module")
def synthetic_papers(real_papers: list[Paper]) -> list[Paper]:
    """10k papers: the benchmark generator's digest when it is there, else the real digest reshuffled."""
    path = ROOT / "benchmarks" / "data" / "papers-10k.txt"
    if path.exists():
        return load_library([path]).papers
    rng = np.random.default_rng(7)
    words = np.array(" ".join(p.title + " " + p.abstract for p in real_papers).split())
    papers = []
    for k in range(10_000):
        title = " ".join(rng.choice(words, int(rng.integers(3, 12))))
        abstract = " ".join(rng.choice(words, int(rng.integers(20, 120))))
        papers.append(Paper(f"p{k}", title, abstract, "synthetic", k, k % 97 == 0))
    return papers


def assert_same(built: SearchEngine, loaded: SearchEngine) -> None:
    assert loaded.n == built.n
    assert loaded.words == built.words and loaded.sorted_words == built.sorted_words
    assert np.array_equal(loaded.in_files, built.in_files)
    for query in QUERIES:
        a, b = built.search(query), loaded.search(query)
        assert np.array_equal(a.indices, b.indices), query
        assert np.array_equal(a.scores, b.scores), query
        for i in a.indices[:40].tolist():
            paper = built.papers[i]
            assert title_spans(built, paper, query) == title_spans(loaded, paper, query), query


@pytest.mark.parametrize("which", ["real", "synthetic"])
def test_loaded_index_is_the_built_one(which: str, request: pytest.FixtureRequest) -> None:
    papers = request.getfixturevalue(f"{which}_papers")
    built = SearchEngine(papers)
    buffer = io.BytesIO()
    storage.save(built, buffer, key="k")
    buffer.seek(0)
    assert_same(built, storage.load(buffer, papers, key="k"))


def test_empty_library_round_trips(tmp_path: Path) -> None:
    built = SearchEngine([])
    storage.save(built, tmp_path / "e.npz")
    loaded = storage.load(tmp_path / "e.npz", [])
    assert loaded.n == 0 and loaded.words == [] and len(loaded.search("x")) == 0


def test_load_refuses_other_papers_and_keys(real_papers: list[Paper], tmp_path: Path) -> None:
    path = tmp_path / "i.npz"
    storage.save(SearchEngine(real_papers), path, key="abc")
    with pytest.raises(IndexFileError):
        storage.load(path, real_papers[:-1], key="abc")
    with pytest.raises(IndexFileError):
        storage.load(path, real_papers, key="abd")


def test_load_needs_no_pickle(real_papers: list[Paper], tmp_path: Path) -> None:
    path = tmp_path / "i.npz"
    storage.save(SearchEngine(real_papers), path)
    with np.load(path, allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)


# -- the cache ----------------------------------------------------------------------------
@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cache even the real digest (164 papers), so that tests stay fast."""
    monkeypatch.setattr(index_cache, "MIN_PAPERS", 1)


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.npz"))


def test_second_call_loads_the_entry(real_papers, tmp_path, small_threshold, monkeypatch) -> None:
    first = cached_engine(real_papers, tmp_path)
    [entry] = entries(tmp_path)
    assert entry.stem == papers_key(real_papers)
    built: list[int] = []
    monkeypatch.setattr(SearchEngine, "__init__", lambda self, papers: built.append(1) or pytest.fail("rebuilt"))
    second = cached_engine(real_papers, tmp_path)
    assert not built
    monkeypatch.undo()
    assert_same(first, second)
    assert not list(tmp_path.glob(".paper-reader-tmp-*"))


def test_env_var_picks_the_folder(real_papers, tmp_path, small_threshold, monkeypatch) -> None:
    monkeypatch.setenv("PAPER_READER_CACHE", str(tmp_path / "c"))
    cached_engine(real_papers)
    assert len(entries(tmp_path / "c" / index_cache.SUBFOLDER)) == 1
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["paper-reader-index"]


def test_pruning_touches_no_file_of_the_users(real_papers, tmp_path, small_threshold, monkeypatch) -> None:
    # PAPER_READER_CACHE pointed at a folder the user keeps other things in, old ones too.
    shared = tmp_path / "shared"
    shared.mkdir()
    theirs = {
        "model1.npz": np.zeros(1000).tobytes(),
        "model2.npz": b"PK\x03\x04 not ours",
        "README.hint": b"where the models came from",
        ".tmp-notes": b"half-written notes",
        f"{'a' * 40}.npz": b"a file that only looks like an entry",
    }
    for name, data in theirs.items():
        (shared / name).write_bytes(data)
        os.utime(shared / name, (1000, 1000))  # older than any entry, and than STALE_TEMP_S
    ours = shared / "paper-reader-index"
    ours.mkdir()
    (ours / f"{'b' * 40}.npz").write_bytes(b"the user's file, in our folder under our kind of name")
    (ours / ".paper-reader-tmp-notes.npz").write_bytes(b"not a zip: not ours")
    (ours / ".paper-reader-tmp-x.npz").write_bytes(b"PK\x03\x04")  # ours, left by a killed process
    for path in ours.iterdir():
        os.utime(path, (1000, 1000))
    monkeypatch.setenv("PAPER_READER_CACHE", str(shared))
    monkeypatch.setattr(index_cache, "KEEP", 2)
    for k in range(4):
        cached_engine([dataclasses.replace(real_papers[0], title=f"version {k}"), *real_papers[1:]])
    assert {p.name: p.read_bytes() for p in shared.iterdir() if p.is_file()} == theirs
    left = sorted(p.name for p in ours.iterdir())
    assert f"{'b' * 40}.npz" in left and ".paper-reader-tmp-notes.npz" in left
    assert ".paper-reader-tmp-x.npz" not in left
    assert len([name for name in left if index_cache.is_entry(ours / name)]) == 2


def test_small_libraries_are_not_cached(real_papers, tmp_path) -> None:
    cached_engine(real_papers, tmp_path)
    assert not entries(tmp_path)


@pytest.mark.parametrize(
    "damage", ["truncate", "flip", "empty", "garbage", "altered arrays", "other papers", "other key"]
)
def test_a_bad_entry_is_rebuilt_and_overwritten(real_papers, tmp_path, small_threshold, damage) -> None:
    good = cached_engine(real_papers, tmp_path)
    [entry] = entries(tmp_path)
    data = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "flip":  # one bit in the middle of the arrays: the CRC catches it
        middle = len(data) // 2
        entry.write_bytes(data[:middle] + bytes([data[middle] ^ 0x10]) + data[middle + 1 :])
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "garbage":
        entry.write_bytes(os.urandom(5000))
    elif damage == "altered arrays":  # rewritten with sound CRCs, types, shapes and ranges: the checksum catches it
        with np.load(entry, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        docs = arrays["title_docs"].copy()
        docs[len(docs) // 2] = (docs[len(docs) // 2] + 1) % len(real_papers)
        arrays["title_docs"] = docs
        with open(entry, "wb") as f:
            np.savez(f, **arrays)
        with pytest.raises(IndexFileError, match="checksum"):
            storage.load(entry, real_papers, key=entry.stem)
    elif damage == "other papers":  # a sound index of other papers under this key: spot checks catch it
        other = [dataclasses.replace(p, title=p.title + " zebra") for p in real_papers]
        with open(entry, "wb") as f:
            storage.save(SearchEngine(other), f, key=entry.stem)
    else:  # sound, but written for another key
        with open(entry, "wb") as f:
            storage.save(SearchEngine(real_papers), f, key="0" * 40)
    engine = cached_engine(real_papers, tmp_path)
    assert_same(good, engine)
    assert entry.read_bytes() == data  # overwritten with a sound entry
    storage.load(entry, real_papers, key=entry.stem)


def test_an_edited_abstract_misses_the_stale_entry(real_papers, tmp_path, small_threshold) -> None:
    cached_engine(real_papers, tmp_path)
    edited = list(real_papers)
    edited[80] = dataclasses.replace(edited[80], abstract=edited[80].abstract + " quokka")
    assert papers_key(edited) != papers_key(real_papers)
    engine = cached_engine(edited, tmp_path)
    assert engine.search("quokka").indices.tolist() == [80]
    assert len(entries(tmp_path)) == 2


def test_an_edited_digest_file_misses_the_stale_entry(tmp_path, small_threshold) -> None:
    digest = tmp_path / "digest.txt"
    digest.write_bytes(Path(bundled_digest()).read_bytes())
    cache = tmp_path / "cache"
    before = cached_engine(load_library([digest]).papers, cache)
    assert len(before.search("'quokkadile")) == 0
    text = digest.read_text(encoding="utf-8")
    papers = load_library([digest]).papers
    target = papers[10].abstract.split()[3]
    digest.write_text(text.replace(target, "quokkadile", 1), encoding="utf-8")
    after = cached_engine(load_library([digest]).papers, cache)
    assert len(after.search("'quokkadile")) == 1
    assert len(entries(cache)) == 2


@pytest.mark.parametrize(
    "change",
    [
        lambda ps: ps[:-1],
        lambda ps: ps[1:] + ps[:1],  # same papers, another order
        lambda ps: [dataclasses.replace(ps[0], title=ps[0].title + "x"), *ps[1:]],
        lambda ps: [dataclasses.replace(ps[0], id=ps[0].id + "x"), *ps[1:]],
        lambda ps: [dataclasses.replace(ps[0], from_store=True), *ps[1:]],
        # Text moved between fields or papers keeps the concatenation but not the key.
        lambda ps: [
            dataclasses.replace(ps[0], title=ps[0].title + ps[0].abstract[:1], abstract=ps[0].abstract[1:]),
            *ps[1:],
        ],
        lambda ps: [
            dataclasses.replace(ps[0], abstract=ps[0].abstract + ps[1].id[:1]),
            dataclasses.replace(ps[1], id=ps[1].id[1:]),
            *ps[2:],
        ],
    ],
)
def test_the_key_changes_with_any_change(real_papers, change) -> None:
    assert papers_key(change(list(real_papers))) != papers_key(real_papers)


def test_the_key_follows_the_index_format(real_papers) -> None:
    before = papers_key(real_papers)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(storage, "INDEX_FORMAT", storage.INDEX_FORMAT + 1)
        index_cache.fingerprint.cache_clear()
        after = papers_key(real_papers)
    index_cache.fingerprint.cache_clear()
    assert after != before
    assert papers_key(real_papers) == before


def test_the_key_follows_what_the_parse_made_of_the_digests(real_papers) -> None:
    # The digests' bytes are the same; the parser (another version of it) cut them otherwise.
    n = len(real_papers)
    before = papers_key(real_papers, "digests-hash", n)
    moved = [
        dataclasses.replace(real_papers[0], abstract=real_papers[0].abstract + " " + real_papers[1].title),
        dataclasses.replace(real_papers[1], title=real_papers[1].title[:5]),
        *real_papers[2:],
    ]
    assert papers_key(moved, "digests-hash", n) != before
    assert papers_key(list(real_papers), "digests-hash", n) == before


_KEY_OF_THE_BUNDLED_DIGEST = """
from reader import digest
from reader.digest import bundled_digest, load_library
from reader.index.cache import papers_key
library = load_library([bundled_digest()])
print(papers_key(library.papers, library.content_key, len(library.papers)))
"""


def test_the_key_does_not_follow_the_source_of_other_code(tmp_path) -> None:
    # Editing the highlighter or the engine's ranking must not throw every user's cached index away.
    def key_with(package: Path) -> str:
        env = {**os.environ, "PYTHONPATH": str(package.parent)}
        done = subprocess.run([sys.executable, "-c", _KEY_OF_THE_BUNDLED_DIGEST], env=env, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode().strip()

    copy = tmp_path / "copy" / "reader"
    shutil.copytree(ROOT / "reader", copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = key_with(copy)
    for name in ("highlight.py", "engine.py", "similar.py"):
        with open(copy / "index" / name, "a", encoding="utf-8") as f:
            f.write("\n# an edit that does not change the index\n")
    assert len(before) == 40 and key_with(copy) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes to read-only folders")
def test_read_only_cache_folder_still_works(real_papers, tmp_path, small_threshold) -> None:
    tmp_path.chmod(0o500)
    try:
        assert_same(SearchEngine(real_papers), cached_engine(real_papers, tmp_path))
    finally:
        tmp_path.chmod(0o700)


def test_unwritable_cache_location_still_works(real_papers, tmp_path, small_threshold) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    engine = cached_engine(real_papers, blocker / "index")  # mkdir fails: a file is in the way
    assert_same(SearchEngine(real_papers), engine)
    engine = cached_engine(real_papers, "/proc/paper-reader-index")  # not creatable, even as root
    assert len(engine.search("neural")) > 0


def test_a_failing_save_leaves_no_temporary_file(real_papers, tmp_path, small_threshold, monkeypatch) -> None:
    def broken(engine, file, key=""):
        file.write(b"half an entry")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage, "save", broken)
    engine = cached_engine(real_papers, tmp_path)
    assert len(engine.search("neural")) > 0
    assert list(tmp_path.iterdir()) == []


def test_old_entries_are_pruned(real_papers, tmp_path, small_threshold, monkeypatch) -> None:
    monkeypatch.setattr(index_cache, "KEEP", 3)
    for k in range(5):
        papers = [dataclasses.replace(real_papers[0], title=f"version {k}"), *real_papers[1:]]
        cached_engine(papers, tmp_path)
        for n, entry in enumerate(entries(tmp_path)):  # distinct, increasing times of use
            os.utime(entry, (1000 + k * 10 + n, 1000 + k * 10 + n))
        newest = tmp_path / f"{papers_key(papers)}.npz"
        os.utime(newest, (5000 + k, 5000 + k))
    assert len(entries(tmp_path)) == 3
    assert newest.exists()


def test_cli_search_uses_the_cache(tmp_path, monkeypatch, capsys) -> None:
    from reader.cli import main

    monkeypatch.setenv("PAPER_READER_CACHE", str(tmp_path / "cache"))
    args = ["search", "nueral opertor", "--limit", "5", "--db", str(tmp_path / "store.json")]
    assert main(args) in (0, None)
    first = capsys.readouterr().out
    segments = tmp_path / "cache" / index_cache.SUBFOLDER / "segments"
    [entry] = segments.glob("*.seg")  # the sample digest's segment: its papers and their index
    monkeypatch.setattr(SearchEngine, "__init__", lambda self, papers: pytest.fail("rebuilt"))
    monkeypatch.setattr(digest, "iter_entries", lambda *args: pytest.fail("parsed again"))
    assert main(args) in (0, None)
    assert capsys.readouterr().out == first and len(first.splitlines()) == 5
    assert list(segments.glob("*.seg")) == [entry]


def test_an_entry_of_the_layout_before_checksums_is_still_ours_to_prune(tmp_path: Path) -> None:
    path = tmp_path / f"{'a' * 40}.npz"
    with open(path, "wb") as f:
        np.savez(f, **{name: np.zeros(1, dtype=np.int64) for name in storage.OLD_MEMBERS})
    assert index_cache.is_entry(path)
    with pytest.raises(IndexFileError):
        storage.load(path, [])


def test_the_spot_check_finds_papers_whose_words_are_not_the_indexed_ones(real_papers: list[Paper]) -> None:
    built = SearchEngine(real_papers)
    assert storage.indexes_their_words(built, storage.SPOT_CHECKS)
    moved = real_papers[1:] + real_papers[:1]  # each paper's place holds another paper's words
    tables = (built.title_postings, built.abstract_postings)
    other = SearchEngine.from_index(moved, built.words, *tables, built.ascii_only, built.sorted_ids)
    as_many = {  # word counts that match, so that only the words themselves can tell
        which: np.array([len(set(fold_words(getattr(p, which)))) for p in moved]) for which in ("title", "abstract")
    }
    assert not storage.indexes_their_words(other, storage.SPOT_CHECKS, as_many)
