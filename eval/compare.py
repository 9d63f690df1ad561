"""Compare runs on the same queries: means side by side, paired significance tests against the first
run, and the queries that won and lost most.

Tests are paired over queries: a randomisation (sign-flip permutation) test of the mean difference
(Smucker, Allan & Carterette, CIKM 2007) or a paired t-test, both from scipy.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from ir_measures import Qrel, ScoredDoc

from eval.metrics import MEASURE_NAMES, per_query
from ingest.errors import ConfigError

__all__ = ["Test", "compare_runs", "format_comparison", "paired_p_value"]

logger = logging.getLogger(__name__)

Test = Literal["randomisation", "t-test"]
TESTS: tuple[Test, ...] = ("randomisation", "t-test")


def paired_p_value(a: Sequence[float], b: Sequence[float], *, test: Test = "randomisation",
                   resamples: int = 10000, seed: int = 7) -> float:
    """Two-sided p-value of the paired difference of means of ``b`` and ``a``."""
    from scipy import stats

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) < 2 or np.allclose(x, y):
        return 1.0
    if test == "t-test":
        return float(stats.ttest_rel(y, x).pvalue)
    result = stats.permutation_test(
        (y, x), lambda u, v, axis: np.mean(u - v, axis=axis), permutation_type="samples",
        n_resamples=resamples, vectorized=True, random_state=seed, alternative="two-sided",
    )
    return float(result.pvalue)


def compare_runs(
    qrels: Sequence[Qrel], runs: Mapping[str, Sequence[ScoredDoc]], *, test: Test = "randomisation",
    alpha: float = 0.05, top: int = 5, resamples: int = 10000, measure_for_deltas: str = "nDCG@10",
) -> dict[str, Any]:
    """Means per run and measure, deltas and p-values against the first run, biggest per-query changes."""
    if test not in TESTS:
        raise ConfigError(f"test={test!r} is not one of {', '.join(TESTS)}", code="unknown_test")
    if len(runs) < 2:
        raise ConfigError(f"got {len(runs)} run(s); pass at least two runs to compare", code="too_few_runs")
    names = list(runs)
    values = {name: per_query(qrels, run) for name, run in runs.items()}
    ids = sorted(values[names[0]][MEASURE_NAMES[0]])
    base = names[0]
    table = []
    for measure in MEASURE_NAMES:
        columns = {n: [values[n][measure][q] for q in ids] for n in names}
        row: dict[str, Any] = {"measure": measure, "mean": {n: round(float(np.mean(c)), 4) for n, c in columns.items()},
                               "delta": {}, "p": {}, "significant": {}}
        for n in names[1:]:
            p = paired_p_value(columns[base], columns[n], test=test, resamples=resamples)
            row["delta"][n] = round(row["mean"][n] - row["mean"][base], 4)
            row["p"][n] = round(p, 4)
            row["significant"][n] = p < alpha
        table.append(row)
    changes = {}
    for n in names[1:]:
        deltas = sorted(((values[n][measure_for_deltas][q] - values[base][measure_for_deltas][q], q) for q in ids))
        changes[n] = {
            "won": [{"query": q, "delta": round(d, 4)} for d, q in reversed(deltas[-top:]) if d > 0],
            "lost": [{"query": q, "delta": round(d, 4)} for d, q in deltas[:top] if d < 0],
            "wins": sum(d > 0 for d, _ in deltas), "losses": sum(d < 0 for d, _ in deltas),
            "ties": sum(d == 0 for d, _ in deltas),
        }
    return {"baseline": base, "runs": names, "n": len(ids), "test": test, "alpha": alpha, "table": table,
            "per_query_measure": measure_for_deltas, "changes": changes}


def format_comparison(result: Mapping[str, Any], *, texts: Mapping[str, str] | None = None) -> str:
    """A plain-text table: one row per measure, one column per run; ``*`` marks p < alpha."""
    names = result["runs"]
    rows = []
    for row in result["table"]:
        cells = [row["measure"], f"{row['mean'][names[0]]:.4f}"]
        for n in names[1:]:
            mark = "*" if row["significant"][n] else " "
            cells.append(f"{row['mean'][n]:.4f} ({row['delta'][n]:+.3f}, p={row['p'][n]:.3f}){mark}")
        rows.append(cells)
    header = ["measure", *names]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [f"{result['n']} queries; {result['test']} test against {result['baseline']}; * p < {result['alpha']}"]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    for n, change in result["changes"].items():
        lines.append(f"\n{n} vs {result['baseline']} ({result['per_query_measure']}): "
                     f"{change['wins']} won, {change['losses']} lost, {change['ties']} tied")
        for label in ("won", "lost"):
            for item in change[label]:
                text = (texts or {}).get(item["query"], "")
                lines.append(f"  {label:<4} {item['delta']:+.3f}  {item['query']}  {text[:70]}")
    return "\n".join(lines)
