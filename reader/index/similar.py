"""More like this: TF-IDF cosine similarity over titles and abstracts.

Built once per load (off the UI thread in the app), then each "similar to" query
is a few sparse dot products through an inverted index.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np

from reader.paper import Paper
from reader.text import fold

TITLE_REPEAT = 2  # title words count twice: a title says what a paper is about
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "here",
        "how",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "more",
        "most",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "paper",
        "papers",
        "propose",
        "proposed",
        "show",
        "shows",
        "shown",
        "results",
        "result",
        "method",
        "methods",
        "approach",
        "approaches",
        "using",
        "use",
        "used",
        "based",
        "new",
        "work",
        "via",
        "however",
        "first",
        "two",
        "one",
        "also",
        "well",
    ]
)


CHECK_EVERY = 1000  # papers between two looks at whether the build was called off


def words(text: str) -> list[str]:
    """The content words of a text, folded."""
    return [w for w in fold(text).split() if len(w) > 2 and w not in STOPWORDS and not w.isdigit()]


class Cancelled(Exception):
    """Building a Similarity was called off (``cancelled`` said so)."""


class Similarity:
    """TF-IDF vectors of papers (unit length), with an inverted index for fast cosine scores."""

    def __init__(self, papers: list[Paper], cancelled: Callable[[], bool] | None = None) -> None:
        """Build over ``papers`` (seconds at 100k); ``cancelled`` is asked every CHECK_EVERY
        papers and raises Cancelled when it says yes (the app is quitting)."""
        self.n = len(papers)
        vocab: dict[str, int] = {}
        doc_terms: list[np.ndarray] = []
        doc_tf: list[np.ndarray] = []
        df: Counter[int] = Counter()
        for number, paper in enumerate(papers):
            if cancelled is not None and number % CHECK_EVERY == 0 and cancelled():
                raise Cancelled
            counts = Counter(words(paper.title) * TITLE_REPEAT + words(paper.abstract))
            ids = np.fromiter((vocab.setdefault(w, len(vocab)) for w in counts), dtype=np.int64, count=len(counts))
            doc_terms.append(ids)
            doc_tf.append(1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))))
            df.update(ids.tolist())
        df_array = np.zeros(len(vocab), dtype=np.float64)
        for term, count in df.items():
            df_array[term] = count
        self.idf = np.log((1 + self.n) / (1 + df_array)) + 1.0
        lengths = np.array([len(t) for t in doc_terms], dtype=np.int64)
        self.doc_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        terms = np.concatenate(doc_terms) if doc_terms else np.zeros(0, dtype=np.int64)
        weights = np.concatenate(doc_tf) if doc_tf else np.zeros(0)
        weights = weights * self.idf[terms]
        docs = np.repeat(np.arange(self.n, dtype=np.int64), lengths)
        norms = np.sqrt(np.bincount(docs, weights=weights**2, minlength=self.n))
        weights = weights / np.where(norms[docs] > 0, norms[docs], 1.0)
        self.doc_terms, self.doc_weights = terms, weights
        # The same entries sorted by term: the inverted index.
        order = np.argsort(terms, kind="stable")
        self.post_docs = docs[order]
        self.post_weights = weights[order]
        self.term_ptr = np.searchsorted(terms[order], np.arange(len(vocab) + 1))

    def _vector(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.doc_ptr[index], self.doc_ptr[index + 1]
        return self.doc_terms[lo:hi], self.doc_weights[lo:hi]

    def _scores(self, terms: np.ndarray, weights: np.ndarray) -> np.ndarray:
        scores = np.zeros(self.n, dtype=np.float64)
        for term, weight in zip(terms.tolist(), weights.tolist()):
            lo, hi = self.term_ptr[term], self.term_ptr[term + 1]
            scores[self.post_docs[lo:hi]] += weight * self.post_weights[lo:hi]
        return scores

    def similar(self, index: int, limit: int = 50) -> list[tuple[int, float]]:
        """The papers most like paper ``index`` (itself excluded), best first, with cosine scores."""
        scores = self._scores(*self._vector(index))
        scores[index] = 0.0
        return _top(scores, limit)

    def ranked_to(self, indices: Iterable[int]) -> np.ndarray:
        """Every paper's cosine similarity to the centroid of these papers (arxiv-sanity style)."""
        total: dict[int, float] = {}
        chosen = list(indices)
        for index in chosen:
            for term, weight in zip(*(a.tolist() for a in self._vector(index))):
                total[term] = total.get(term, 0.0) + weight / max(len(chosen), 1)
        if not total:
            return np.zeros(self.n)
        terms = np.fromiter(total.keys(), dtype=np.int64, count=len(total))
        weights = np.fromiter(total.values(), dtype=np.float64, count=len(total))
        return self._scores(terms, weights / np.linalg.norm(weights))


def _top(scores: np.ndarray, limit: int) -> list[tuple[int, float]]:
    positive = np.flatnonzero(scores > 0)
    if len(positive) > limit:
        part = np.argpartition(-scores[positive], limit)[:limit]
        positive = positive[part]
    order = positive[np.lexsort((positive, -scores[positive]))]
    return [(int(i), float(scores[i])) for i in order]
