"""Synthetic digests built from the real digest's words (benchmarks/data/, never committed).

Titles and abstracts are drawn word by word from the bundled digest's title and
abstract tokens, with their real frequencies, and with their real lengths. A few
tokens in a thousand are made-up compounds ("resnet50", "padeformer") so the
vocabulary keeps growing with the corpus the way real text does (Heaps' law):
about 32k distinct words at 100k papers and 150k at 1M.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from reader.digest import bundled_digest, read_digest  # noqa: E402

DATA = ROOT / "data"
GEN_VERSION = 2
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
RARE_RATE = 0.003  # share of tokens replaced by a made-up compound
CHUNK = 20_000


def _source() -> tuple[list[tuple[str, str]], str]:
    path = bundled_digest()
    entries, _ = read_digest(path)
    return entries, hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest()


def digest_path(size: str) -> Path:
    return DATA / f"papers-{size}.txt"


def _meta(size: str, source_hash: str) -> dict[str, object]:
    return {"version": GEN_VERSION, "size": SIZES[size], "source": source_hash}


def ensure(size: str, log=print) -> Path:
    """Generate the digest of this size unless an up-to-date one is already there."""
    entries, source_hash = _source()
    path = digest_path(size)
    meta_path = path.with_suffix(".meta.json")
    want = _meta(size, source_hash)
    if path.exists() and meta_path.exists():
        try:
            if json.loads(meta_path.read_text()) == want:
                return path
        except ValueError:
            pass
    log(f"generating {path.name} ({SIZES[size]:,} papers) ...")
    DATA.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    generate(entries, SIZES[size], tmp, seed=SIZES[size])
    os.replace(tmp, path)
    meta_path.write_text(json.dumps(want))
    log(f"  {path.stat().st_size / 1e6:.0f} MB")
    return path


def generate(entries: list[tuple[str, str]], n: int, out: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    title_counts = Counter(w for t, _ in entries for w in t.split())
    abstract_counts = Counter(w for _, a in entries for w in a.split())
    t_words = np.array(list(title_counts), dtype=object)
    t_p = np.array(list(title_counts.values()), dtype=float)
    t_p /= t_p.sum()
    a_words = np.array(list(abstract_counts), dtype=object)
    a_p = np.array(list(abstract_counts.values()), dtype=float)
    a_p /= a_p.sum()
    t_lens = np.array([max(4, len(t.split())) for t, _ in entries])  # 4+: ids stay distinct
    a_lens = np.array([max(40, len(a.split())) for _, a in entries])
    # Made-up words: two real (lowercased, letters only) stems glued, or a stem and digits.
    stems = sorted({w.strip(".,:;()[]{}\"'").lower() for w in abstract_counts if w.isalpha() and len(w) > 3})
    stems_arr = np.array(stems, dtype=object)
    with open(out, "w", encoding="utf-8") as handle:
        handle.write("Get trending papers in your email inbox once a day!\n")
        for start in range(0, n, CHUNK):
            m = min(CHUNK, n - start)
            tl = rng.choice(t_lens, m)
            al = rng.choice(a_lens, m)
            tw = rng.choice(t_words, int(tl.sum()), p=t_p)
            aw = rng.choice(a_words, int(al.sum()), p=a_p)
            rare = np.flatnonzero(rng.random(len(aw)) < RARE_RATE)
            # Zipf-ish choice of stems so made-up words repeat across papers.
            left = stems_arr[np.minimum(rng.zipf(1.3, len(rare)) - 1, len(stems) - 1)]
            right = stems_arr[rng.integers(0, len(stems), len(rare))]
            digits = rng.integers(0, 100, len(rare))
            glue = rng.random(len(rare)) < 0.5
            aw[rare] = [f"{a}{b}" if g else f"{a}{d}" for a, b, d, g in zip(left, right, digits, glue)]
            lines = []
            ti = ai = 0
            for k in range(m):
                title = " ".join(tw[ti : ti + tl[k]])
                ti += tl[k]
                abstract = " ".join(aw[ai : ai + al[k]])
                ai += al[k]
                lines.append(f"{title[:1].upper()}{title[1:]}\n{abstract}\n")
            handle.write("".join(lines))


if __name__ == "__main__":
    for name in sys.argv[1:] or ["10k", "100k"]:
        ensure(name)
