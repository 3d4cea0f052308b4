"""Soak: writers killed with SIGKILL at random moments, two at a time, hundreds of times.

Writers are forked from one Python process that has the store already imported (a
"zygote"), so a kill costs milliseconds instead of an interpreter start; a few rounds use
the real ``paper-reader tag`` command. After every round the store must open, hold every
change a writer acknowledged (a line printed after the store call returned), and keep
no temp file once it is opened again.

The work is fixed, not the time: each writer is killed only after it has acknowledged
``MIN_ACKS`` changes (then at a random moment), and the last command-line run is let finish,
so a busy machine does the same work, only slower. Kills at each step of a save, one by one,
are in test_store_faults.py; here they land wherever they land.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from reader.digest import bundled_digest, load_library
from reader.store import TMP_PREFIX, Store

ROUNDS = 100  # two writers each: 200 kills
MIN_ACKS = 2  # changes each writer has acknowledged before it may be killed
CLI_ROUNDS = 6  # the last one is let finish
HANG = 60.0  # seconds: only a hang waits this long
TARGETS = [f"target-{n}" for n in range(5)]
CLI_TARGET = load_library([bundled_digest()]).papers[0].id  # the command tags only papers it can name

ZYGOTE = textwrap.dedent(
    """
    import os, signal, sys
    from reader.store import Store
    path = sys.argv[1]
    out = sys.stdout.fileno()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they die

    def say(text):
        os.write(out, (text + "\\n").encode())  # one write: whole lines, even from a killed child

    say("zygote")
    for line in sys.stdin:
        command, name = line.split()
        if command == "sync":
            say(f"sync {name}")
            continue
        if os.fork() == 0:
            try:
                store = Store(path)
                say(f"ready {name} {os.getpid()}")
                n = 0
                while True:
                    store.add_tags("shared", [f"{name}-{n}"])
                    store.set_bookmark(f"{name}-paper-{n}", True)
                    say(f"ack {name} {n}")
                    n += 1
            finally:
                os._exit(1)
    """
)


class Zygote:
    """The forking writer server and a thread reading what it and its children print."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.acks: dict[str, int] = {}  # writer name -> highest acknowledged n
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.wait("zygote") == "zygote"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if line.startswith("ack "):
                _, name, n = line.split()
                self.acks[name] = max(self.acks.get(name, -1), int(n))
            else:
                self.lines.put(line)

    def wait(self, prefix: str) -> str:
        line = self.lines.get(timeout=HANG)
        assert line.startswith(prefix), line
        return line

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=HANG)

    def wait_acks(self, name: str, count: int) -> None:
        """Until writer ``name`` has acknowledged ``count`` changes."""
        deadline = time.monotonic() + HANG
        while self.acks.get(name, -1) < count - 1:
            assert time.monotonic() < deadline, f"writer {name} acknowledged nothing for {HANG:g} s"
            time.sleep(0.001)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def reader_command() -> list[str]:
    beside = Path(sys.executable).parent / "paper-reader"
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "reader"]


def check(path: Path, acks: dict[str, int], cli_acks: set[str], padding: int) -> None:
    """The store opens and holds every acknowledged change; opening it clears leftovers."""
    records = Store(path).records()  # parses, or this raises
    shared = set(records["shared"]["tags"])
    for name, last in acks.items():
        for n in range(last + 1):
            assert f"{name}-{n}" in shared, f"lost tag {name}-{n}"
            assert records[f"{name}-paper-{n}"]["bookmarked_at"], f"lost bookmark {name}-paper-{n}"
    assert cli_acks <= set(records.get(CLI_TARGET, {}).get("tags", ()))
    assert sum(1 for pid in records if pid.startswith("padding-")) == padding
    assert not list(path.parent.glob(TMP_PREFIX + "*")), "a killed writer's temp file outlived a fresh open"


def test_writers_killed_at_random_two_at_a_time_lose_nothing(db_path):
    store = Store(db_path)
    # A few hundred records after the ones written to: a save takes long enough to be cut.
    store.update_many([f"padding-{n}" for n in range(300)], lambda r: r.update(note="x" * 150))
    store.update_many(TARGETS + ["shared"], lambda r: r.update(note="start"))
    rng = random.Random(20240607)
    zygote = Zygote(db_path)
    cli_acks: set[str] = set()
    try:
        for round_ in range(ROUNDS):
            names = [f"r{round_}a", f"r{round_}b"]
            for name in names:
                zygote.send(f"spawn {name}")
            ready = dict(zygote.wait("ready").split()[1:] for _ in names)  # name -> pid, in any order
            pids = [int(ready[name]) for name in names]
            for name, pid in zip(names, pids, strict=True):  # each at its own moment, the other still writing
                zygote.wait_acks(name, MIN_ACKS)
                time.sleep(rng.uniform(0.0, 0.025))
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + HANG
            while not all(gone(pid) for pid in pids):
                assert time.monotonic() < deadline
                time.sleep(0.001)
            zygote.send(f"sync {round_}")  # every ack of the dead writers is read before this
            assert zygote.wait("sync") == f"sync {round_}"
            check(db_path, zygote.acks, cli_acks, 300)
        # The real command, killed while it starts up, reads or saves.
        for n in range(CLI_ROUNDS):
            child = subprocess.Popen(
                [*reader_command(), "--db", str(db_path), "tag", CLI_TARGET, f"cli-{n}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            last = n == CLI_ROUNDS - 1
            try:
                child.wait(timeout=HANG if last else rng.uniform(0.1, 0.8))
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
            out, err = child.communicate(timeout=HANG)
            assert child.returncode == 0 or not last, err
            if child.returncode == 0:
                assert out.startswith("tags +cli-"), out
                cli_acks.add(f"cli-{n}")
            else:
                assert child.returncode == -signal.SIGKILL, err
            check(db_path, zygote.acks, cli_acks, 300)
    finally:
        zygote.close()
    acknowledged = sum(last + 1 for last in zygote.acks.values())
    assert acknowledged >= 2 * ROUNDS * MIN_ACKS
    assert f"cli-{CLI_ROUNDS - 1}" in cli_acks
    assert len(Store(db_path).records()["shared"]["tags"]) >= acknowledged
