"""A self-contained HTML report of one or more runs: metric bars with 95% intervals, a per-language
breakdown, per-query deltas against the first run, and the failing queries with what came back instead.

Everything is inline (CSS and SVG); the page loads no external asset.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ir_measures import Qrel, ScoredDoc

from eval.formats import Query, dedupe_run
from eval.metrics import MEASURE_NAMES, evaluate

__all__ = ["render_report"]

logger = logging.getLogger(__name__)

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th:first-child,td:first-child{text-align:left}code{font-size:12px}.lost{color:#b00}.won{color:#070}
details{margin:.3em 0}.legend span{display:inline-block;margin-right:1em}.q{max-width:420px;text-align:left}"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _legend(names: Sequence[str]) -> str:
    items = "".join(f'<span><svg width="12" height="12"><rect width="12" height="12" fill="{COLOURS[i % 6]}"/>'
                    f"</svg> {_e(n)}</span>" for i, n in enumerate(names))
    return f'<p class="legend">{items}</p>'


def _bars(groups: Sequence[str], series: Mapping[str, Sequence[tuple[float, float, float]]], *, height: int = 220) -> str:
    """Grouped vertical bars in [0, 1] with CI whiskers; ``series[name][i] = (mean, low, high)``."""
    names = list(series)
    bar, gap, left, top = 16, 22, 34, 10
    group_w = bar * len(names) + gap
    width = left + group_w * len(groups) + 10
    parts = [f'<svg width="{width}" height="{height + 40}" role="img">']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + height * (1 - tick)
        parts.append(f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{tick:g}</text>')
    for g, label in enumerate(groups):
        x0 = left + g * group_w + gap / 2
        for s, name in enumerate(names):
            mean, low, high = series[name][g]
            x = x0 + s * bar
            y = top + height * (1 - mean)
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2}" height="{height * mean:.1f}" '
                         f'fill="{COLOURS[s % 6]}"><title>{_e(name)} {_e(label)}: {mean:.3f} '
                         f'[{low:.3f}, {high:.3f}]</title></rect>')
            cx = x + (bar - 2) / 2
            y1, y2 = top + height * (1 - high), top + height * (1 - low)
            parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="#000"/>'
                         f'<line x1="{cx - 3:.1f}" x2="{cx + 3:.1f}" y1="{y1:.1f}" y2="{y1:.1f}" stroke="#000"/>'
                         f'<line x1="{cx - 3:.1f}" x2="{cx + 3:.1f}" y1="{y2:.1f}" y2="{y2:.1f}" stroke="#000"/>')
        parts.append(f'<text x="{x0 + bar * len(names) / 2:.1f}" y="{top + height + 16}" font-size="11" '
                     f'text-anchor="middle">{_e(label)}</text>')
    return "".join(parts) + "</svg>"


def _deltas(deltas: Sequence[float], *, height: int = 140) -> str:
    """Per-query deltas sorted, as thin bars around a zero line (green up, red down)."""
    w = max(2, min(8, 900 // max(1, len(deltas))))
    mid = height / 2
    parts = [f'<svg width="{w * len(deltas) + 20}" height="{height}">'
             f'<line x1="0" x2="{w * len(deltas) + 20}" y1="{mid}" y2="{mid}" stroke="#999"/>']
    for i, d in enumerate(sorted(deltas, reverse=True)):
        h = abs(d) * (mid - 4)
        y = mid - h if d > 0 else mid
        colour = "#2ca02c" if d > 0 else "#d62728"
        parts.append(f'<rect x="{10 + i * w}" y="{y:.1f}" width="{w - 1}" height="{h:.1f}" fill="{colour}"/>')
    return "".join(parts) + "</svg>"


def _metric_table(names: Sequence[str], results: Mapping[str, Mapping[str, Any]]) -> str:
    head = "".join(f"<th>{_e(m)}</th>" for m in MEASURE_NAMES)
    rows = "".join(
        f"<tr><td>{_e(n)}</td>" + "".join(
            f"<td>{results[n]['metrics'][m]:.3f} <small>[{results[n]['ci95'][m][0]:.3f}, "
            f"{results[n]['ci95'][m][1]:.3f}]</small></td>" for m in MEASURE_NAMES) + "</tr>"
        for n in names)
    return f"<table><tr><th>run (n)</th>{head}</tr>{rows}</table>"


def _failures(name: str, result: Mapping[str, Any], run: Sequence[ScoredDoc], gold: Mapping[str, Mapping[str, int]],
              texts: Mapping[str, str], *, shown: int = 40) -> str:
    ranked: dict[str, list[ScoredDoc]] = {}
    for d in dedupe_run(run):
        ranked.setdefault(d.query_id, []).append(d)
    failing = [q for q, v in result["per_query"].items() if v["R@10"] == 0.0]
    rows = []
    for qid in failing[:shown]:
        returned = [d.doc_id for d in sorted(ranked.get(qid, []), key=lambda d: -d.score)[:5]]
        want = ", ".join(f"{r} ({g})" for r, g in sorted(gold.get(qid, {}).items(), key=lambda kv: -kv[1]))
        rows.append(f"<tr><td>{_e(qid)}</td><td class=q>{_e(texts.get(qid, ''))}</td><td class=q><code>{_e(want)}"
                    f"</code></td><td class=q><code>{_e(', '.join(returned) or '(nothing)')}</code></td></tr>")
    return (f"<details><summary>{_e(name)}: {len(failing)} of {result['n']} judged queries with no relevant "
            f"ref in the top 10</summary><table><tr><th>query</th><th>text</th><th>judged relevant</th>"
            f"<th>returned instead (top 5)</th></tr>{''.join(rows)}</table></details>")


def render_report(
    qrels: Sequence[Qrel], runs: Mapping[str, Sequence[ScoredDoc]], queries: Sequence[Query] = (), *,
    title: str = "Retrieval evaluation", measure: str = "nDCG@10",
) -> str:
    """The report as one HTML string."""
    names = list(runs)
    results = {n: evaluate(qrels, run, queries) for n, run in runs.items()}
    texts = {q.id: q.text for q in queries}
    gold: dict[str, dict[str, int]] = {}
    for q in qrels:
        if q.relevance > 0:
            gold.setdefault(q.query_id, {})[q.doc_id] = q.relevance
    body = [f"<h1>{_e(title)}</h1><p>{date.today().isoformat()}; {results[names[0]]['n']} judged queries; "
            f"95% bootstrap intervals over queries; metrics by ir-measures.</p>",
            "<h2>Metrics</h2>", _legend(names),
            _bars(MEASURE_NAMES, {n: [(r["metrics"][m], *r["ci95"][m]) for m in MEASURE_NAMES]
                                  for n, r in results.items()}),
            _metric_table(names, results)]
    langs = sorted({lang for r in results.values() for lang in r.get("by_lang", {})})
    if langs:
        def cell(r: Mapping[str, Any], lang: str) -> tuple[float, float, float]:
            g = r["by_lang"].get(lang)
            return (g["metrics"][measure], *g["ci95"][measure]) if g else (0.0, 0.0, 0.0)

        body += [f"<h2>{_e(measure)} per language</h2>", _legend(names),
                 _bars(langs, {n: [cell(r, lang) for lang in langs] for n, r in results.items()}),
                 "<table><tr><th>language</th><th>n</th>" + "".join(f"<th>{_e(n)}</th>" for n in names) + "</tr>"
                 + "".join(f"<tr><td>{_e(lang)}</td><td>{results[names[0]]['by_lang'][lang]['n']}</td>"
                           + "".join(f"<td>{cell(results[n], lang)[0]:.3f}</td>" for n in names) + "</tr>"
                           for lang in langs) + "</table>"]
        tags = sorted({t for r in results.values() for t in r.get("by_tag", {})})
        body += [f"<h2>{_e(measure)} per tag</h2><table><tr><th>tag</th><th>n</th>"
                 + "".join(f"<th>{_e(n)}</th>" for n in names) + "</tr>"
                 + "".join(f"<tr><td>{_e(t)}</td><td>{results[names[0]]['by_tag'][t]['n']}</td>"
                           + "".join(f"<td>{results[n]['by_tag'][t]['metrics'][measure]:.3f}</td>" for n in names)
                           + "</tr>" for t in tags if t in results[names[0]]["by_tag"]) + "</table>"]
    base = results[names[0]]["per_query"]
    for n in names[1:]:
        other = results[n]["per_query"]
        deltas = {q: other[q][measure] - base[q][measure] for q in base}
        ordered = sorted(deltas.items(), key=lambda kv: kv[1])
        body += [f"<h2>Per-query {_e(measure)}: {_e(n)} − {_e(names[0])}</h2>",
                 f"<p>{sum(d > 0 for d in deltas.values())} won, {sum(d < 0 for d in deltas.values())} lost, "
                 f"{sum(d == 0 for d in deltas.values())} tied.</p>", _deltas(list(deltas.values())),
                 "<table><tr><th>query</th><th>text</th><th>Δ</th></tr>"
                 + "".join(f"<tr class={'lost' if d < 0 else 'won'}><td>{_e(q)}</td><td class=q>"
                           f"{_e(texts.get(q, ''))}</td><td>{d:+.3f}</td></tr>"
                           for q, d in ordered[:8] + ordered[-8:][::-1] if d != 0) + "</table>"]
    body.append("<h2>Failing queries</h2>")
    body += [_failures(n, results[n], runs[n], gold, texts) for n in names]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")
