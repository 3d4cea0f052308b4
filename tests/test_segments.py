"""Per-file segments (issue 14): each digest file parsed and indexed once, cached, and combined on open.

Every test opens real files under tmp_path through the path the app and the CLI use
(``read_digests``: LibraryLoader with a segment cache), and compares what it gets with a
cold parse (``load_library``, no cache) and a single index built over the same papers.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
import zipfile
from pathlib import Path

import pytest
from conftest import ABSTRACT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reader import digest
from reader.app import PaperReaderApp
from reader.core.opening import read_digests
from reader.digest import Library, LibraryLoader, bundled_digest, load_library
from reader.index.engine import SearchEngine
from reader.index.merge import combine_snapshots
from reader.index.segment import BULK, LoadCancelled, RawIndex
from reader.index.segments import FILE_SUFFIX, SET_SUFFIX, SegmentCache, default_dir, stat_signature
from reader.paper import Paper
from reader.store import Store
from tests.app_support import SIZE, settle

QUERIES = [
    "neural operator",
    "nueral opertor",
    "mathemat reason",
    "transf",
    "'former",
    '"language model"',
    "-learning graph",
    "llm agent",
    "x",
    "s",
    "zzzzqqq",
    "",
]


def open_engine(paths: list[Path]) -> tuple[Library, SearchEngine]:
    """The files as the app and the CLI open them (segments), with the engine over their papers, cached after."""
    library = read_digests(paths)
    raw = library.raw_index()
    assert raw is not None
    engine = SearchEngine.from_index(library.papers, *combine_snapshots(raw, library.papers, len(library.papers)))
    library.save_segments()
    return library, engine


def cold(paths: list[Path]) -> tuple[Library, SearchEngine]:
    """A cold parse, no cache at all, and one index built over its papers."""
    library = load_library(paths)
    return library, SearchEngine(library.papers)


def papers_of(library: Library) -> list[tuple]:
    return [(p.id, p.title, p.abstract, p.source, p.order, p.meta) for p in library.papers]


def assert_same(got: tuple[Library, SearchEngine], want: tuple[Library, SearchEngine], queries=QUERIES) -> None:
    (library, engine), (expected, single) = got, want
    assert papers_of(library) == papers_of(expected)
    assert library.warnings == expected.warnings
    assert library.also_in == expected.also_in
    assert library.files == expected.files
    assert sorted(engine.words) == sorted(single.words)  # no word only a dropped copy had
    for word, wid in single.vocab.items():  # the same papers under every word, in order
        mine = engine.vocab[word]
        assert engine.title_postings[mine].tolist() == single.title_postings[wid].tolist(), word
        assert engine.abstract_postings[mine].tolist() == single.abstract_postings[wid].tolist(), word
    assert engine.ascii_only.tolist() == single.ascii_only.tolist()
    for query in queries:
        a, b = engine.search(query), single.search(query)
        assert a.indices.tolist() == b.indices.tolist(), query
        assert a.scores.tolist() == b.scores.tolist(), query
        assert a.partial.tolist() == b.partial.tolist(), query
        assert a.missing == b.missing, query


def entries(suffix: str) -> list[Path]:
    return sorted(default_dir().glob(f"*{suffix}"))


def write(path: Path, papers: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{t}\n{a}\n" for t, a in papers), encoding="utf-8")
    return path


def day(k: int, count: int = 30, seed: int = 0) -> list[tuple[str, str]]:
    rnd = random.Random(seed * 1000 + k)
    words = ABSTRACT.replace(".", " ").replace(",", " ").split()
    return [
        (
            f"{' '.join(rnd.choice(words) for _ in range(6))} day{k} n{n}",
            f"{' '.join(rnd.choice(words) for _ in range(40))} word{k}x{n}.",
        )
        for n in range(count)
    ]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    days = tmp_path / "digests"
    days.mkdir()
    for k in range(6):
        write(days / f"2025-01-0{k + 1}.txt", day(k))
    return days


def test_the_real_digest_round_trips_through_its_segment(tmp_path: Path) -> None:
    sample = tmp_path / "trending.txt"
    shutil.copy(bundled_digest(), sample)
    first = open_engine([sample])
    [segment] = entries(FILE_SUFFIX)
    assert_same(first, cold([sample]))
    again = open_engine([sample])  # from the segment now
    assert_same(again, cold([sample]))
    assert entries(FILE_SUFFIX) == [segment]


def test_reopening_an_unchanged_file_parses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sample = tmp_path / "trending.txt"
    shutil.copy(bundled_digest(), sample)
    open_engine([sample])
    monkeypatch.setattr(digest, "iter_entries", lambda *args: pytest.fail("parsed again"))
    monkeypatch.setattr(RawIndex, "build", lambda papers: pytest.fail("indexed again"))
    library, engine = open_engine([sample])
    assert len(library.papers) == 164 and len(engine.search("neural operator")) > 0


def test_a_segment_from_other_parsing_rules_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading rules changed (reader.sources.reading.PARSE_FORMAT): the file is parsed again."""
    from reader.sources import reading

    sample = tmp_path / "trending.txt"
    shutil.copy(bundled_digest(), sample)
    open_engine([sample])
    [before] = entries(FILE_SUFFIX)
    monkeypatch.setattr(reading, "PARSE_FORMAT", reading.PARSE_FORMAT + 1)
    parsed = []
    real = digest.iter_entries
    monkeypatch.setattr(digest, "iter_entries", lambda *args: parsed.append(1) or real(*args))
    library, _engine = open_engine([sample])
    assert parsed, "the old rules' segment was used"
    assert len(library.papers) == 164
    assert before in entries(FILE_SUFFIX) and len(entries(FILE_SUFFIX)) == 2


HOSTILE = [
    ("Escapes \x1b[31mred\x1b[0m and \x1b]52;c;aGk=\x07 OSC", "An abstract with \x1b[2J a clear screen. " * 3),
    ("[b]Markup[/b] [@click=app.quit]x[/] [/", "Brackets [27] and [link=x]y[/link] stay text, of course."),
    ("Huge", "big " * 250_000 + "needleword."),
    (
        "Ünïcödé ﬁ ligature — Ωmega μ café",
        "Zero\u200bwidth, combining e\u0301, bidi \u202eevil\u202c, CJK 漢字, emoji 🧪.",
    ),
    ("Unit\x1fseparator and \x00 nul", "A text holding the joiner \x1f the segment uses on disk, twice \x1f."),
    ("Surrogate-free but astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "Mathematical 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 letters and a Greek ε φ."),
    ("Same title twice", "The short one."),
    ("Same title twice", "The longer abstract of the same paper, which wins."),
    ("Title with no abstract", ""),
]


def test_hostile_text_round_trips_through_its_segment(tmp_path: Path) -> None:
    path = tmp_path / "hostile.txt"
    path.write_text("".join(f"{t}\n{a}\n" for t, a in HOSTILE), encoding="utf-8")
    queries = [*QUERIES, "needleword", "cafe", "漢字", "evil", "longer", "'[27]", "separator", "mathematical"]
    open_engine([path])
    again = open_engine([path])
    assert_same(again, cold([path]), queries)
    assert any("1" in w or "title" in w for w in again[0].warnings)  # the odd entries are still reported


def test_a_json_lines_file_keeps_its_meta_through_its_segment(tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl"
    records = [
        {
            "arxiv_id": "2405.00001",
            "title": "Neural operators",
            "abstract": "Maps between spaces.",
            "authors": ["Ada L"],
        },
        {"arxiv_id": "2405.00002", "title": "Graph diffusion", "abstract": "Sparse graphs.", "upvotes": 7},
        {"arxiv_id": "2405.00001", "title": "Neural operators, retitled", "abstract": "A longer abstract, kept."},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    open_engine([path])
    library, engine = open_engine([path])
    assert_same((library, engine), cold([path]))
    assert [p.public_id for p in library.papers] == ["2405.00001", "2405.00002"]
    assert library.papers[0].meta is not None and library.papers[0].meta.authors == ("Ada L",)
    assert library.papers[0].abstract == "A longer abstract, kept."


@pytest.mark.parametrize("change", ["added", "changed", "removed", "renamed", "reordered"])
def test_files_changed_between_runs_give_what_a_cold_build_gives(folder: Path, change: str) -> None:
    open_engine([folder])  # the cache as yesterday left it
    files = sorted(folder.iterdir())
    if change == "added":
        write(folder / "2025-01-07.txt", day(6) + day(2)[:5])  # with papers seen before, too
    elif change == "changed":
        text = files[2].read_text(encoding="utf-8")
        files[2].write_text(text.replace("day2", "dayTWO", 3), encoding="utf-8")
    elif change == "removed":
        files[3].unlink()
    elif change == "renamed":
        files[1].rename(folder / "2024-12-31.txt")
    else:
        os.utime(files[0], ns=(1, 1))
    got = open_engine([folder])
    assert_same(got, cold([folder]), [*QUERIES, "dayTWO", "day6", "word3x4"])
    assert_same(open_engine([folder]), cold([folder]), [*QUERIES, "dayTWO", "day6"])  # and warm after it


def test_a_merged_run_is_saved_and_reused_with_the_next_days_file(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_engine([folder])  # six files: saved merged as well
    [merged] = entries(SET_SUFFIX)
    write(folder / "2025-01-07.txt", day(6))
    parsed: list[str] = []
    real = digest.iter_entries

    def spy(text, source, *args, **kwargs):
        parsed.append(os.path.basename(source))
        return real(text, source, *args, **kwargs)

    monkeypatch.setattr(digest, "iter_entries", spy)
    got = open_engine([folder])
    assert set(parsed) == {"2025-01-07.txt"}  # yesterday's merged run was read, not its files
    monkeypatch.setattr(digest, "iter_entries", real)
    assert_same(got, cold([folder]), [*QUERIES, "day6"])
    assert merged in entries(SET_SUFFIX)


def test_the_same_paper_in_two_files_is_one_paper(tmp_path: Path) -> None:
    one = write(tmp_path / "a.txt", [("Shared paper", "Short abstract with shortword."), ("Only in a", "Alpha.")])
    two = write(
        tmp_path / "b.txt",
        [("Only in b", "Beta."), ("SHARED   paper", "A longer abstract of the shared paper, with longword in it.")],
    )
    open_engine([one, two])
    library, engine = open_engine([one, two])  # from the segments
    assert [p.title for p in library.papers] == ["Shared paper", "Only in a", "Only in b"]
    shared = library.papers[0]
    assert shared.source == str(one) and "longword" in shared.abstract
    assert library.also_in == {shared.id: [str(two)]}
    assert engine.search("'longword").indices.tolist() == [0]
    assert len(engine.search("'shortword")) == 0  # the shorter copy's words are gone with it
    assert_same((library, engine), cold([one, two]), [*QUERIES, "longword", "shortword", "shared"])


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "foreign"])
def test_a_corrupt_segment_is_rebuilt(tmp_path: Path, damage: str) -> None:
    sample = tmp_path / "trending.txt"
    shutil.copy(bundled_digest(), sample)
    open_engine([sample])
    [segment] = entries(FILE_SUFFIX)
    data = segment.read_bytes()
    if damage == "truncate":
        segment.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        middle = len(data) // 2
        segment.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    elif damage == "empty":
        segment.write_bytes(b"")
    else:
        other = tmp_path / "other.txt"
        write(other, day(1))
        open_engine([other])
        [mine] = [e for e in entries(FILE_SUFFIX) if e != segment]
        segment.write_bytes(mine.read_bytes())  # a sound segment, of another file
    assert SegmentCache().load(segment.name[:40], [str(sample)]) is None  # found out
    got = open_engine([sample])
    assert_same(got, cold([sample]))
    assert SegmentCache().load(segment.name[:40], [str(sample)]) is not None  # rewritten whole


@pytest.mark.parametrize("member", sorted(BULK))
def test_a_segment_changed_in_its_bulk_is_found_out_even_with_its_times_put_back(tmp_path: Path, member: str) -> None:
    """The bulk of a segment (abstracts, long posting lists) is not CRC-checked on every open, only
    while the entry file is exactly as written: one byte changed in it, times restored, is still caught."""
    sample = tmp_path / "trending.txt"
    shutil.copy(bundled_digest(), sample)
    open_engine([sample])
    [segment] = entries(FILE_SUFFIX)
    key = segment.name[:40]
    assert SegmentCache().load(key, [str(sample)]) is not None  # sound, and sealed by now
    before = segment.stat()
    data = bytearray(segment.read_bytes())
    with zipfile.ZipFile(segment) as npz:
        info = npz.getinfo(f"{member}.npy")
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.file_size - info.file_size // 3] ^= 0x01  # inside the array, past its header
    segment.write_bytes(bytes(data))
    os.utime(segment, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert segment.stat().st_size == before.st_size and segment.stat().st_mtime_ns == before.st_mtime_ns
    assert SegmentCache().load(key, [str(sample)]) is None  # found out
    assert_same(open_engine([sample]), cold([sample]))  # and rebuilt


@pytest.mark.parametrize("seal", [b"\xff\xfe garbage", b"", b"1 2 3 4 5\n" * 1000, "other"])
def test_a_garbage_or_foreign_seal_only_costs_a_full_check(tmp_path: Path, seal: bytes | str) -> None:
    """A seal that is not this entry's own (garbage, empty, huge, another entry's) never lets a
    changed segment through: the entry is checked whole, used if sound, and sealed again."""
    sample = tmp_path / "trending.txt"
    shutil.copy(bundled_digest(), sample)
    other = write(tmp_path / "other.txt", day(2))
    open_engine([sample])
    open_engine([other])
    key = SegmentCache().file_key(stat_signature(sample, None))
    assert key is not None
    mine = SegmentCache().path(key)
    seal_path = mine.with_name(mine.name + ".seal")
    if seal == "other":
        [theirs] = [e for e in entries(FILE_SUFFIX) if e != mine]
        seal_path.write_bytes(theirs.with_name(theirs.name + ".seal").read_bytes())
    else:
        seal_path.write_bytes(seal)
    assert SegmentCache().load(mine.name[:40], [str(sample)]) is not None
    assert seal_path.read_text(encoding="ascii").split()[0] == str(mine.stat().st_size)  # sealed again
    assert_same(open_engine([sample]), cold([sample]))


def test_opening_one_file_after_another_keeps_the_cache_within_its_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file opened alone leaves its segment; the least recently used go once there are too many
    (not only when a merged run is written), and the ones kept still reopen."""
    from reader.index import segments

    monkeypatch.setattr(segments, "MAX_FILES", 2)
    files = [write(tmp_path / f"day{k}.txt", day(k)) for k in range(4)]
    for path in files:
        open_engine([path])
    kept = entries(FILE_SUFFIX)
    assert len(kept) == 2
    assert len(list(default_dir().glob("*.seal"))) == 2  # a seal goes with its entry
    assert_same(open_engine([files[-1]]), cold([files[-1]]))


def test_many_small_segments_open_keep_no_file_open(tmp_path: Path) -> None:
    """A folder of daily files reopened file by file (no merged run) holds no file descriptor per
    file while its papers are in use: years of days would run out of them."""
    days = tmp_path / "days"
    days.mkdir()
    for k in range(40):
        write(days / f"day{k:02d}.txt", day(k, count=5))
    for path in sorted(days.iterdir()):
        open_engine([path])  # one segment each, cached
    before = len(os.listdir("/proc/self/fd"))
    library, engine = open_engine(sorted(days.iterdir()))
    assert len(library.segments.parts) == 40  # not one merged run: each file's own segment
    assert len(os.listdir("/proc/self/fd")) - before < 5
    assert [p.abstract for p in library.papers] == [p.abstract for p in cold(sorted(days.iterdir()))[0].papers]


def test_other_files_in_the_cache_folder_are_never_touched(tmp_path: Path, folder: Path) -> None:
    directory = default_dir()
    directory.mkdir(parents=True, exist_ok=True)
    mine = {
        directory / ("a" * 40 + FILE_SUFFIX): b"not a segment, but named like one",
        directory / ("b" * 32 + ".fhint"): b"my notes",
        directory / "notes.txt": b"keep me",
    }
    for path, data in mine.items():
        path.write_bytes(data)
        os.utime(path, (1, 1))  # old: first in line if anything were pruned
    open_engine([folder])
    SegmentCache().prune()
    for path, data in mine.items():
        assert path.read_bytes() == data


def test_deleting_the_cache_is_safe(folder: Path) -> None:
    open_engine([folder])
    shutil.rmtree(default_dir().parent)
    assert_same(open_engine([folder]), cold([folder]))


# -- searches across segments equal a single index ------------------------------------------
WORDS = ["neural", "operator", "graph", "diffusion", "sparse", "learning", "maps", "model", "café", "x1", "𝔘"]
paper_text = st.lists(st.sampled_from(WORDS), min_size=0, max_size=8).map(" ".join)
file_papers = st.lists(st.tuples(st.integers(0, 12), paper_text), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.lists(file_papers, min_size=1, max_size=4),
    query=st.lists(st.sampled_from(WORDS + ["mod", "grap"]), max_size=3),
)
def test_searches_across_segments_equal_a_single_index(tmp_path_factory: pytest.TempPathFactory, files, query) -> None:
    """Files sharing papers (a title number picks the paper; abstracts differ) opened through
    segments, cold and cached, search exactly as one index over the combined papers."""
    where = tmp_path_factory.mktemp("prop")
    os.environ["PAPER_READER_CACHE"] = str(where / "cache")
    paths = []
    for k, papers in enumerate(files):
        lines = [(f"Paper number {n} {WORDS[n % len(WORDS)]}", f"{text} file{k}.") for n, text in papers]
        paths.append(write(where / f"{k}.txt", lines))
    text = " ".join(query)
    want = cold(paths)
    queries = [text, *query, *(f"'{w}" for w in query), f'"{text}"', f"-{text}"]
    for _ in range(2):  # built, then from the cache
        got = open_engine(paths)
        assert_same(got, want, queries)


def test_papers_from_the_store_are_searched_with_the_segments(tmp_path: Path) -> None:
    sample = tmp_path / "trending.txt"
    shutil.copy(bundled_digest(), sample)
    open_engine([sample])
    library = read_digests([sample])
    raw = library.raw_index()
    assert raw is not None
    kept = Paper("zzzzzzzzzzzz", "A bookmarked paper on quokkadiles", "Gone from the digests.", "store", 164, True)
    papers = [*library.papers, kept]
    engine = SearchEngine.from_index(papers, *combine_snapshots(raw, papers, len(library.papers)))
    single = SearchEngine(papers)
    for query in [*QUERIES, "quokkadiles", "gone"]:
        assert engine.search(query).indices.tolist() == single.search(query).indices.tolist(), query


def test_a_new_days_longer_abstract_of_an_old_paper_wins_over_the_merged_run(folder: Path) -> None:
    open_engine([folder])  # six files, saved merged
    old = day(3)[7]
    write(folder / "2025-01-07.txt", [*day(6)[:3], (old[0], old[1] + " Now longer, with quokkadile in it.")])
    got = open_engine([folder])
    assert_same(got, cold([folder]), [*QUERIES, "quokkadile", "day3", "day6"])
    assert len(got[1].search("'quokkadile")) == 1
    assert_same(open_engine([folder]), cold([folder]), [*QUERIES, "quokkadile"])


def test_a_merged_run_written_from_cached_segments_keeps_the_longer_abstracts(tmp_path: Path) -> None:
    """Files cached one by one, then opened together: the merged run is written from their segments'
    bytes, except where a paper took a later file's longer abstract; reopened, it is the cold parse."""
    days = tmp_path / "days"
    days.mkdir()
    for k in range(6):
        write(days / f"2025-02-0{k + 1}.txt", day(k))
    # The copy of a paper in the file opened last (the folder lists the newest day first) is longer.
    old = day(5)[4]
    write(days / "2025-02-01.txt", [*day(0)[:5], (old[0], old[1] + " Now longer, with quokkadile in it.")])
    for path in sorted(days.iterdir()):
        open_engine([path])  # each file's own segment
    first = open_engine([days])  # six segments combined: saved merged
    assert first[0].files[0].endswith("2025-02-06.txt")
    assert len(first[0].segments.parts) == 6 and entries(SET_SUFFIX)
    again = open_engine([days])  # the merged run
    assert len(again[0].segments.parts) == 1
    assert_same(again, cold([days]), [*QUERIES, "quokkadile", "day0", "day5"])
    assert len(again[1].search("'quokkadile")) == 1


def test_a_cancelled_loader_stops_reading_segments(folder: Path) -> None:
    # What the app does when it quits while cached segments are read: the load worker stops at once.
    open_engine([folder])
    loader = LibraryLoader([folder], segments=SegmentCache())
    loader.cancel()
    with pytest.raises(LoadCancelled):
        for _ in loader.batches(Library()):
            pass
    loader = LibraryLoader([folder], segments=SegmentCache())
    batches = loader.batches(Library())
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3  # quitting while the merged run is read, a few arrays in

    loader.cancelled = stop  # type: ignore[method-assign]
    with pytest.raises(LoadCancelled):
        next(batches)
    assert (
        SegmentCache().load(
            entries(SET_SUFFIX)[0].name[:40], [str(p) for p in sorted(folder.iterdir(), reverse=True)], merged=True
        )
        is not None
    )  # untouched


async def test_the_app_opens_through_segments_as_the_cli_does(folder: Path, tmp_path: Path) -> None:
    want = cold([folder])
    for _run in range(2):  # parsed into segments, then from them
        loader = LibraryLoader([folder], segments=SegmentCache())
        app = PaperReaderApp(Library(), Store(tmp_path / "s.json"), loader=loader)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            engine = await app.index_ready()
            await app.workers.wait_for_complete()
            assert [p.title for p in app.collection.papers[: app.collection.file_count]] == [
                p.title for p in want[0].papers
            ]
            for query in QUERIES:
                assert engine.search(query).indices.tolist() == want[1].search(query).indices.tolist(), query
    assert entries(FILE_SUFFIX) and entries(SET_SUFFIX)  # saved once search was ready
