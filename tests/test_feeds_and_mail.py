"""arXiv feeds (saved and fetched from a local server) and digest emails (.eml, HTML-only, mbox, stdin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ABSTRACT

from reader.cli import main
from reader.digest import load_library

HOSTILE = "Evil [0m[bold]title[/bold] \u202egnp.exe"  # what XML can carry: markup-like text, a bidi override


def rss(items: list[dict], category: str = "cs.LG") -> bytes:
    """An RSS 2.0 feed shaped like arXiv's (rss.arxiv.org/rss/CATEGORY)."""
    from xml.sax.saxutils import escape

    body = "".join(
        f"""<item>
  <title>{escape(i["title"])}</title>
  <link>https://arxiv.org/abs/{i["id"]}</link>
  <description>arXiv:{i["id"]}v1 Announce Type: {i.get("type", "new")}
Abstract: {escape(i["abstract"])}</description>
  <guid isPermaLink="false">oai:arXiv.org:{i["id"]}v1</guid>
  <category>{category}</category>
  <pubDate>Thu, 02 May 2024 00:00:00 -0400</pubDate>
  <arxiv:announce_type>{i.get("type", "new")}</arxiv:announce_type>
  <dc:creator>{escape(", ".join(i["authors"]))}</dc:creator>
</item>"""
        for i in items
    )
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">
<channel><title>{category} updates on arXiv.org</title><link>http://rss.arxiv.org/rss/{category}</link>
<description>{category} updates</description>
{body}
</channel></rss>""".encode()


ITEMS = [
    {"id": "2405.00001", "title": "Sparse Experts for Retrieval", "abstract": ABSTRACT, "authors": ["Ada L", "Alan T"]},
    {"id": "2405.00002", "title": HOSTILE, "abstract": "Short one. Code: https://github.com/x/y.", "authors": ["Eve"]},
    {
        "id": "2301.00003",
        "title": "An old paper, replaced",
        "abstract": ABSTRACT,
        "authors": ["Old"],
        "type": "replace",
    },
]

ATOM = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <title>arXiv Query: cat:cs.LG</title>
  <entry>
    <id>http://arxiv.org/abs/2405.00011v2</id>
    <published>2024-05-01T17:59:00Z</published>
    <title>Atom Entry: Learning
      Over Two Lines</title>
    <summary>  We learn things &amp; show &lt;b&gt;results&lt;/b&gt;.
    </summary>
    <author><name>Grace Hopper</name></author>
    <author><name>Edsger Dijkstra</name></author>
    <link href="http://arxiv.org/abs/2405.00011v2" rel="alternate" type="text/html"/>
  </entry>
</feed>
"""

LISTING = r"""------------------------------------------------------------------------------
\\
arXiv:2405.00021
Date: Thu, 2 May 2024 10:00:00 GMT   (120kb)

Title: A Listing Paper Whose Title
  Wraps onto a Second Line
Authors: Barbara Liskov, John
  McCarthy and Alan Kay
Categories: cs.LG cs.AI
Comments: 10 pages
\\
  We show that listings wrap their abstracts
  over several indented lines.
\\ ( https://arxiv.org/abs/2405.00021 ,  120kb)
------------------------------------------------------------------------------
\\
arXiv:2405.00022
Date: Thu, 2 May 2024 11:00:00 GMT   (80kb)

Title: Hostile [0m title in a listing
Authors: Mallory
Categories: cs.CR
\\
  A second abstract.
\\ ( https://arxiv.org/abs/2405.00022 ,  80kb)
------------------------------------------------------------------------------
"""

TRENDING_TEXT = "Get trending papers in your email inbox once a day!\n" + "".join(
    f"Trending paper {n}: a method\n{ABSTRACT}\n" for n in range(3)
)
TRENDING_HTML = (
    "<html><head><style>p {color: red}</style></head><body><h1>Trending papers</h1>"
    + "".join(
        f'<h3><a href="https://huggingface.co/papers/2405.0003{n}">HTML paper {n} &amp; friends</a></h3>'
        f"<p>{ABSTRACT}</p>"
        for n in range(3)
    )
    + "<script>alert(1)</script></body></html>"
)


def email(subject: str, text: str | None = None, html: str | None = None, date: str = "Thu, 2 May 2024") -> bytes:
    message = EmailMessage()
    message["From"] = "digest@example.org"
    message["To"] = "me@example.org"
    message["Subject"] = subject
    message["Date"] = f"{date} 08:00:00 +0000"
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return bytes(message)


def listed(capsys, *paths: str) -> list[str]:
    capsys.readouterr()
    assert main(["list", *paths]) == 0, capsys.readouterr().err
    return capsys.readouterr().out.splitlines()


@pytest.fixture(autouse=True)
def private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPER_READER_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("PAPER_READER_DIGESTS", str(tmp_path / "digests"))
    monkeypatch.setenv("PAPER_READER_DB", str(tmp_path / "store.json"))


# -- saved feeds ---------------------------------------------------------------------------


def test_a_saved_arxiv_rss_file_opens_as_a_digest(tmp_path, capsys):
    path = tmp_path / "cs.LG.rss"
    path.write_bytes(rss(ITEMS))
    lines = listed(capsys, str(path))
    assert lines[0] == "2405.00001\tSparse Experts for Retrieval"
    assert lines[1] == "2405.00002\tEvil [0m[bold]title[/bold] gnp.exe"
    assert len(lines) == 2  # the replacement of an old paper is not news
    paper = load_library([path]).papers[0]
    assert paper.abstract == ABSTRACT and paper.meta.authors == ("Ada L", "Alan T")
    assert paper.meta.published == "2024-05-02"


def test_a_saved_atom_file_opens_as_a_digest(tmp_path):
    path = tmp_path / "query.xml"
    path.write_bytes(ATOM)
    [paper] = load_library([path]).papers
    assert paper.title == "Atom Entry: Learning Over Two Lines"
    assert paper.abstract == "We learn things & show results."
    assert paper.meta.arxiv_id == "2405.00011" and paper.meta.authors == ("Grace Hopper", "Edsger Dijkstra")


def test_a_broken_feed_is_one_line(tmp_path):
    path = tmp_path / "broken.rss"
    path.write_bytes(rss(ITEMS)[:300])
    done = subprocess.run(
        [sys.executable, "-m", "reader", "list", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"paper-reader: error: {path}: not a well-formed RSS/Atom feed")


# -- fetch --arxiv ---------------------------------------------------------------------------


@pytest.fixture
def arxiv_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    state: dict = {"paths": [], "mode": "ok"}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            state["paths"].append(self.path)
            if state["mode"] == "500":
                self.send_response(500)
                self.end_headers()
                return
            category = self.path.rsplit("/", 1)[-1]
            body = rss(ITEMS if category == "cs.LG" else ITEMS[:1], category)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.handle_error = lambda request, address: None  # a client that hung up is not the test's output
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PAPER_READER_ARXIV_URL", f"http://127.0.0.1:{server.server_address[1]}/rss")
    waits: list[float] = []

    class Clock:  # time as the fetcher sees it: the server answers at once, sleeping moves the clock
        now = 1000.0

        @classmethod
        def monotonic(cls) -> float:
            return cls.now

        @classmethod
        def sleep(cls, seconds: float) -> None:
            waits.append(seconds)
            cls.now += seconds

    monkeypatch.setattr("reader.sources.arxiv.time", Clock)
    monkeypatch.setattr("reader.sources.arxiv._last_call", 0.0)
    state["waits"] = waits
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_arxiv_writes_the_category_day_and_is_idempotent(arxiv_server, tmp_path, capsys):
    assert main(["fetch", "--arxiv", "cs.LG"]) == 0
    path = tmp_path / "digests" / "arxiv-cs.LG-2024-05-02.jsonl"
    assert capsys.readouterr().out == f"{path}\t2 papers\tnew\n"
    first = json.loads(path.read_text().splitlines()[0])
    assert first["arxiv_id"] == "2405.00001" and first["authors"] == ["Ada L", "Alan T"]
    assert main(["fetch", "--arxiv", "cs.LG"]) == 0
    assert capsys.readouterr().out.endswith("\tunchanged\n")
    assert arxiv_server["paths"] == ["/rss/cs.LG", "/rss/cs.LG"]
    assert arxiv_server["waits"] == [3.0]  # the second call waited 3 s after the first


def test_fetch_two_categories_waits_between_calls(arxiv_server, tmp_path):
    assert main(["fetch", "--arxiv", "cs.lg,math.PR"]) == 0
    assert arxiv_server["paths"] == ["/rss/cs.LG", "/rss/math.PR"]
    assert arxiv_server["waits"] == [3.0]
    assert sorted(p.name for p in (tmp_path / "digests").iterdir()) == [
        "arxiv-cs.LG-2024-05-02.jsonl",
        "arxiv-math.PR-2024-05-02.jsonl",
    ]


@pytest.mark.parametrize("category", ["nosuch.XX", "cs LG", "../etc"])
def test_an_unknown_category_is_one_line_and_asks_nothing(arxiv_server, capsys, category):
    assert main(["fetch", "--arxiv", category]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "arXiv: unknown category" in err and "cs.LG" in err
    assert arxiv_server["paths"] == []


def test_an_arxiv_server_error_leaves_the_folder_as_it_was(arxiv_server, tmp_path, capsys):
    assert main(["fetch", "--arxiv", "cs.LG"]) == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "digests").iterdir()}
    arxiv_server["mode"] = "500"
    capsys.readouterr()
    assert main(["fetch", "--arxiv", "cs.LG"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "arXiv (http://127.0.0.1:" in err and "server error (HTTP 500)" in err
    assert {p.name: p.read_bytes() for p in (tmp_path / "digests").iterdir()} == before


# -- emails -------------------------------------------------------------------------------------


def test_an_eml_with_a_text_part(tmp_path, capsys):
    path = tmp_path / "digest.eml"
    path.write_bytes(email("Trending papers", text=TRENDING_TEXT, html="<p>ignored when there is text</p>"))
    assert [line.split("\t")[1] for line in listed(capsys, str(path))] == [
        f"Trending paper {n}: a method" for n in range(3)
    ]


def test_an_eml_with_only_html(tmp_path, capsys):
    path = tmp_path / "digest.eml"
    path.write_bytes(email("Trending papers", html=TRENDING_HTML))
    library = load_library([path])
    assert [p.title for p in library.papers] == [f"HTML paper {n} & friends" for n in range(3)]
    assert all(p.abstract == ABSTRACT for p in library.papers)
    assert not any("alert" in p.title + p.abstract or "color" in p.title for p in library.papers)


def test_an_arxiv_listing_email(tmp_path):
    path = tmp_path / "listing.eml"
    path.write_bytes(email("cs daily Subj-class mailing", text=LISTING))
    papers = load_library([path]).papers
    assert [p.public_id for p in papers] == ["2405.00021", "2405.00022"]
    assert papers[0].title == "A Listing Paper Whose Title Wraps onto a Second Line"
    assert papers[0].abstract == "We show that listings wrap their abstracts over several indented lines."
    assert papers[0].meta.authors == ("Barbara Liskov", "John McCarthy", "Alan Kay")
    assert papers[0].meta.published == "2024-05-02"
    assert papers[1].title == "Hostile [0m title in a listing"


def test_an_mbox_of_several_days(tmp_path, capsys):
    days = [
        email("Trending papers", text=TRENDING_TEXT, date="Wed, 1 May 2024"),
        email("cs daily", text=LISTING, date="Thu, 2 May 2024"),
        email("Trending papers", html=TRENDING_HTML.replace("From", ">From"), date="Fri, 3 May 2024"),
    ]
    path = tmp_path / "digests.mbox"
    path.write_bytes(b"".join(b"From digest@example.org Thu May  2 08:00:00 2024\n" + d + b"\n" for d in days))
    titles = [line.split("\t")[1] for line in listed(capsys, str(path))]
    assert len(titles) == 8 and titles[0] == "Trending paper 0: a method" and titles[-1] == "HTML paper 2 & friends"


def test_an_email_piped_into_stdin(tmp_path):
    env = dict(os.environ, PAPER_READER_DB=str(tmp_path / "store.json"))
    done = subprocess.run(
        [sys.executable, "-m", "reader", "list", "-"],
        input=email("cs daily", text=LISTING),
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[0].startswith("2405.00021\tA Listing Paper")


@pytest.mark.skipif(not __import__("shutil").which("tmux"), reason="tmux drives the app in a real terminal")
def test_the_app_on_a_piped_email_reads_its_keys_from_the_terminal(tmp_path):
    import shlex
    import time
    import uuid

    path = tmp_path / "listing.eml"
    path.write_bytes(email("cs daily", text=LISTING))
    socket = f"sources-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE", "DISPLAY", "WAYLAND_DISPLAY")}
    env.update(
        PAPER_READER_DB=str(tmp_path / "store.json"),
        PAPER_READER_CACHE=str(tmp_path / "cache"),
        PAPER_READER_CONFIG=str(tmp_path / "config.toml"),
        SHELL="/bin/sh",
    )
    done = tmp_path / "exit"
    command = (
        f"cat {shlex.quote(str(path))} | {shlex.quote(sys.executable)} -m reader -; echo $? > {shlex.quote(str(done))}"
    )
    tmux = ["tmux", "-L", socket]
    subprocess.run([*tmux, "new-session", "-d", "-x", "120", "-y", "30", command], env=env, check=True, timeout=30)

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True, timeout=30).stdout

    def wait_for(check, what: str) -> None:
        deadline = time.monotonic() + 60  # only a hang waits this long
        while not check():
            assert time.monotonic() < deadline, f"never saw {what}:\n{screen()}"
            time.sleep(0.2)

    try:
        wait_for(lambda: "A Listing Paper Whose Title" in screen(), "the first paper")
        subprocess.run([*tmux, "send-keys", "j"], check=True, timeout=30)
        wait_for(lambda: "A second abstract." in screen(), "the second paper's abstract after j")
        subprocess.run([*tmux, "send-keys", "q"], check=True, timeout=30)
        wait_for(done.exists, "the app quitting on q")
        assert done.read_text().strip() == "0"
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=30)


def test_a_folder_reads_feeds_and_emails_but_not_any_xml(tmp_path, capsys):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "2024-05-02.rss").write_bytes(rss(ITEMS[:1]))
    (folder / "2024-05-03.eml").write_bytes(email("cs daily", text=LISTING))
    (folder / "settings.xml").write_text("<settings><theme>dark</theme></settings>")
    ids = [line.split("\t")[0] for line in listed(capsys, str(folder))]
    assert ids == ["2405.00021", "2405.00022", "2405.00001"]  # newest name first
    capsys.readouterr()
    assert main(["list", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["arxiv_id"] == "2405.00021"
