"""Building the search index in a helper process while the papers are still being parsed.

Parsing a big digest is pure Python and indexing it is mostly numpy: one after the
other they take twice as long as side by side on two cores. ``IndexBuilder`` starts
a helper process (this module run with ``python -c``) and hands it each CHUNK of
papers as soon as it is parsed, already folded to bytes (``tokenizer.fold_bytes``); the
helper tokenizes chunk after chunk as ``SearchEngine`` itself would, so that when
parsing ends only the last chunk and the laying out of the posting lists are left.
The result is the same index ``SearchEngine(papers)`` builds (same word ids too).

Anything amiss (the helper cannot start or dies, a paper's text changed after it
was sent, two words hash alike) and ``engine`` builds the index in this process
instead: the helper only ever saves time. ``cancel`` (the app is quitting) makes a
waiting ``engine`` raise BuildCancelled rather than build.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from reader.digest import DigestError, expand_paths
from reader.index.engine import SearchEngine
from reader.index.segments import SegmentCache
from reader.index.tokenizer import CHUNK, Collision, Tokenizer, fold_bytes
from reader.paper import Paper

MIN_BYTES = 16 << 20  # digests smaller than this index in well under a second: no helper
_HEADER = struct.Struct("<4sQQQ")  # kind, papers, bytes of titles, bytes of abstracts
_CHUNK_KIND, _DONE_KIND = b"CHNK", b"DONE"
_BACKLOG = 8  # chunks the helper holds before the parser waits for it


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
        self._lock = threading.Lock()
        self._sent: list[tuple[str, str]] = []  # the texts sent, to check they did not change
        self._pending: list[Paper] = []
        self._frames: queue.Queue[bytes | None] = queue.Queue(_BACKLOG)
        self._writer: threading.Thread | None = None
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

    def add(self, papers: list[Paper]) -> None:
        """Take the next papers in order; whole CHUNKs of them go to the helper now."""
        if self._proc is None:
            return
        self._pending.extend(papers)
        while len(self._pending) >= CHUNK:
            chunk, self._pending = self._pending[:CHUNK], self._pending[CHUNK:]
            self._send(chunk)

    def engine(self, papers: list[Paper]) -> SearchEngine:
        """``SearchEngine(papers)``, from the helper's work when ``papers`` begins with the papers sent."""
        try:
            if self._proc is None or self.fallback:
                raise _Fallback(self.fallback or "helper stopped")
            if len(papers) < len(self._sent) or any(
                p.title is not title or p.abstract is not abstract for p, (title, abstract) in zip(papers, self._sent)
            ):
                raise _Fallback("papers changed after they were sent")
            for start in range(len(self._sent), len(papers), CHUNK):
                self._send(papers[start : start + CHUNK])
            self._frames.put(_HEADER.pack(_DONE_KIND, 0, 0, 0))
            self._frames.put(None)
            assert self._proc.stdout is not None
            reply = pickle.load(self._proc.stdout)
            if reply[0] != "ok":
                raise _Fallback(f"helper: {reply[1]}")
            _, words, title_parts, abstract_parts = reply
            if len(title_parts) != len(abstract_parts) or len(title_parts) != -(-len(papers) // CHUNK):
                raise _Fallback("helper sent the wrong number of chunks")
            return SearchEngine(papers, tokenized=(title_parts, abstract_parts, words))
        except Exception as err:  # any failure of the helper only costs the time it saved
            if self.cancelled:
                raise BuildCancelled from None
            self.fallback = self.fallback or str(err) or type(err).__name__
            self.close()
            return SearchEngine(papers)
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
        if proc.stdout is not None:
            proc.stdout.close()

    def _send(self, chunk: list[Paper]) -> None:
        titles = [p.title for p in chunk]
        abstracts = [p.abstract for p in chunk]
        self._sent.extend(zip(titles, abstracts))
        folded_titles, folded_abstracts = fold_bytes(titles), fold_bytes(abstracts)
        header = _HEADER.pack(_CHUNK_KIND, len(chunk), len(folded_titles), len(folded_abstracts))
        self._frames.put(header + folded_titles + folded_abstracts)

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
    """The helper: tokenize the chunks read from stdin, then write the result to stdout (pickled).

    One thread: the parent's writer thread waits while this one tokenizes, the parser does not.
    """
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    tokenizer = Tokenizer()
    title_parts: list[Any] = []
    abstract_parts: list[Any] = []
    start = 0
    reply: tuple[Any, ...]
    try:
        while (header := stdin.read(_HEADER.size)) and len(header) == _HEADER.size:
            kind, count, title_bytes, abstract_bytes = _HEADER.unpack(header)
            if kind != _CHUNK_KIND:
                break
            for folded, parts in ((stdin.read(title_bytes), title_parts), (stdin.read(abstract_bytes), abstract_parts)):
                words, counts, docs = tokenizer.tokenize_folded(folded, count)
                docs += start
                parts.append((words, counts, docs))
            start += count
        reply = ("ok", tokenizer.words, title_parts, abstract_parts)
    except Collision:
        reply = ("error", "two words hashed alike")
    except Exception as err:  # reported to the parent, which builds the index itself
        reply = ("error", f"{type(err).__name__}: {err}")
    try:
        pickle.dump(reply, stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()
    except OSError:
        pass  # the parent is gone or did not want the index after all
