"""Building the search index in a helper process while the papers are still being parsed.

Parsing a big digest is pure Python and indexing it is mostly numpy: one after the
other they take twice as long as side by side on two cores. ``IndexBuilder`` starts
a helper process (this module run with ``python -c``) and hands it each CHUNK of
papers as soon as it is parsed, already folded to bytes (``tokenizer.fold_bytes``).
Tokenizing takes longer than parsing, so whenever the helper is behind (CHUNKs waiting
for it) the parser tokenizes the next CHUNK itself, and when parsing ends it takes back
the CHUNKs still waiting: both cores work until the end. Each side numbers its words in
order of first appearance in the CHUNKs it saw; ``combine`` numbers them in order of
first appearance in all of them, as ``SearchEngine(papers)`` does (same word ids).

A paper whose text changed after it was sent (a later copy in the digest brought a
longer abstract) has its postings swapped for those of its new text, and the words are
numbered again, without the words only its old text had (``renumber``).

Anything amiss (the helper cannot start or dies, two words hash alike) and ``engine``
builds the index in this process instead: the helper only ever saves time. ``cancel``
(the app is quitting) makes a waiting ``engine`` raise BuildCancelled rather than build.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from operator import attrgetter, is_not
from pathlib import Path
from typing import IO, Any

import numpy as np

from reader.digest import DigestError, expand_paths
from reader.index.engine import SearchEngine
from reader.index.segments import SegmentCache
from reader.index.tokenizer import CHUNK, Collision, Parts, Tokenizer, fold_bytes, fold_words, tokenize_exact, vocab_of
from reader.paper import Paper

MIN_BYTES = 16 << 20  # digests smaller than this index in well under a second: no helper
_HEADER = struct.Struct("<4sQQQQ")  # kind, papers, bytes of titles, bytes of abstracts, number of the first paper
_CHUNK_KIND, _DONE_KIND = b"CHNK", b"DONE"
_BACKLOG = 2  # chunks waiting for the helper before the parser tokenizes one itself
Tokens = tuple[np.ndarray, np.ndarray, np.ndarray]  # Tokenizer.tokenize's: word ids, texts per word, text numbers
# Bits of a word's place in a sort key (see renumber): part, paper within its chunk, word within its text.
_PART_SHIFT, _DOC_SHIFT = 44, 31


@dataclass
class Stream:
    """Chunks tokenized one after the other by one tokenizer, in the order of the papers.

    ``bounds``: how many words there were after each part (a chunk's titles, then its abstracts).
    """

    words: list[str] = field(default_factory=list)
    chunks: list[int] = field(default_factory=list)
    title_parts: Parts = field(default_factory=list)
    abstract_parts: Parts = field(default_factory=list)
    bounds: list[int] = field(default_factory=list)
    tokenizer: Tokenizer | None = None

    def add(self, number: int, first: int, count: int, titles: bytes, abstracts: bytes) -> None:
        """Tokenize chunk ``number`` (``count`` papers from paper ``first``), folded by ``fold_bytes``."""
        if self.tokenizer is None:
            self.tokenizer = Tokenizer()
            self.words = self.tokenizer.words
        if self.chunks and number <= self.chunks[-1]:
            raise ValueError("chunks out of order")
        for folded, parts in ((titles, self.title_parts), (abstracts, self.abstract_parts)):
            words, counts, docs = self.tokenizer.tokenize_folded(folded, count)
            docs += first
            parts.append((words, counts, docs))
            self.bounds.append(len(self.words))
        self.chunks.append(number)


class IndexBuilder:
    """Feeds papers to a helper process as they are parsed; ``engine`` returns the index."""

    @classmethod
    def start_for(cls, paths: list[str | os.PathLike[str]], encoding: str | None = None) -> IndexBuilder | None:
        """A builder when the digests to parse (those without a cached segment, by their stat
        signature) are big enough to be worth it (None if not, or if they cannot be read).

        Called before the digests are checked, so the helper starts while they are.
        """
        try:
            files = expand_paths(paths)
            # Files whose segments are cached are not parsed: only the others' size counts.
            to_parse = SegmentCache().unrecognised(paths, files, encoding)
            size = sum(path.stat().st_size for path in to_parse)
        except (DigestError, OSError):
            return None
        if not to_parse or size < MIN_BYTES:
            return None
        return cls()

    def __init__(self) -> None:
        self.fallback = ""  # why the index was built in this process, if it was
        self.cancelled = False
        self.chunks_here = 0  # chunks this process tokenized itself
        self._lock = threading.Lock()
        self._titles: list[str] = []  # the texts sent, to check they did not change
        self._abstracts: list[str] = []
        self._pending: list[Paper] = []
        self._here = Stream()  # chunks tokenized here while parsing, and those left when it ends
        self._frames: queue.Queue[bytes | None] = queue.Queue(_BACKLOG)
        self._writer: threading.Thread | None = None
        self._reader: threading.Thread | None = None
        self._helper_parts: list[tuple[int, Tokens, Tokens]] = []  # per chunk the helper did: first paper, parts
        self._reply: tuple[Any, ...] = ("error", "no reply")
        package_parent = str(Path(__file__).resolve().parent.parent)
        code = f"import sys; sys.path.insert(0, {package_parent!r}); from reader.index.build import serve; serve()"
        try:
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as err:
            self._proc = None
            self.fallback = f"helper did not start: {err}"
            return
        assert self._proc.stdin is not None
        _widen_pipe(self._proc.stdin.fileno())
        self._writer = threading.Thread(target=self._write_frames, args=(self._proc.stdin,), daemon=True)
        self._writer.start()
        self._reader = threading.Thread(target=self._read_replies, args=(self._proc.stdout,), daemon=True)
        self._reader.start()

    def add(self, papers: list[Paper]) -> None:
        """Take the next papers in order; whole CHUNKs of them are tokenized now (by the helper,
        or here when CHUNKs are waiting for it)."""
        if self._proc is None:
            return
        self._pending.extend(papers)
        while len(self._pending) >= CHUNK:
            chunk, self._pending = self._pending[:CHUNK], self._pending[CHUNK:]
            self._send(chunk, here=self._frames.full() and not self.fallback)

    def engine(self, papers: list[Paper]) -> SearchEngine:
        """``SearchEngine(papers, bitmaps=False)``, from the helper's work when ``papers`` begins with the
        papers sent (the caller makes the bitmaps once search is ready, if it searches more than once)."""
        try:
            if self._proc is None or self.fallback:
                raise _Fallback(self.fallback or "helper stopped")
            sent = len(self._titles)
            if len(papers) < sent:
                raise _Fallback("papers went missing after they were sent")
            changed = self._changed(papers[:sent])
            taken = self._take_back()
            for start in range(sent, len(papers), CHUNK):
                self._send(papers[start : start + CHUNK], here=True)
            self._frames.put(_HEADER.pack(_DONE_KIND, 0, 0, 0, 0))
            self._frames.put(None)
            assert self._reader is not None
            self._reader.join()
            if self._reply[0] != "ok":
                raise _Fallback(f"helper: {self._reply[1]}")
            _, words, bounds, firsts = self._reply
            parts = self._helper_parts
            if [first for first, _t, _a in parts] != firsts:
                raise _Fallback("helper sent chunks it was not asked for")
            chunk_numbers = [first // CHUNK for first in firsts]
            helper = Stream(words, chunk_numbers, [t for _f, t, _a in parts], [a for _f, _t, a in parts], bounds)
            chunks = -(-len(papers) // CHUNK)
            title_parts, abstract_parts, words, bounds = combine([helper, taken, self._here], chunks)
            if changed:
                words = swap_texts(papers, changed, title_parts, abstract_parts, words, bounds)
            return SearchEngine(papers, tokenized=(title_parts, abstract_parts, words), bitmaps=False)
        except Exception as err:  # any failure of the helper only costs the time it saved
            if self.cancelled:
                raise BuildCancelled from None
            self.fallback = self.fallback or str(err) or type(err).__name__
            self.close()
            return SearchEngine(papers, bitmaps=False)
        finally:
            self.close()

    def cancel(self) -> None:
        """Stop the helper for good: a waiting ``engine`` raises BuildCancelled (the app is quitting)."""
        self.cancelled = True
        self.close()

    def close(self) -> None:
        """Stop the helper (its index is not needed, or it is done)."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()  # a write to it then fails, and the writer thread ends
        proc.wait()
        try:
            while True:  # make room, so the writer is not stuck waiting for the queue
                self._frames.get_nowait()
        except queue.Empty:
            pass
        self._frames.put(None)
        if self._writer is not None and self._writer is not threading.current_thread():
            self._writer.join()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join()  # the helper is gone: its output ends
        if proc.stdout is not None:
            proc.stdout.close()

    def _send(self, chunk: list[Paper], here: bool) -> None:
        """Tokenize a chunk here (``here``) or send it to the helper."""
        titles = [p.title for p in chunk]
        abstracts = [p.abstract for p in chunk]
        first = len(self._titles)
        self._titles.extend(titles)
        self._abstracts.extend(abstracts)
        folded_titles, folded_abstracts = fold_bytes(titles), fold_bytes(abstracts)
        if here:
            self.chunks_here += 1
            try:
                self._here.add(first // CHUNK, first, len(chunk), folded_titles, folded_abstracts)
            except Collision:
                self.fallback = "two words hashed alike"
            return
        header = _HEADER.pack(_CHUNK_KIND, len(chunk), len(folded_titles), len(folded_abstracts), first)
        self._frames.put(header + folded_titles + folded_abstracts)

    def _changed(self, papers: list[Paper]) -> list[int]:
        """The numbers of the papers whose title or abstract is not the text sent (a later copy in the
        digest gave a longer abstract), found at C speed: they are rare, a million papers are not."""
        n = len(papers)
        titles = np.fromiter(map(is_not, map(attrgetter("title"), papers), self._titles), dtype=bool, count=n)
        abstracts = np.fromiter(map(is_not, map(attrgetter("abstract"), papers), self._abstracts), dtype=bool, count=n)
        return np.flatnonzero(titles | abstracts).tolist()

    def _take_back(self) -> Stream:
        """The chunks still waiting for the helper, tokenized here (parsing is over: this core is free)."""
        taken = Stream()
        while True:
            try:
                frame = self._frames.get_nowait()
            except queue.Empty:
                return taken
            assert frame is not None  # only close puts None, and it has not run
            kind, count, title_bytes, _abstract_bytes, first = _HEADER.unpack_from(frame)
            assert kind == _CHUNK_KIND
            body = memoryview(frame)[_HEADER.size :]
            self.chunks_here += 1
            taken.add(first // CHUNK, first, count, bytes(body[:title_bytes]), bytes(body[title_bytes:]))

    def _read_replies(self, stdout: IO[bytes]) -> None:
        """A thread taking the helper's chunks as it sends them (the pipe never fills, the helper never
        waits), then its last word."""
        try:
            while (message := pickle.load(stdout))[0] == "part":
                self._helper_parts.append(message[1:])
            self._reply = message
        except Exception as err:  # the helper died or was stopped
            self._reply = ("error", f"helper stopped: {type(err).__name__}: {err}")

    def _write_frames(self, stdin: IO[bytes]) -> None:
        """A thread writing the frames to the helper: a blocking os.write lets go of the GIL
        for as long as the helper takes to read a frame, so the parser never waits for it."""
        fd = stdin.fileno()
        try:
            while (frame := self._frames.get()) is not None:
                view = memoryview(frame)
                while view:
                    view = view[os.write(fd, view) :]
        except OSError as err:  # the helper died: the index is built in this process
            self.fallback = self.fallback or f"helper stopped reading: {err}"
            while self._frames.get() is not None:
                pass  # frames still come: take them, so the parser never waits on a dead helper
        finally:
            try:
                stdin.close()
            except OSError:
                pass


def _widen_pipe(fd: int) -> None:
    """Let the pipe hold a megabyte (Linux): a frame then crosses in a few writes, not hundreds."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


class _Fallback(Exception):
    """The helper's work cannot be used."""


class BuildCancelled(Exception):
    """``IndexBuilder.cancel`` was called while the index was being built."""


def serve(stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> None:
    """The helper: tokenize the chunks read from stdin, writing each one's parts to stdout (pickled)
    as soon as it is done, then its last word.

    Per chunk: "part", its first paper, its titles' and its abstracts' parts (word ids, papers
    per word, paper numbers). Last: "ok", the words by id, how many words there were after
    each chunk's titles and after its abstracts, and each chunk's first paper; or "error" and why.
    One thread: the parent's writer thread waits while this one tokenizes, the parser does not.
    """
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    stream = Stream()
    firsts: list[int] = []
    reply: tuple[Any, ...]
    try:
        while (header := stdin.read(_HEADER.size)) and len(header) == _HEADER.size:
            kind, count, title_bytes, abstract_bytes, first = _HEADER.unpack(header)
            if kind != _CHUNK_KIND:
                break
            # Numbered by their first papers here: the parent knows how many papers make a chunk.
            stream.add(first, first, count, _read(stdin, title_bytes), _read(stdin, abstract_bytes))
            firsts.append(first)
            message = ("part", first, stream.title_parts.pop(), stream.abstract_parts.pop())
            pickle.dump(message, stdout, protocol=pickle.HIGHEST_PROTOCOL)
            stdout.flush()
        reply = ("ok", stream.words, stream.bounds, firsts)
    except Collision:
        reply = ("error", "two words hashed alike")
    except Exception as err:  # reported to the parent, which builds the index itself
        reply = ("error", f"{type(err).__name__}: {err}")
    try:
        pickle.dump(reply, stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()
    except OSError:
        pass  # the parent is gone or did not want the index after all


def combine(streams: list[Stream], chunks: int) -> tuple[Parts, Parts, list[str], list[int]]:
    """The streams' chunks as one index of ``chunks`` chunks: the parts of titles and of abstracts,
    chunk after chunk, the words numbered in order of first appearance in all of them (as one
    tokenizer over every chunk numbers them), and how many words there are after each part.

    A word first appears in the first part of any stream holding it; the words first appearing
    in one part are numbered by the one stream that tokenized it, in their order there.
    """
    best: dict[str, int] = {}  # word -> its first part << 32 | its id in the stream that holds that part
    for stream in streams:
        if not stream.words:
            continue
        part_of = np.array([2 * c + f for c in stream.chunks for f in (0, 1)], dtype=np.int64)
        ids = np.arange(len(stream.words), dtype=np.int64)
        keys = ((part_of[np.searchsorted(stream.bounds, ids, side="right")] << 32) | ids).tolist()
        if not best:
            best = dict(zip(stream.words, keys))
            continue
        for word, key in zip(stream.words, keys):
            if best.setdefault(word, key) > key:
                best[word] = key
    words = list(best)
    keys = np.fromiter(best.values(), dtype=np.int64, count=len(words))
    order = np.argsort(keys, kind="stable")
    words = [words[i] for i in order.tolist()]
    new_id = dict(zip(words, range(len(words))))
    bounds = np.searchsorted(keys[order] >> 32, np.arange(2 * chunks), side="right").tolist()
    title_parts: list[Any] = [None] * chunks
    abstract_parts: list[Any] = [None] * chunks
    for stream in streams:
        mapping = np.fromiter(map(new_id.__getitem__, stream.words), dtype=np.int32, count=len(stream.words))
        for c, title, abstract in zip(stream.chunks, stream.title_parts, stream.abstract_parts):
            if not 0 <= c < chunks or title_parts[c] is not None:
                raise ValueError("a chunk twice, or out of range")
            title_parts[c] = (mapping[title[0]], title[1], title[2])
            abstract_parts[c] = (mapping[abstract[0]], abstract[1], abstract[2])
    if any(part is None for part in title_parts):
        raise ValueError("a chunk missing")
    return title_parts, abstract_parts, words, bounds


def swap_texts(
    papers: list[Paper],
    changed: list[int],
    title_parts: Parts,
    abstract_parts: Parts,
    words: list[str],
    bounds: list[int],
) -> list[str]:
    """Index papers ``changed`` (numbers, in order) as their texts are now in ``papers``, not as they
    were tokenized: their postings are swapped (``replace_papers``) and the words numbered again
    (``renumber``). Returns the words by their new ids; the parts are changed in place."""
    numbers = np.array(changed, dtype=np.int64)
    starts = np.arange(len(title_parts), dtype=np.int64) * CHUNK
    vocab = vocab_of(words)  # the words of the new texts keep their ids; new words follow
    touched = [
        replace_papers(parts, starts, numbers, [(numbers, tokenize_exact(vocab, texts))])
        for parts, texts in (
            (title_parts, [papers[k].title for k in changed]),
            (abstract_parts, [papers[k].abstract for k in changed]),
        )
    ]
    words = list(vocab)[1:]
    touched_ids = np.unique(np.concatenate(touched))
    return renumber(papers, title_parts, abstract_parts, words, bounds, touched_ids, changed[0] // CHUNK)


def _read(stdin: IO[bytes], size: int) -> bytes:
    data = stdin.read(size)
    if len(data) != size:
        raise EOFError("the parent stopped mid-frame")
    return data


def replace_papers(
    parts: Parts, starts: np.ndarray, numbers: np.ndarray, texts: list[tuple[np.ndarray, Tokens]]
) -> np.ndarray:
    """Swap the postings of papers ``numbers`` in ``parts`` (``starts``: each part's first paper)
    for those of their new texts (``texts``: per batch, the papers' numbers and their tokenized
    texts, the batch's text k being paper k's). Returns the ids of their old and new texts' words.

    A changed part keeps the shape the tokenizer gives: each word once, its papers in order.
    """
    new_words = np.concatenate([np.repeat(w, c) for _n, (w, c, _d) in texts]).astype(np.int64)
    new_docs = np.concatenate([n[d] for n, (_w, _c, d) in texts]).astype(np.int64)
    new_part = np.searchsorted(starts, new_docs, side="right") - 1
    part_of = np.searchsorted(starts, numbers, side="right") - 1
    touched = [new_words]
    for k in np.unique(part_of).tolist():
        words, counts, docs = parts[k]
        word_of = np.repeat(words.astype(np.int64), counts)
        gone = np.isin(docs, numbers[part_of == k])
        touched.append(word_of[gone])
        here = new_part == k
        all_words = np.concatenate((word_of[~gone], new_words[here]))
        all_docs = np.concatenate((docs[~gone].astype(np.int64), new_docs[here]))
        order = np.lexsort((all_docs, all_words))
        all_words, all_docs = all_words[order], all_docs[order]
        firsts = np.flatnonzero(np.concatenate(([True], all_words[1:] != all_words[:-1]))) if len(order) else order
        counts = np.diff(np.append(firsts, len(all_words)))
        parts[k] = (all_words[firsts].astype(np.int32), counts.astype(np.int32), all_docs.astype(np.int32))
    return np.concatenate(touched)


def renumber(
    papers: list[Paper],
    title_parts: Parts,
    abstract_parts: Parts,
    words: list[str],
    bounds: list[int],
    touched: np.ndarray,
    first_chunk: int,
) -> list[str]:
    """The words numbered again in order of first appearance in ``papers`` as they are now (the
    titles of a chunk, then its abstracts, chunk after chunk: as tokenizing them afresh numbers
    them), without the words no paper holds any more; the parts' word ids are changed to match.

    ``words`` were numbered in order of first appearance in the papers as they were tokenized
    (``bounds``: how many there were after each part); some papers from chunk ``first_chunk``
    on have new texts since (their postings swapped already), and ``touched`` holds the ids
    of their old and new words. Only those words can move or go: every other word first appears where it did,
    and keeps its place among the others. A moving word's first appearance is found in the
    posting lists (its first part and paper), then its place in that paper's text by
    splitting the text into words; the other words first appearing in that text are placed
    by their positions there too.
    """
    size = len(words)
    parts = [part for pair in zip(title_parts, abstract_parts) for part in pair]  # in the order tokenized
    ends = np.array(bounds, dtype=np.int64)
    if len(ends) != len(parts) or (len(ends) and (ends[-1] > size or np.any(ends[1:] < ends[:-1]))):
        raise ValueError("word counts per part do not fit")
    first_part = 2 * first_chunk
    settled = int(ends[first_part - 1]) if first_part else 0  # words first seen before any changed paper
    touched = touched[touched >= settled]
    ids = np.arange(size, dtype=np.int64)
    key = (np.searchsorted(ends, ids, side="right") << _PART_SHIFT) | ids
    moving = np.zeros(size, dtype=bool)
    moving[touched] = True
    found_part = np.full(size, -1, dtype=np.int64)
    found_doc = np.full(size, -1, dtype=np.int64)
    left = len(touched)
    for p in range(first_part, len(parts)):
        if not left:
            break
        wids, counts, docs = parts[p]
        hit = np.flatnonzero(moving[wids] & (found_part[wids] < 0))
        if len(hit):
            run_starts = np.cumsum(counts, dtype=np.int64) - counts
            found_part[wids[hit]] = p
            found_doc[wids[hit]] = docs[run_starts[hit]]
            left -= len(hit)
    found = touched[found_part[touched] >= 0]
    texts: dict[int, dict[int, list[int]]] = {}  # part -> paper -> the moving words first appearing there
    for wid, p, doc in zip(found.tolist(), found_part[found].tolist(), found_doc[found].tolist()):
        texts.setdefault(p, {}).setdefault(doc, []).append(wid)
    for p, by_doc in texts.items():
        wids, counts, docs = parts[p]
        run_starts = np.cumsum(counts, dtype=np.int64) - counts
        lo = int(ends[p - 1]) if p else 0
        native = np.flatnonzero((wids >= lo) & (wids < int(ends[p])) & ~moving[wids])  # first seen here, staying
        native_ids, native_docs = wids[native].astype(np.int64), docs[run_starts[native]].astype(np.int64)
        base = int(docs.min())  # the part's papers are one chunk's: within 1 << DOC_BITS of it
        key[native_ids] = (p << _PART_SHIFT) | ((native_docs - base) << _DOC_SHIFT) | native_ids
        for doc, moved in by_doc.items():
            text = papers[doc].title if p % 2 == 0 else papers[doc].abstract
            position: dict[str, int] = {}
            for at, word in enumerate(fold_words(text)):
                position.setdefault(word, at)
            for wid in [*native_ids[native_docs == doc].tolist(), *moved]:
                key[wid] = (p << _PART_SHIFT) | ((doc - base) << _DOC_SHIFT) | position[words[wid]]
    kept = np.flatnonzero((found_part >= 0) | ~moving)  # a moving word found nowhere is gone
    order = kept[np.argsort(key[kept], kind="stable")]
    new_id = np.full(size, -1, dtype=np.int64)
    new_id[order] = np.arange(len(order))
    for which in (title_parts, abstract_parts):
        for k, (wids, counts, docs) in enumerate(which):
            which[k] = (new_id[wids].astype(np.int32), counts, docs)
    return [words[i] for i in order.tolist()]
