"""Measure the completeness extractor against hand labels: precision and recall per element.

Three tasks per labelled service description:

- *presence* of each of the eight elements (the text says something about it), all elements;
- *specificity* of the fee, the time limit and the governing act (an amount or "free", a number of days, a
  named act), where a vague mention counts as not specific;
- *values* of the fee and the time limit: the share of labelled specific values the extractor reproduces
  exactly (as a set of normalised values, ``ingest.completeness_values``).

Intervals are Wilson 95% score intervals (Wilson 1927), fit for the small counts here. Splits (``dev``,
``heldout``) are reported separately: only ``heldout`` labels were written after the extractor was frozen.

    python -m eval.completeness --data-dir DIR --labels eval/sets/completeness/labels.jsonl \\
        --out eval/results/<date>-completeness.json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ingest.audit import audit_services
from ingest.completeness import ELEMENTS, UNSPECIFIED
from ingest.completeness_score import ServiceScore
from ingest.errors import ConfigError
from ingest.store import Store

__all__ = ["evaluate", "load_labels", "main", "wilson"]

logger = logging.getLogger(__name__)

SPECIFIC_ELEMENTS = ("fee", "time_limit", "legal_act")


def wilson(successes: int, total: int, *, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion: centre (p + z²/2n)/(1 + z²/n), half-width
    z·sqrt(p(1-p)/n + z²/4n²)/(1 + z²/n). None when ``total`` is 0."""
    if total <= 0:
        return None
    p = successes / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


def load_labels(path: Path) -> list[dict[str, Any]]:
    """Label records, one JSON object a line (see eval/sets/completeness/README.md)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read labels {path} ({exc.strerror}); pass --labels FILE") from None
    labels = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}, line {number}: not JSON ({exc.msg}); fix the line") from None
        if not isinstance(record, dict) or "id" not in record or "present" not in record:
            raise ConfigError(f"{path}, line {number}: a label needs 'id' and 'present'; fix the line")
        labels.append(record)
    return labels


def _pr(tp: int, fp: int, fn: int) -> dict[str, Any]:
    return {
        "tp": tp, "fp": fp, "fn": fn,
        "precision": round(tp / (tp + fp), 4) if tp + fp else None, "precision_ci95": wilson(tp, tp + fp),
        "recall": round(tp / (tp + fn), 4) if tp + fn else None, "recall_ci95": wilson(tp, tp + fn),
    }


def _label_specific(label: Mapping[str, Any], element: str) -> bool:
    if not label["present"].get(element, False):
        return False
    if element == "legal_act":
        return bool(label.get("legal_act_named", True))
    return any(v != UNSPECIFIED for v in label.get(element, []))


def evaluate(labels: Iterable[Mapping[str, Any]], scores: Mapping[str, ServiceScore]) -> dict[str, Any]:
    """Counts, precision and recall (with Wilson intervals) of presence, specificity and values."""
    labels = list(labels)
    missing = [lab["id"] for lab in labels if lab["id"] not in scores]
    if missing:
        raise ConfigError(f"labelled services {missing} are not in the store; ingest corpus/ into --data-dir")
    presence: dict[str, list[int]] = {e: [0, 0, 0] for e in ELEMENTS}
    specific: dict[str, list[int]] = {e: [0, 0, 0] for e in SPECIFIC_ELEMENTS}
    values: dict[str, list[int]] = {e: [0, 0] for e in ("fee", "time_limit")}
    errors: list[dict[str, Any]] = []
    for label in labels:
        extracted = {e.element: e.description for e in scores[label["id"]].elements}
        for element in ELEMENTS:
            truth, guess = bool(label["present"][element]), extracted[element].found
            _count(presence[element], truth, guess)
            if truth != guess:
                errors.append({"id": label["id"], "task": "presence", "element": element, "label": truth})
        for element in SPECIFIC_ELEMENTS:
            truth, guess = _label_specific(label, element), extracted[element].specific
            _count(specific[element], truth, guess)
            if truth != guess:
                errors.append({"id": label["id"], "task": "specific", "element": element, "label": truth})
        for element in values:
            if not _label_specific(label, element):
                continue
            want = {v for v in label[element] if v != UNSPECIFIED}
            got = {v for v in extracted[element].values if v != UNSPECIFIED}
            values[element][1] += 1
            values[element][0] += want == got
            if want != got:
                errors.append({"id": label["id"], "task": "values", "element": element,
                               "label": sorted(want), "extracted": sorted(got)})
    return {
        "services": len(labels),
        "presence": {e: _pr(*c) for e, c in presence.items()},
        "specific": {e: _pr(*c) for e, c in specific.items()},
        "values": {e: {"exact": k, "of": n, "accuracy": round(k / n, 4) if n else None, "ci95": wilson(k, n)}
                   for e, (k, n) in values.items()},
        "errors": errors,
    }


def _count(cell: list[int], truth: bool, guess: bool) -> None:
    cell[0] += truth and guess
    cell[1] += guess and not truth
    cell[2] += truth and not guess


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="a data directory with corpus/ ingested")
    parser.add_argument("--labels", type=Path, default=Path("eval/sets/completeness/labels.jsonl"))
    parser.add_argument("--out", type=Path, help="write the JSON result here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        labels = load_labels(args.labels)
        store = Store.in_dir(args.data_dir, readonly=True)
        report = audit_services(store)
        store.close()
        scores = {s.service_id: s for s in report.services}
        splits: dict[str, dict[str, Any]] = {
            s: evaluate([lab for lab in labels if lab.get("split", "dev") == s], scores)
            for s in sorted({str(lab.get("split", "dev")) for lab in labels})
        }
    except (ConfigError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = json.dumps({"labels": str(args.labels), "splits": splits}, ensure_ascii=False, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    for split, res in splits.items():
        print(f"{split}: {res['services']} services")
        for task in ("presence", "specific"):
            for element, m in res[task].items():
                print(f"  {task:9} {element:12} P={m['precision']} {m['precision_ci95']}  "
                      f"R={m['recall']} {m['recall_ci95']}  (tp {m['tp']}, fp {m['fp']}, fn {m['fn']})")
        for element, m in res["values"].items():
            print(f"  values    {element:12} {m['exact']}/{m['of']} exact {m['ci95']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
