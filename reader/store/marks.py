"""Read marks and first-seen dates: the high-volume, machine-made data, in an append-only binary file.

Each event is 16 bytes: the paper id (12 bytes, NUL-padded UTF-8) and one little-endian
32-bit word, ``minute * 4 + kind`` (minutes since 1970 in UTC; kind 0 read, 1 unread,
2 first seen). Marking a paper read appends 16 bytes, whatever the history holds; a
100k-paper digest opened once adds 1.6 MB. On load the events are folded with
numpy: per paper the last read/unread event in the file wins, and the earliest first-seen
date. A record cut short by a kill is ignored and cut off
before the next append. When superseded events outnumber the live ones (a paper marked
read, unread and read again), the file is compacted: one event per paper and kind written
to a temp file, fsynced, renamed over the file (the folder fsynced), so a kill leaves the
old file or the new one, never half of either. Ids longer than 12 bytes (hand-made ids from imports) do not fit:
the store keeps their read marks in their annotation record instead.

First-seen dates are looked up in a fold sorted by a hash of the id, built on first use (the
store writes each batch of dates sorted the same way, so the fold only merges sorted runs).
A first-seen event whose id starts with a NUL byte (no paper id does) marks a digest file
whose papers' dates are all stored (see ``digest_marker``): opening it again writes nothing
and looks nothing up; no paper has such an id, so older versions ignore it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from reader.store.errors import StoreCorrupt, StoreError, stat_or_none
from reader.store.logfile import fsync_dir, write_all

MAGIC = b"PRMARKS1" + b"\0" * 8
RECORD = np.dtype([("id", "S12"), ("v", "<u4")])
READ, UNREAD, SEEN = 0, 1, 2
ID_BYTES = 12
COMPACT_MIN = 1 << 16  # events (1 MB) below which the file is never compacted
TOUCHED_KEPT = 4096  # changed ids remembered one by one (beyond: "any may have changed")
SEEN_DISORDER = 4096  # sorted runs of first-seen dates past which the file is worth compacting (years of days)
NO_MINUTE = np.iinfo(np.int64).max  # "no first-seen date" in arrays of minutes
_MARKER_END = 1  # a digest marker's last byte (never NUL: numpy would strip it)


def fits(pid: str) -> bool:
    """True when this id can be kept in the marks file (12 UTF-8 bytes at most, no NUL)."""
    return len(pid) <= ID_BYTES and "\0" not in pid and len(pid.encode("utf-8")) <= ID_BYTES


def minute_of(stamp: str) -> int:
    """Minutes since 1970 (UTC) of an ISO date or time."""
    if len(stamp) == 10:
        moment = datetime.combine(date.fromisoformat(stamp), datetime.min.time(), UTC)
    else:
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) // 60


def time_of(minute: int) -> str:
    """The ISO time (to the second, UTC) of a minute count."""
    return datetime.fromtimestamp(minute * 60, UTC).isoformat()


def date_of(minute: int) -> str:
    """The ISO date of a minute count."""
    return datetime.fromtimestamp(minute * 60, UTC).date().isoformat()


def digest_marker(key: bytes) -> bytes:
    """The id under which a digest file's "dates stored" mark is kept (``key``: at least 10 bytes)."""
    return b"\0" + key[:10] + bytes([_MARKER_END])


def _is_marker(ids: np.ndarray) -> np.ndarray:
    raw = np.ascontiguousarray(ids).view(np.uint8).reshape(-1, ID_BYTES)
    flags: np.ndarray = (raw[:, 0] == 0) & (raw[:, ID_BYTES - 1] == _MARKER_END)
    return flags


def _all_twelve(pids: list[str]) -> np.ndarray | None:
    """The ids as 12-byte records when every one is 12 ASCII characters (paper ids are), else None."""
    joined = "".join(pids)
    whole = len(joined) == ID_BYTES * len(pids) and joined.isascii() and "\0" not in joined
    if not whole or len(set(map(len, pids))) > 1:
        return None
    return np.frombuffer(joined.encode("ascii"), RECORD["id"])


def id_array(pids: list[str]) -> np.ndarray:
    """These ids (each must ``fit``) as 12-byte records: at once when all are 12 ASCII characters."""
    whole = _all_twelve(pids)
    if whole is not None:
        return whole
    return np.array([pid.encode("utf-8") for pid in pids], RECORD["id"])


def fitting(pids: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """The ids that fit (see ``fits``) as 12-byte records, and where they are in ``pids`` (None: all of them)."""
    whole = _all_twelve(pids)
    if whole is not None:
        return whole, None
    where = [k for k, pid in enumerate(pids) if fits(pid)]
    if len(where) == len(pids):
        return id_array(pids), None
    return id_array([pids[k] for k in where]), np.array(where, dtype=np.int64)


def seen_events(ids: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """First-seen events for these ids, in the order the fold reads fastest (by hash)."""
    order = np.argsort(_hash(ids), kind="stable")
    array = np.empty(len(ids), RECORD)
    array["id"] = ids[order]
    array["v"] = (np.asarray(minutes, dtype=np.int64)[order] * 4 + SEEN).astype(np.uint32)
    return array


def encode(events: list[tuple[str, int, int]]) -> bytes:
    """Bytes for (paper id, kind, minute) events."""
    array = np.empty(len(events), RECORD)
    array["id"] = [pid.encode("utf-8") for pid, _, _ in events]
    array["v"] = [minute * 4 + kind for _, kind, minute in events]
    return array.tobytes()


def _keys(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 12-byte ids as two integers (minor, major): exact sort keys much faster than byte strings."""
    raw = np.ascontiguousarray(ids).view(np.dtype([("a", "<u8"), ("b", "<u4")]))
    return raw["b"], raw["a"]


def _hash(ids: np.ndarray) -> np.ndarray:
    """One 64-bit integer per 12-byte id (equal ids, equal integers; rarely two ids share one)."""
    minor, major = _keys(ids)
    hashed: np.ndarray = major ^ (minor.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    return hashed


def _names(ids: np.ndarray) -> list[str]:
    """The ids as text (ASCII in one numpy pass; anything else decoded one by one)."""
    try:
        names: list[str] = ids.astype("U12").tolist()
        return names
    except UnicodeDecodeError:
        return [raw.decode("utf-8", "replace") for raw in ids.tolist()]


def _fold_seen(
    fold: tuple[np.ndarray, np.ndarray, np.ndarray], waiting: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], int]:
    """The fold with these (ids, minutes) events in it: one row per id, its earliest minute, by hash;
    and how out of order they came (places where the hash went down)."""
    hashes, ids, minutes = fold
    if len(hashes):
        waiting = [(ids, minutes), *waiting]
    ids = np.concatenate([w[0] for w in waiting]) if len(waiting) > 1 else waiting[0][0]
    minutes = np.concatenate([w[1] for w in waiting]) if len(waiting) > 1 else waiting[0][1]
    hashes = np.concatenate([hashes, *(_hash(w[0]) for w in waiting[1 if len(hashes) else 0 :])])
    # Stable, and skipped when already in order: the fold and each batch the store wrote are
    # sorted runs (see seen_events), so a sort mostly merges a few runs.
    descents = int(np.count_nonzero(hashes[1:] < hashes[:-1]))
    if descents:
        order = np.argsort(hashes, kind="stable")
        hashes, ids, minutes = hashes[order], ids[order], minutes[order]
    same = np.flatnonzero(hashes[1:] == hashes[:-1])  # the same id seen again (or two ids sharing a hash)
    if not len(same):
        return (hashes, ids, minutes), descents
    if (ids[same + 1] != ids[same]).any():  # two ids share a hash: order by id within it
        minor, major = _keys(ids)
        order = np.lexsort((minutes, minor, major, hashes))
        hashes, ids, minutes = hashes[order], ids[order], minutes[order]
        first = np.ones(len(ids), bool)
        first[1:] = (hashes[1:] != hashes[:-1]) | (ids[1:] != ids[:-1])
        return (hashes[first], ids[first], minutes[first]), descents
    first = np.ones(len(ids), bool)
    first[same + 1] = False
    starts = np.flatnonzero(first)
    return (hashes[starts], ids[starts], np.minimum.reduceat(minutes, starts)), descents


_EMPTY_FOLD = (np.empty(0, np.uint64), np.empty(0, RECORD["id"]), np.empty(0, np.int64))


class Marks:
    """The folded state of a marks file, kept up to date by reading only what was appended."""

    def __init__(self, path: Path, temp_prefix: str | None = None) -> None:
        self.path = path
        self.temp_prefix = temp_prefix or f"~{path.name}-"  # what a compaction's temp file is called
        self.read: dict[str, int] = {}  # paper id -> minute it was read
        # First-seen dates folded: (hashes sorted, ids, earliest minutes), one row per id.
        self._seen_fold: tuple[np.ndarray, np.ndarray, np.ndarray] = _EMPTY_FOLD
        # First-seen events read but not folded yet: folded on first lookup (the command line
        # rarely needs them; an open does not pay for a million dates).
        self._seen_waiting: list[tuple[np.ndarray, np.ndarray]] = []
        self._seen_day: dict[str, str] | None = None  # seen_day, once asked for
        self._digests: dict[bytes, int] = {}  # digest marker -> earliest minute
        self._folding = threading.Lock()  # the app looks dates up on its UI thread and on workers
        # How out of order the first-seen dates in the file are (see _fold_seen): past SEEN_DISORDER
        # (a file written before dates were written sorted) the store compacts it, once.
        self.seen_disorder = 0
        self.unread: dict[str, int] = {}  # latest unread time, to order events merged from elsewhere
        self._stamp: tuple[int, int] | None = None  # (inode, bytes folded in)
        self.version = 0  # bumped whenever the read marks change (for callers that cache what they derive)
        self.compact_min = COMPACT_MIN
        # Ids whose read state changed since take_touched() was last called (None: any may have).
        self._touched: set[str] | None = None
        self._held = False  # see hold()

    # -- reading ---------------------------------------------------------------------------
    def hold(self, events: list[tuple[str, int, int]]) -> None:
        """Fold these (paper id, kind, minute) events in memory and never read the file (a store that
        is only shown: a read-only open of a schema-1 store, or one that could not be read)."""
        self._held = True
        self._fold(np.frombuffer(encode(events), RECORD) if events else np.empty(0, RECORD))

    def changed(self) -> bool:
        """True when the file holds events not folded in yet."""
        if self._held:
            return False
        st = stat_or_none(self.path, "read marks")
        if st is None:
            return self._stamp is not None
        return self._stamp != (st.st_ino, st.st_size - (st.st_size - len(MAGIC)) % RECORD.itemsize)

    def refresh(self) -> bool:
        """Fold in what was appended since the last look (all of it after a compaction); True if anything."""
        if self._held:
            return False
        st = stat_or_none(self.path, "read marks")
        if st is None:
            if self._stamp is not None:
                self.read, self.unread, self._stamp = {}, {}, None
                self.version += 1
                self._touched = None
                self._forget_seen()
                return True
            return False
        whole = st.st_size - (st.st_size - len(MAGIC)) % RECORD.itemsize if st.st_size >= len(MAGIC) else 0
        if self._stamp is not None and self._stamp[0] == st.st_ino and self._stamp[1] <= whole:
            start = self._stamp[1]
        else:
            self.read, self.unread = {}, {}
            self._forget_seen()
            self.version += 1
            self._touched = None
            start = 0
        if start == whole and self._stamp is not None:
            return False
        try:
            with open(self.path, "rb") as handle:
                if start == 0:
                    head = handle.read(len(MAGIC))
                    if head and head != MAGIC[: len(head)]:
                        raise StoreCorrupt(self.path, "not a paper-reader read-marks file; it was left as it is")
                    start = len(MAGIC)
                handle.seek(start)
                data = handle.read(max(0, whole - start))
        except OSError as err:
            raise StoreError(self.path, f"cannot read read marks: {err.strerror}") from None
        self._fold(np.frombuffer(data, RECORD, count=len(data) // RECORD.itemsize))
        self._stamp = (st.st_ino, start + len(data) - len(data) % RECORD.itemsize)
        return True

    def _forget_seen(self) -> None:
        self._seen_fold, self._seen_waiting, self._seen_day, self._digests = _EMPTY_FOLD, [], None, {}
        self.seen_disorder = 0

    def _fold(self, events: np.ndarray) -> None:
        if not len(events):
            return
        kinds = events["v"] & 3
        minutes = (events["v"] >> 2).astype(np.int64)
        ids = events["id"]
        # First seen: the earliest per paper, folded on first lookup.
        mask = kinds == SEEN
        if mask.any():
            seen_ids, seen_minutes = ids[mask], minutes[mask]
            self._seen_waiting = [*self._seen_waiting, (seen_ids, seen_minutes)]
            self._seen_day = None
            marked = _is_marker(seen_ids)
            if marked.any():
                digests = dict(self._digests)
                for raw, minute in zip(seen_ids[marked].tolist(), seen_minutes[marked].tolist(), strict=True):
                    digests[raw] = min(minute, digests.get(raw, minute))
                self._digests = digests
        mask = kinds != SEEN
        if mask.any():
            self._fold_latest(ids[mask], minutes[mask], kinds[mask])

    def digest_minute(self, marker: bytes) -> int | None:
        """When the digest file with this marker (``digest_marker``) had its papers' dates stored, or None."""
        return self._digests.get(marker)

    def _folded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first-seen fold with every event read so far in it."""
        if not self._seen_waiting:
            return self._seen_fold
        with self._folding:
            waiting, self._seen_waiting = self._seen_waiting, []
            if not waiting:
                return self._seen_fold
            fold, descents = _fold_seen(self._seen_fold, waiting)
            self._seen_fold = fold
            self.seen_disorder += descents
            return fold

    def first_seen(self, ids: np.ndarray) -> np.ndarray:
        """Per 12-byte id (``id_array``), the earliest minute it was first seen; NO_MINUTE where never."""
        hashes, known, minutes = self._folded()
        out = np.full(len(ids), NO_MINUTE, dtype=np.int64)
        if not len(hashes) or not len(ids):
            return out
        asked = _hash(ids)
        where = np.searchsorted(hashes, asked)
        at = np.minimum(where, len(hashes) - 1)
        same_hash = hashes[at] == asked
        hit = same_hash & (known[at] == ids)
        out[hit] = minutes[at[hit]]
        for k in np.flatnonzero(same_hash & ~hit).tolist():  # a hash two ids share: look along its run
            j = int(where[k])
            while j < len(hashes) and hashes[j] == asked[k]:
                if known[j] == ids[k]:
                    out[k] = minutes[j]
                    break
                j += 1
        return out

    @property
    def seen_day(self) -> dict[str, str]:
        """Paper id -> ISO date it was first seen (the live dict: do not change it)."""
        days = self._seen_day
        if days is None or self._seen_waiting:
            _hashes, ids, minutes = self._folded()
            papers = ~_is_marker(ids)
            ids, minutes = ids[papers], minutes[papers]
            unique, inverse = np.unique(minutes, return_inverse=True)
            names = np.array([date_of(int(m)) for m in unique.tolist()], object)[inverse]
            days = self._seen_day = dict(zip(_names(ids), names.tolist(), strict=True))
        return days

    def seen_of(self, pids: Iterable[str]) -> dict[str, str]:
        """The first-seen dates of these papers (those that have one), without folding them into a
        dict: opening a digest asks for its own papers, not for the million seen over the years."""
        wanted = [pid for pid in pids if fits(pid)]
        if not wanted:
            return {}
        minutes = self.first_seen(id_array(wanted))
        found = np.flatnonzero(minutes != NO_MINUTE)
        if not len(found):
            return {}
        unique, inverse = np.unique(minutes[found], return_inverse=True)
        names = [date_of(m) for m in unique.tolist()]
        return {wanted[k]: names[i] for k, i in zip(found.tolist(), inverse.tolist(), strict=True)}

    def _fold_latest(self, ids: np.ndarray, minutes: np.ndarray, kinds: np.ndarray) -> None:
        # The last event in the file wins (undo restores an older read time after a newer
        # unread mark; a merge appends only what should win).
        order = np.lexsort((np.arange(len(ids)), *_keys(ids)))
        ids, minutes, kinds = ids[order], minutes[order], kinds[order]
        last = np.ones(len(ids), bool)
        last[:-1] = ids[:-1] != ids[1:]
        ids, minutes, kinds = ids[last], minutes[last], kinds[last]
        read, unread = self.read, self.unread
        self.version += 1
        is_read = kinds == READ
        now_read, now_unread = _names(ids[is_read]), _names(ids[~is_read])
        if unread:
            for pid in now_read:
                unread.pop(pid, None)
        if read:
            for pid in now_unread:
                read.pop(pid, None)
        read.update(zip(now_read, minutes[is_read].tolist(), strict=True))
        unread.update(zip(now_unread, minutes[~is_read].tolist(), strict=True))
        self._note_touched(now_read)
        self._note_touched(now_unread)

    def note_read(self, pid: str, minute: int) -> None:
        """Take a read mark that is not written yet (it is folded in again when it is)."""
        if pid not in self.read:
            self.read[pid] = minute
            self.version += 1
            self._note_touched([pid])

    def _note_touched(self, pids: list[str]) -> None:
        if self._touched is not None:
            self._touched.update(pids)
            if len(self._touched) > TOUCHED_KEPT:
                self._touched = None  # as good as everything: the caller looks at every paper

    def take_touched(self) -> set[str] | None:
        """The ids whose read state changed since the last call (None: any may have), and start afresh."""
        touched, self._touched = self._touched, set()
        return touched

    def known(self, pid: str) -> bool:
        """True when the paper was ever marked read or unread."""
        return pid in self.read or pid in self.unread

    # -- writing (the caller holds the store's lock) -------------------------------------
    def append(self, events: list[tuple[str, int, int]] | np.ndarray, sync: bool = True, fold: bool = True) -> None:
        """Append (paper id, kind, minute) events (or RECORD rows) and fold them in; fsync'd unless ``sync`` is False.

        ``fold=False`` (a background thread) only writes: the next ``refresh`` folds them in.
        """
        if not len(events):
            return
        if fold:
            self.refresh()
        payload = events.tobytes() if isinstance(events, np.ndarray) else encode(events)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise StoreError(self.path, f"could not save read marks: {err.strerror or err}") from None
        try:
            size = os.fstat(fd).st_size
            if size < len(MAGIC):
                os.ftruncate(fd, 0)
                payload = MAGIC + payload
                size = 0
            else:
                whole = size - (size - len(MAGIC)) % RECORD.itemsize
                if whole != size:
                    os.ftruncate(fd, whole)  # a record cut short by a kill
                size = whole
            try:
                os.lseek(fd, size, os.SEEK_SET)
                write_all(fd, payload)
                if sync:
                    os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise
            st = os.fstat(fd)
        except OSError as err:
            raise StoreError(self.path, f"could not save read marks: {err.strerror or err}") from None
        finally:
            os.close(fd)
        if not fold:
            return
        array = np.frombuffer(payload[len(payload) - len(events) * RECORD.itemsize :], RECORD)
        self._fold(array)
        if self._stamp is None or self._stamp[1] == size or size == 0:
            self._stamp = (st.st_ino, size + len(payload))
        if self._stamp is not None and self._stamp[0] == st.st_ino:
            total = (st.st_size - len(MAGIC)) // RECORD.itemsize
            if total >= self.compact_min and total > 2 * self.live():
                self.compact()

    def live(self) -> int:
        """How many events a compacted file would hold (at most: first-seen dates not folded yet count whole)."""
        waiting = sum(len(ids) for ids, _ in self._seen_waiting)
        return len(self.read) + len(self.unread) + len(self._seen_fold[0]) + waiting

    def compact(self) -> None:
        """Rewrite the file with one event per paper and kind (the caller holds the store's lock).

        Temp file, fsync, rename, folder fsync: a kill leaves the old file or the new one.
        Other processes see a new file (another inode) and read it whole.
        """
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return
        except OSError as err:
            raise StoreError(self.path, f"cannot read read marks: {err.strerror}") from None
        if data[: len(MAGIC)] != MAGIC:
            return  # not ours (refresh says so): never rewritten
        body = data[len(MAGIC) :]
        events = np.frombuffer(body, RECORD, count=len(body) // RECORD.itemsize)
        payload = MAGIC + compacted(events).tobytes()
        folder = self.path.parent
        tmp: str | None = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=self.temp_prefix, suffix=".tmp", dir=folder)
            try:
                write_all(fd, payload)
                os.fsync(fd)
                os.fchmod(fd, 0o644)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            tmp = None
            fsync_dir(folder)
            st = os.stat(self.path)
        except OSError as err:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            raise StoreError(self.path, f"could not compact read marks: {err.strerror or err}") from None
        self.seen_disorder = 0  # the dates are in the file by hash now
        if self._stamp is not None and self._stamp[1] == len(data) - (len(data) - len(MAGIC)) % RECORD.itemsize:
            self._stamp = (st.st_ino, len(payload))  # what is folded in is exactly what the new file holds
        else:
            self._stamp = None  # read it afresh


def compacted(events: np.ndarray) -> np.ndarray:
    """The events that fold to the same state: per paper its last read/unread event and its earliest first-seen."""
    kinds = events["v"] & 3
    out = []
    latest = events[kinds != SEEN]
    if len(latest):
        order = np.lexsort((np.arange(len(latest)), *_keys(latest["id"])))
        latest = latest[order]
        last = np.ones(len(latest), bool)
        last[:-1] = latest["id"][:-1] != latest["id"][1:]
        out.append(latest[last])
    seen = events[kinds == SEEN]
    if len(seen):
        # By hash (then id), as the fold reads them: the compacted dates are one sorted run.
        order = np.lexsort((seen["v"], *_keys(seen["id"]), _hash(seen["id"])))
        seen = seen[order]
        first = np.ones(len(seen), bool)
        first[1:] = seen["id"][1:] != seen["id"][:-1]
        out.append(seen[first])
    return np.concatenate(out) if out else events[:0]
