"""``paper-reader fetch`` against a real local HTTP server standing in for the Hugging Face Hub."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from reader.cli import main
from reader.core.opening import default_digests
from reader.digest import bundled_digest, load_library

TODAY = dt.datetime.now(dt.UTC).date()
DAY = dt.date(2024, 5, 2)
HOSTILE = "\x1b[2J\x1b[31mRed [bold]Boom[/bold]\x1b]52;c;ZXZpbA==\x07 title\u202e"


def hub_paper(n: int, day: dt.date, upvotes: int = 10, **extra) -> dict:
    """One entry as /api/daily_papers answers (what huggingface_hub's PaperInfo reads)."""
    paper = {
        "id": f"2405.{n:05d}",
        "authors": [{"name": f"Author {n} A"}, {"name": "Ada Lovelace"}],
        "publishedAt": f"{day - dt.timedelta(days=1)}T17:59:00.000Z",
        "title": f"Paper {n} of {day}: learning things",
        "summary": f"We study thing {n}. It works on every benchmark we tried, and the code is public.",
        "upvotes": upvotes + n,
        "discussionId": f"d{n}",
    }
    entry = {
        "paper": paper,
        "publishedAt": f"{day}T08:00:00.000Z",
        "title": paper["title"],
        "numComments": 1,
        "githubRepo": f"https://github.com/example/paper-{n}",
        "projectPage": f"https://example.org/p{n}",
        "ai_keywords": ["diffusion", "retrieval"],
    }
    entry.update(extra)
    return entry


class Hub:
    """What the server answers: papers per day, or a failure mode for every request."""

    def __init__(self) -> None:
        self.days: dict[str, list[dict]] = {}
        self.mode = "ok"
        self.calls: list[dict[str, str]] = []
        self.per_day = 3

    def papers(self, day: str) -> list[dict]:
        if day not in self.days:
            date = dt.date.fromisoformat(day)
            self.days[day] = [hub_paper(n, date) for n in range(self.per_day)]
        return self.days[day]


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Hub]:
    state = Hub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            state.calls.append(query)
            if url.path != "/api/daily_papers":
                return self._send(404, b'{"error": "not found"}')
            if state.mode == "slow":
                time.sleep(3)
            if state.mode in ("429", "500", "503"):
                return self._send(int(state.mode), b'{"error": "nope"}')
            if state.mode == "truncated":
                return self._send(200, json.dumps(state.papers(query["date"])).encode()[:150])
            if state.mode == "cut":  # the connection closes before the promised length
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b'[{"paper": {"id": "2405.0')
                return
            if state.mode == "not-a-list":
                return self._send(200, b'{"papers": 3}')
            papers = state.papers(query.get("date", str(TODAY)))
            page, limit = int(query.get("p", 0)), int(query.get("limit", 50))
            return self._send(200, json.dumps(papers[page * limit : (page + 1) * limit]).encode())

        def _send(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.handle_error = lambda request, address: None  # a client that hung up is not the test's output
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("PAPER_READER_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("PAPER_READER_DIGESTS", str(tmp_path / "digests"))
    monkeypatch.setenv("PAPER_READER_DB", str(tmp_path / "store.json"))
    monkeypatch.setattr("reader.sources.fetch.DAY_PAUSE", 0)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def fetch(*args: str) -> int:
    return main(["fetch", *args])


def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def test_fetch_writes_the_day_with_every_field(hub, tmp_path, capsys):
    assert fetch("--date", str(DAY)) == 0
    path = tmp_path / "digests" / f"{DAY}.jsonl"
    assert f"{path}\t3 papers\tnew" in capsys.readouterr().out
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert records[1] == {
        "arxiv_id": "2405.00001",
        "title": f"Paper 1 of {DAY}: learning things",
        "abstract": "We study thing 1. It works on every benchmark we tried, and the code is public.",
        "authors": ["Author 1 A", "Ada Lovelace"],
        "published": str(DAY - dt.timedelta(days=1)),
        "submitted": str(DAY),
        "upvotes": 11,
        "github_repo": "https://github.com/example/paper-1",
        "project_page": "https://example.org/p1",
        "keywords": ["diffusion", "retrieval"],
    }
    papers = load_library([tmp_path / "digests"]).papers
    assert [p.title for p in papers] == [r["title"] for r in records]
    assert papers[1].meta is not None and papers[1].meta.authors == ("Author 1 A", "Ada Lovelace")
    assert papers[1].meta.upvotes == 11 and papers[1].meta.arxiv_id == "2405.00001"


def test_the_whole_day_is_fetched_page_by_page_up_to_the_cap(hub, tmp_path):
    hub.per_day = 120
    assert fetch("--date", str(DAY)) == 0
    lines = (tmp_path / "digests" / f"{DAY}.jsonl").read_text().splitlines()
    assert len(lines) == 120 and len({json.loads(line)["arxiv_id"] for line in lines}) == 120
    assert [c["p"] for c in hub.calls] == ["0", "1", "2"]
    (tmp_path / "config.toml").write_text("fetch_max = 70\n")
    assert fetch("--date", str(DAY)) == 0
    assert len((tmp_path / "digests" / f"{DAY}.jsonl").read_text().splitlines()) == 70
    assert fetch("--date", str(DAY), "--limit", "5") == 0
    assert len((tmp_path / "digests" / f"{DAY}.jsonl").read_text().splitlines()) == 5


def test_a_second_fetch_changes_nothing_unless_the_answer_changed(hub, tmp_path, capsys):
    path = tmp_path / "digests" / f"{DAY}.jsonl"
    assert fetch("--date", str(DAY)) == 0
    before = path.stat()
    assert fetch("--date", str(DAY)) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("\tunchanged")
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    hub.days[str(DAY)][0]["paper"]["upvotes"] = 99
    assert fetch("--date", str(DAY)) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("\tupdated")
    assert json.loads(path.read_text().splitlines()[0])["upvotes"] == 99
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_since_fills_the_missing_days(hub, tmp_path):
    folder = tmp_path / "digests"
    start = TODAY - dt.timedelta(days=4)
    assert fetch("--date", str(TODAY - dt.timedelta(days=2))) == 0
    hub.calls.clear()
    assert fetch("--since", str(start)) == 0
    asked = [c["date"] for c in hub.calls]
    assert str(TODAY - dt.timedelta(days=2)) not in asked  # it had its file already
    assert asked == [str(start + dt.timedelta(days=n)) for n in (0, 1, 3, 4)]
    assert sorted(p.name for p in folder.iterdir()) == [f"{start + dt.timedelta(days=n)}.jsonl" for n in range(5)]


def test_week_and_month_write_one_file_per_day(hub, tmp_path):
    assert fetch("--week", "2024-W18") == 0
    assert sorted(p.stem for p in (tmp_path / "digests").iterdir()) == [f"2024-04-{d:02d}" for d in range(29, 31)] + [
        f"2024-05-{d:02d}" for d in range(1, 6)
    ]
    assert fetch("--month", "2024-02") == 0
    assert len(list((tmp_path / "digests").glob("2024-02-*.jsonl"))) == 29


def test_an_empty_day_writes_nothing(hub, tmp_path, capsys):
    hub.per_day = 0
    assert fetch("--date", str(DAY)) == 0
    assert capsys.readouterr().out == f"{DAY}\tno papers\n"
    assert not (tmp_path / "digests").exists()


def test_a_paper_without_summary_and_hostile_titles(hub, tmp_path, capsys):
    papers = hub.papers(str(DAY))
    del papers[0]["paper"]["summary"]
    papers[1]["title"] = papers[1]["paper"]["title"] = HOSTILE
    papers[2]["paper"]["authors"] = [{"name": "\x1b[31mEve\x1b[0m"}]
    assert fetch("--date", str(DAY)) == 0
    data = (tmp_path / "digests" / f"{DAY}.jsonl").read_text()
    assert "\x1b" not in data and "\x07" not in data and "\u202e" not in data
    capsys.readouterr()
    assert main(["list", str(tmp_path / "digests")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "Red [bold]Boom[/bold] title" in out
    library = load_library([tmp_path / "digests"])
    assert library.papers[0].abstract == "" and library.papers[2].meta.authors == ("Eve",)


@pytest.mark.parametrize(
    "mode, words",
    [
        ("slow", "no answer within"),
        ("429", "HTTP 429"),
        ("500", "server error"),
        ("503", "server error"),
        ("truncated", "not the list of papers"),
        ("cut", "try again"),
        ("not-a-list", "not the list of papers"),
    ],
)
def test_a_failure_is_one_line_and_leaves_the_folder_as_it_was(hub, tmp_path, capsys, mode, words):
    folder = tmp_path / "digests"
    assert fetch("--date", str(DAY)) == 0
    (folder / "2024-01-01.txt").write_text("A title\nAn abstract that ends a sentence.\n")
    hub.days[str(DAY)][0]["paper"]["upvotes"] = 1234  # an answer that would change the file
    before = folder_state(folder)
    capsys.readouterr()
    hub.mode = mode
    assert fetch("--date", str(DAY), "--timeout", "0.5") == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("paper-reader: error: Hugging Face (http://127.0.0.1:") and words in err
    assert folder_state(folder) == before


@pytest.mark.parametrize("where", ["http://127.0.0.1:9", "http://no-such-host.invalid"])
def test_offline_or_dns_failure_is_one_line(hub, monkeypatch, capsys, where):
    monkeypatch.setenv("HF_ENDPOINT", where)
    assert fetch("--date", str(DAY), "--timeout", "5") == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and f"Hugging Face ({where}): cannot connect" in err
    assert "check the network" in err


def test_a_date_in_the_future_or_malformed_is_refused(hub, capsys):
    assert fetch("--date", str(TODAY + dt.timedelta(days=3))) == 2
    assert "in the future" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        fetch("--date", "yesterday")
    assert done.value.code == 2
    assert "not a date like 2024-05-01" in capsys.readouterr().err
    assert hub.calls == []


def test_plain_paper_reader_opens_the_default_folder_once_it_holds_a_digest(hub, tmp_path, capsys):
    assert default_digests(None) == [bundled_digest()]
    assert main(["list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 164
    assert fetch("--date", str(DAY)) == 0
    assert default_digests(None) == [tmp_path / "digests"]
    capsys.readouterr()
    assert main(["list"]) == 0
    assert capsys.readouterr().out.count(f"of {DAY}: learning things") == 3
