"""The search engines the benchmarks put side by side, each queried the way a user would.

- **paper-reader**: the application core the CLI and the app share (``open_library`` once,
  then ``search`` per query; partial matches after full ones when the answer has them), or
  the command line itself (``paper-reader search QUERY --json``, in-process, slower: it
  opens the digest per query); for big corpora, the search engine object directly.
- **fzf**: ``fzf --filter QUERY`` over one line per paper (title, then abstract).
- **rapidfuzz**: brute force, every paper scored with ``fuzz.partial_ratio`` (rapidfuzz's
  default preprocessing: lower case, non-alphanumerics to spaces).
- **tantivy**: the Rust engine's Python bindings, title and abstract indexed as two text
  fields; each query word becomes fuzzy term queries (see ``Tantivy.query``).

Every ranker returns row numbers (positions in the digest, file order), best first.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

Ranker = Callable[[str], list[int]]


def private_environment() -> str:
    """Point the store, caches and config of paper-reader at a fresh temp folder (never the user's), removed at exit."""
    tmp = tempfile.mkdtemp(prefix="paper-reader-bench-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    os.environ.update(
        PAPER_READER_DB=str(Path(tmp) / "store.json"),
        PAPER_READER_CACHE=str(Path(tmp) / "cache"),
        PAPER_READER_CONFIG=str(Path(tmp) / "config.toml"),
        XDG_DATA_HOME=tmp,
        XDG_CACHE_HOME=tmp,
        XDG_CONFIG_HOME=tmp,
    )
    return tmp


# -- paper-reader ---------------------------------------------------------------------------
def engine_modules() -> tuple[Any, Any]:
    """(the search engine module, the index cache module), wherever the package keeps them."""
    try:
        from reader.index import cache, engine
    except ImportError:
        from reader import index_cache as cache
        from reader import search as engine
    return engine, cache


def ours_cli(digest: Path, ids: Sequence[str]) -> Ranker:
    """``paper-reader search QUERY DIGEST --json --limit 0`` in this process; rows in printed order."""
    from reader.cli import main

    row_of = {pid: i for i, pid in enumerate(ids)}
    db = os.environ.get("PAPER_READER_DB") or str(Path(private_environment()) / "store.json")

    def rank(query: str) -> list[int]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(["search", query, str(digest), "--json", "--limit", "0", "--db", db])
        return [row_of[json.loads(line)["id"]] for line in out.getvalue().splitlines() if line.strip()]

    return rank


def ours_core(digest: Path, ids: Sequence[str]) -> Ranker:
    """The application core the CLI and the app share: the digest opened once, then ``search`` per query."""
    from reader.core.opening import open_library
    from reader.store import Store

    db = os.environ.get("PAPER_READER_DB") or str(Path(private_environment()) / "store.json")
    library = open_library([digest], Store(db, readonly=True))
    assert [p.id for p in library.papers[: len(ids)]] == list(ids)
    return lambda query: ours_ranked(library.search(query))


def ours_ranked(result: Any) -> list[int]:
    """Rows of a search answer (the core's ``Found`` or the engine's ``Result``), best first.

    Full matches, then the partial matches (all words but one) the answer holds apart.
    """
    rows = result.rows if hasattr(result, "rows") else result.indices
    return [int(i) for i in rows] + [int(i) for i in getattr(result, "partial", ())]


# -- fzf --------------------------------------------------------------------------------
def fzf_ranker(papers: Sequence[tuple[str, str]]) -> Ranker | None:
    """``fzf --filter`` over ``title abstract`` lines (the row number in a field fzf does not search)."""
    exe = shutil.which("fzf")
    if not exe:
        return None
    lines = "".join(f"{i}\t{_one_line(t)} {_one_line(a)}\n" for i, (t, a) in enumerate(papers)).encode()

    def rank(query: str) -> list[int]:
        out = subprocess.run(
            [exe, "--filter", query, "--delimiter", "\t", "--nth", "2.."], input=lines, capture_output=True, check=False
        )
        return [int(line.split(b"\t", 1)[0]) for line in out.stdout.splitlines()]

    return rank


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- rapidfuzz ------------------------------------------------------------------------------
RAPIDFUZZ_VARIANTS = {
    "max": "max(partial_ratio(query, title), partial_ratio(query, abstract))",
    "title-first": "partial_ratio(query, title), abstract's score x 0.95 where higher",
    "joined": "partial_ratio(query, title + ' ' + abstract)",
}


def rapidfuzz_ranker(papers: Sequence[tuple[str, str]], variant: str = "max") -> Ranker:
    """Every paper scored by ``partial_ratio`` (default_process), ties in file order."""
    import numpy as np
    from rapidfuzz import fuzz, process, utils

    titles = [utils.default_process(t) for t, _ in papers]
    abstracts = [utils.default_process(a) for _, a in papers]
    joined = [f"{t} {a}" for t, a in zip(titles, abstracts)]

    def scores(query: str, choices: list[str]) -> Any:
        return process.cdist(choices, [query], scorer=fuzz.partial_ratio, workers=-1)[:, 0].astype(float)

    def rank(query: str) -> list[int]:
        q = utils.default_process(query)
        if variant == "joined":
            s = scores(q, joined)
        else:
            t, a = scores(q, titles), scores(q, abstracts)
            s = np.maximum(t, a * (0.95 if variant == "title-first" else 1.0))
        return np.argsort(-s, kind="stable").tolist()

    return rank


# -- tantivy -------------------------------------------------------------------------------
TANTIVY_VARIANTS = {
    "or": "each word: fuzzy (Levenshtein 0/1/2 for 1-2/3-5/6+ letters, transposition = 1, "
    "as a prefix) or exact term, in title (boost 2) or abstract; words OR'd, BM25 order",
    "and": "same word queries, every word required (AND)",
    "or-stem": "as 'or', over an English-stemmed index (the query stemmed too)",
    "parser": "index.parse_query_lenient(query, [title, abstract], title boost 2, "
    "fuzzy_fields prefix + distance 1 + transposition 1); OR",
}


def tantivy_available() -> bool:
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return False
    return True


class Tantivy:
    """Title and abstract in a tantivy index (in memory, or a folder on disk), queried as a user types."""

    LIMIT = 100

    def __init__(self, path: Path | None = None, stem: bool = False, create: bool = True) -> None:
        import tantivy

        self.tantivy = tantivy
        self.stem = stem
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("row", stored=True)
        builder.add_text_field("title", stored=True, tokenizer_name="fold")
        builder.add_text_field("abstract", stored=False, tokenizer_name="fold")
        self.schema = builder.build()
        if path is not None and not create:
            self.index = tantivy.Index.open(str(path))
        else:
            if path is not None:
                Path(path).mkdir(parents=True, exist_ok=True)
            self.index = tantivy.Index(self.schema, path=str(path) if path else None, reuse=False)
        ana = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(40))
        ana = ana.filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold())
        if stem:
            ana = ana.filter(tantivy.Filter.stemmer("english"))
        self.analyzer = ana.build()
        self.index.register_tokenizer("fold", self.analyzer)
        self.searcher: Any = None

    def add(self, papers: Sequence[tuple[str, str]], start: int = 0, heap: int = 200_000_000) -> None:
        """Index papers (row numbers from ``start``) and commit."""
        writer = self.index.writer(heap)
        for i, (title, abstract) in enumerate(papers, start):
            writer.add_document(self.tantivy.Document(row=i, title=title, abstract=abstract))
        writer.commit()
        writer.wait_merging_threads()
        self.reload()

    def reload(self) -> None:
        self.index.reload()
        self.searcher = self.index.searcher()

    def query(self, text: str, variant: str = "or") -> Any:
        t = self.tantivy
        if variant == "parser":
            fuzzy = {"title": (True, 1, True), "abstract": (True, 1, True)}
            q, _errors = self.index.parse_query_lenient(text, ["title", "abstract"], {"title": 2.0}, fuzzy)
            return q
        words = [tok for tok in self.analyzer.analyze(text)]
        if not words:
            return t.Query.all_query()
        per_word = []
        for w in words:
            d = 0 if len(w) <= 2 else 1 if len(w) <= 5 else 2
            clauses = []
            for field, boost in (("title", 2.0), ("abstract", 1.0)):
                exact = t.Query.term_query(self.schema, field, w)
                fuzzy = t.Query.fuzzy_term_query(
                    self.schema, field, w, distance=d, transposition_cost_one=True, prefix=True
                )
                clauses.append((t.Occur.Should, t.Query.boost_query(exact, boost)))
                clauses.append((t.Occur.Should, t.Query.boost_query(fuzzy, boost)))
            per_word.append(t.Query.boolean_query(clauses))
        occur = t.Occur.Must if variant == "and" else t.Occur.Should
        return t.Query.boolean_query([(occur, q) for q in per_word])

    def search(self, text: str, variant: str = "or", limit: int = LIMIT) -> tuple[list[int], int]:
        """Rows of the best ``limit`` hits, and how many papers matched."""
        result = self.searcher.search(self.query(text, variant), limit=limit, count=True)
        rows = [self.searcher.doc(address)["row"][0] for _score, address in result.hits]
        return rows, result.count

    def ranker(self, variant: str = "or") -> Ranker:
        return lambda query: self.search(query, variant)[0]


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
