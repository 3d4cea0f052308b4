"""The detail pane shows what a structured source said: arXiv id, authors, upvotes, date, its links."""

from __future__ import annotations

import json
from pathlib import Path

from app_support import SIZE, make_app, settle, text
from textual.widgets import Static

AUTHORS = ["Ada Lovelace", "Bo Li", "Kurt Gödel", "Emmy Noether", "\x1b[31mEve\x1b[0m [bold]x[/bold]"]


async def test_the_detail_pane_shows_authors_upvotes_and_date(tmp_path: Path) -> None:
    path = tmp_path / "2024-05-02.jsonl"
    records = [
        {
            "arxiv_id": "2405.00001",
            "title": "Sparse Experts",
            "abstract": "We route tokens.",
            "authors": AUTHORS,
            "upvotes": 42,
            "published": "2024-05-01",
            "github_repo": "https://github.com/example/sparse",
        }
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    app = make_app(tmp_path / "store.json", path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        meta = text(app.screen.query_one("#detail-meta", Static))
        assert "id 2405.00001" in meta
        assert "Ada Lovelace, Bo Li, Kurt Gödel +2 more" in meta
        assert "42 upvotes" in meta and "published 2024-05-01" in meta
        links = text(app.screen.query_one("#detail-links", Static))
        assert "arXiv: https://arxiv.org/abs/2405.00001" in links and "Code: https://github.com/example/sparse" in links
