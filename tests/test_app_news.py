"""Background work reaches the main screen as messages: a big digest loading, the index, the comparison."""

from __future__ import annotations

from pathlib import Path

from reader.app import PaperReaderApp
from reader.digest import Library, LibraryLoader
from reader.store import Store
from reader.widgets.paper_list import PaperList
from tests.app_support import SIZE, settle

ABSTRACT = "An abstract about operators, kernels and learning maps between function spaces, long enough to index."


async def test_the_border_follows_a_big_digest_loading_then_indexing(tmp_path: Path) -> None:
    count = 3000
    path = tmp_path / "big.txt"
    text = "".join(f"Paper number {n} on operators\n{ABSTRACT} w{n}\n" for n in range(count))
    path.write_text(text, encoding="utf-8")
    app = PaperReaderApp(Library(), Store(tmp_path / "s.json"), loader=LibraryLoader([path]))
    async with app.run_test(size=SIZE) as pilot:
        papers = app.screen.query_one(PaperList)
        headings: list[str] = []
        papers.watch(papers, "heading", lambda heading: headings.append(heading))
        await settle(app, pilot)
        # The app's messages (papers loaded, index ready) reached the screen: the border says it is all there.
        assert papers.heading == "Papers"
        assert papers.counts.startswith(f"{count} / {count} · {count} unread")
        assert len(papers.rows) == count
        # Loading is said before indexing, never after it.
        states = [h.split(" · ")[1].split()[0] for h in headings if " · " in h]
        assert states == sorted(states, key=lambda state: state != "loading"), headings
        # A search runs on the index built from every paper.
        await pilot.press("slash", *"'w2999", "enter")
        await settle(app, pilot)
        assert papers.counts.startswith(f"1 / {count}")
        assert papers.paper is not None and papers.paper.title == "Paper number 2999 on operators"
