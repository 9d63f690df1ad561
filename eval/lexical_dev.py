"""Compare lexical analysers on the development questions, at article level.

Indexes every article of the uz-legal corpus (code title + title + text; id ``<code>::<article_id>``),
runs the dev questions through each analyser variant, and reports R@10, nDCG@10 and MRR@10, then a
bootstrap 95% interval for the best variant, and the effect of thesaurus and typo expansion.

    python -m eval.lexical_dev [--corpus DIR] [--gold FILE] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from index.analysis import Analyzer
from index.lexical import LexicalIndex, expand_typos
from index.thesaurus import load_thesaurus

__all__ = ["bare_bm25", "bare_tokens", "mrr_at", "ndcg_at", "recall_at", "success_at", "main"]

_SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_CORPUS = _SHARED / "corpus" / "uz-legal" / "articles"
DEFAULT_GOLD = _SHARED / "eval" / "dev" / "gold_situations.jsonl"
K = 10


def recall_at(ranked: Sequence[str], gold: set[str], k: int = K) -> float:
    """|gold ∩ top k| / |gold|."""
    return len(gold & set(ranked[:k])) / len(gold)


def ndcg_at(ranked: Sequence[str], gold: set[str], k: int = K) -> float:
    """nDCG@k with binary gains (Järvelin & Kekäläinen 2002): Σ rel_i / log2(i+1), over the ideal."""
    dcg = sum(1.0 / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if doc in gold)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(gold), k)))
    return dcg / ideal


def mrr_at(ranked: Sequence[str], gold: set[str], k: int = K) -> float:
    """1 / rank of the first relevant document in the top k, else 0."""
    return next((1.0 / (i + 1) for i, doc in enumerate(ranked[:k]) if doc in gold), 0.0)


def success_at(ranked: Sequence[str], gold: set[str], k: int = K) -> float:
    """Success@k (Hit@k): 1 if any gold document is in the top k, else 0."""
    return float(bool(gold & set(ranked[:k])))


METRICS: dict[str, Callable[[Sequence[str], set[str]], float]] = {
    "R@10": recall_at,
    "nDCG@10": ndcg_at,
    "MRR@10": mrr_at,
    "Hit@10": success_at,
}


@dataclass(frozen=True)
class Question:
    id: str
    query: str
    gold: frozenset[str]


def load_articles(corpus: Path) -> tuple[list[str], list[str]]:
    keys, texts = [], []
    for path in sorted(corpus.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                keys.append(f"{rec['code']}::{rec['article_id']}")
                texts.append(f"{rec.get('code_title', '')}\n{rec.get('title', '')}\n{rec.get('text', '')}")
    return keys, texts


def load_questions(gold: Path) -> list[Question]:
    out = []
    for line in gold.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            out.append(Question(rec["id"], rec["query"], frozenset(rec["gold_article_ids"])))
    return out


def bootstrap_ci(values: np.ndarray, *, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Percentile 95% interval of the mean over resampled questions."""
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


_WORD = re.compile(r"\w+")


def bare_tokens(text: str, prefix: int = 6) -> list[str]:
    """The issue's bare analysis: ``\\w+`` runs, lower-cased, each cut to its first ``prefix`` characters."""
    return [word[:prefix] for word in _WORD.findall(text.lower())]


def bare_bm25(
    texts: Sequence[str], *, prefix: int = 6, k1: float = 1.2, b: float = 0.75
) -> Callable[..., list[int]]:
    """The bare re-implementation of the issue's lexical row: bm25s Lucene over :func:`bare_tokens`.

    Returns ``rank(query, k, matched_only=False)``: indices of the ``k`` best texts, best first, ties
    (and unmatched texts, unless ``matched_only``) in text order; a repeated query token counts each time
    (bm25s ``get_scores``). On the dev set with prefix 6: R@10 0.196, nDCG@10 0.174, Hit@10 0.419
    (docs/lexical-analysis.md).
    """
    model = bm25s.BM25(method="lucene", k1=k1, b=b)
    model.index([bare_tokens(t, prefix) for t in texts], show_progress=False)

    def rank(query: str, k: int, matched_only: bool = False) -> list[int]:
        ids = model.get_tokens_ids(bare_tokens(query, prefix))
        scores = model.get_scores_from_ids(ids) if ids else np.zeros(len(texts))
        top = np.argsort(-scores, kind="stable")[:k]
        return [int(i) for i in top if scores[i] > 0 or not matched_only]

    return rank


Expander = Callable[[list[str], LexicalIndex], tuple[list[str], list[float]]]


def run(
    index: LexicalIndex, keys: list[str], analyzer: Analyzer, questions: list[Question], expand: Expander | None
) -> dict[str, np.ndarray]:
    scores: dict[str, list[float]] = {m: [] for m in METRICS}
    for q in questions:
        tokens = analyzer.analyze_query(q.query)
        weights: list[float] | None = None
        if expand is not None:
            tokens, weights = expand(tokens, index)
        ranked = [keys[i] for i, _ in index.search(tokens, k=K, weights=weights)]
        for name, metric in METRICS.items():
            scores[name].append(metric(ranked, set(q.gold)))
    return {m: np.asarray(v) for m, v in scores.items()}


def _row(name: str, result: dict[str, np.ndarray]) -> str:
    return f"{name:<34}" + "".join(f"{float(v.mean()):>9.3f}" for v in result.values())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--json", type=Path, help="also write every per-question score here")
    parser.add_argument("--k1", type=float, default=1.2)
    parser.add_argument("--b", type=float, default=0.75)
    args = parser.parse_args(argv)
    keys, texts = load_articles(args.corpus)
    questions = load_questions(args.gold)
    print(f"{len(keys)} articles, {len(questions)} questions, BM25 lucene k1={args.k1} b={args.b}")
    variants = {f"uz={s}": Analyzer(uz_stemmer=s) for s in
                ("none", "lemmauz", "suffix", "prefix5", "prefix6", "prefix7", "suffix+prefix6",
                 "lemmauz+prefix6", "keep+lemmauz", "keep+suffix", "keep+prefix6", "keep+prefix7")}
    header = f"{'variant':<34}" + "".join(f"{m:>9}" for m in METRICS)
    print(header)
    results: dict[str, dict[str, np.ndarray]] = {}
    indexes: dict[str, tuple[Analyzer, LexicalIndex]] = {}

    def evaluate(name: str, analyzer: Analyzer, expand: Expander | None = None) -> None:
        started = time.perf_counter()
        key = analyzer.name
        if key not in indexes:
            docs = ((i, analyzer.analyze(t, lang="uz-Latn")) for i, t in enumerate(texts))
            indexes[key] = (analyzer, LexicalIndex.build(docs, k1=args.k1, b=args.b, analyzer=key))
        results[name] = run(indexes[key][1], keys, analyzer, questions, expand)
        print(_row(name, results[name]) + f"   ({time.perf_counter() - started:.0f}s)", flush=True)

    for name, analyzer in variants.items():
        evaluate(name, analyzer)
    best = max(variants, key=lambda n: (results[n]["nDCG@10"].mean(), results[n]["R@10"].mean()))
    best_analyzer = variants[best]
    print(f"\nbest analyser by nDCG@10: {best}; ablations:")
    evaluate(f"{best} informal=off", Analyzer(uz_stemmer=best_analyzer.uz_stemmer, informal=False))
    evaluate(f"{best} query_english=off", Analyzer(uz_stemmer=best_analyzer.uz_stemmer, query_english=False))

    for name in dict.fromkeys([best, "uz=prefix6", "uz=none"]):
        thesaurus = load_thesaurus(analyzer=variants[name])
        for weight in (0.5, 1.0):
            evaluate(f"{name} + thesaurus w={weight}", variants[name],
                     lambda toks, _ix, w=weight, th=thesaurus: th.expand(toks, weight=w))

    def typos(tokens: list[str], index: LexicalIndex) -> tuple[list[str], list[float]]:
        fixes = expand_typos(tokens, index.typo_vocabulary)
        extra = list(dict.fromkeys(f for fs in fixes.values() for f in fs if f not in tokens))
        return tokens + extra, [1.0] * len(tokens) + [0.5] * len(extra)

    evaluate(f"{best} + typos w=0.5", best_analyzer, typos)

    print("\nbootstrap 95% CI (1000 resamples of the questions):")
    for name in (best, "uz=prefix6"):
        cis = {m: bootstrap_ci(v) for m, v in results[name].items()}
        print(f"  {name:<32}" + "  ".join(f"{m} [{lo:.3f}, {hi:.3f}]" for m, (lo, hi) in cis.items()))
    for name in results:
        if name != best and name.startswith(best + " "):
            delta = results[name]["nDCG@10"] - results[best]["nDCG@10"]
            lo, hi = bootstrap_ci(delta)
            print(f"  Δ nDCG@10 {name} vs {best}: {delta.mean():+.3f} [{lo:+.3f}, {hi:+.3f}]")
    if best != "uz=prefix6":
        delta = results[best]["nDCG@10"] - results["uz=prefix6"]["nDCG@10"]
        lo, hi = bootstrap_ci(delta)
        print(f"  Δ nDCG@10 {best} vs uz=prefix6: {delta.mean():+.3f} [{lo:+.3f}, {hi:+.3f}]")
    if args.json:
        payload = {n: {m: v.tolist() for m, v in r.items()} for n, r in results.items()}
        args.json.write_text(json.dumps({"questions": [q.id for q in questions], "results": payload}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
