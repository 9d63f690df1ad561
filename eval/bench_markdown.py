"""Markdown from ``xizmat bench`` results: the summary beside each results file, and the README's
performance section, regenerated between ``<!-- perf:start -->`` and ``<!-- perf:end -->``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ingest.errors import XizmatError

__all__ = ["PERF_END", "PERF_START", "bench_markdown", "latest_bench", "performance_section", "replace_section",
           "update_readme"]

logger = logging.getLogger(__name__)

PERF_START = "<!-- perf:start -->"
PERF_END = "<!-- perf:end -->"


def _ci(value: float, ci: list[float]) -> str:
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.3f}"


def _latency_table(latency: dict[str, Any]) -> list[str]:
    rows = ["| operation | n | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|"]
    for op in ("search", "ask", "suggest"):
        if op in latency:
            p = latency[op]
            rows.append(f"| {op} | {p['n']} | {_ms(p['p50'])} | {_ms(p['p95'])} | {_ms(p['p99'])} |")
    return rows


def _quality_table(quality: dict[str, Any]) -> list[str]:
    rows = [f"Quality on the `{quality['set']}` set ({quality['queries']} judged queries; 95% bootstrap intervals):",
            "", "| system | nDCG@10 | RR@10 | R@10 | R@100 | p50 ms | p95 ms |", "|---|---|---|---|---|---|---|"]
    for name, s in quality["systems"].items():
        m, ci, lat = s["metrics"], s["ci95"], s["latency_ms"]
        rows.append(f"| {name} | {_ci(m['nDCG@10'], ci['nDCG@10'])} | {m['RR@10']:.3f} | {m['R@10']:.3f} | "
                    f"{m['R@100']:.3f} | {_ms(lat['p50'])} | {_ms(lat['p95'])} |")
    for name, why in quality.get("skipped", {}).items():
        rows.append(f"\n{name} was skipped: {why}")
    return rows


def _ingest_lines(ingest: dict[str, Any]) -> list[str]:
    rows = ["| embedding cache | chunks | embedded | seconds | chunks/s |", "|---|---|---|---|---|"]
    for state in ("cold", "warm"):
        r = ingest[state]
        rows.append(f"| {state} | {r['chunks']} | {r['embedded']} | {r['seconds_total']} | {r['chunks_per_s']} |")
    return rows


def _facts(result: dict[str, Any]) -> list[str]:
    disk, mem, idx, machine = result["disk"], result["memory_mb"], result["index"], result["machine"]
    return [
        f"Index: {idx['documents']} documents, {idx['chunks']} chunks; on disk the generation takes "
        f"{disk['generation_mb']} MiB, the store {disk['store_mb']} MiB, the embedding cache "
        f"{disk['embedding_cache_mb']} MiB. Serving memory (RSS after loading searcher and suggester, then one "
        f"query): {mem['after_query_mb']} MiB. Machine: {machine['cpus']} CPUs, load average "
        f"{machine['load_avg_1m']} at the start, Python {machine['python']}; embedder {result['embedder']}.",
    ]


def _ask_lines(ask: dict[str, Any]) -> list[str]:
    m, ci, c = ask["metrics"], ask["ci95"], ask["counts"]
    names = {"citation_correctness": "citation correctness (cites a gold ref)",
             "citation_same_document": "cites a gold ref's document", "answer_rate": "answer rate (in scope)",
             "abstain_precision": "abstention precision", "abstain_recall": "abstention recall"}
    rows = [f"Answers (`/v1/ask`) on the `{ask['set']}` set: {c['in_scope']} in-scope and {c['out_of_scope']} "
            "out-of-scope questions.", "", "| measure | value [95% CI] |", "|---|---|"]
    rows += [f"| {label} | {_ci(m[k], ci[k]) if m[k] is not None else 'n/a'} |" for k, label in names.items()
             if k in m]
    return rows


def bench_markdown(result: dict[str, Any]) -> str:
    """A Markdown summary of one benchmark result."""
    lines = [f"# Benchmark `{result['name']}` ({result['date']})", ""]
    lines += _facts(result) + [""]
    lines += [f"Latency in-process, one client, over the `{result['latency_ms']['queries']}` queries:", ""]
    lines += _latency_table(result["latency_ms"]) + [""]
    warm = result["latency_ms"].get("warmup")
    if warm:
        slow = sum(v > 10 * result["latency_ms"]["search"]["p50"] for v in warm["first_ms"])
        lines += [f"Before these, {warm['n']} warm-up searches right after loading: p50 {_ms(warm['p50'])} ms, "
                  f"max {_ms(warm['max'])} ms; {slow} of them took over ten times the steady p50.", ""]
    if "http" in result:
        http = result["http"]
        lines += ["HTTP on loopback (eval/bench_api.py):", "", str(http.get("markdown") or http.get("skipped")), ""]
    if "ingest" in result:
        lines += [f"Ingest and index build of `{result['ingest']['corpus']}` into a fresh data directory:", ""]
        lines += _ingest_lines(result["ingest"]) + [""]
    for quality in result["quality"]:
        lines += _quality_table(quality) + [""]
    if "dev_skipped" in result:
        lines += [f"Dev set skipped: {result['dev_skipped']}.", ""]
    if "ask" in result:
        lines += _ask_lines(result["ask"]) + [""]
    return "\n".join(lines)


def performance_section(result: dict[str, Any], source: str) -> str:
    """The README's performance section (without markers), generated from one result file."""
    body = bench_markdown(result).split("\n", 2)[2]  # drop the title
    return (f"Generated from `{source}` by `python scripts/update_readme_performance.py`; do not edit by "
            f"hand. Measured on a shared machine: read the latencies as orders of magnitude.\n\n{body.strip()}\n")


def replace_section(text: str, body: str) -> str:
    """``text`` with what lies between the perf markers replaced by ``body``; markers must be present once."""
    if text.count(PERF_START) != 1 or text.count(PERF_END) != 1 or text.index(PERF_START) > text.index(PERF_END):
        raise XizmatError(f"the README must hold {PERF_START} then {PERF_END}, once each; add them where the "
                          "performance section goes", code="invalid_readme")
    head, rest = text.split(PERF_START, 1)
    _, tail = rest.split(PERF_END, 1)
    return f"{head}{PERF_START}\n{body.rstrip()}\n{PERF_END}{tail}"


def latest_bench(results_dir: Path) -> Path:
    """The newest benchmark result in ``results_dir`` (by date in the name, then modification time)."""
    found = []
    for path in results_dir.glob("*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("kind") == "bench":
            found.append((str(data.get("date", "")), path.stat().st_mtime, path))
    if not found:
        raise XizmatError(f"no benchmark result in {results_dir}; run `xizmat bench` first", code="not_found")
    return max(found)[2]


def update_readme(readme: Path, results_dir: Path) -> Path:
    """Regenerate the performance section of ``readme`` from the latest result; returns that result's path."""
    source = latest_bench(results_dir)
    result = json.loads(source.read_text(encoding="utf-8"))
    try:
        shown = source.relative_to(readme.parent)
    except ValueError:
        shown = source
    readme.write_text(replace_section(readme.read_text(encoding="utf-8"), performance_section(result, str(shown))),
                      encoding="utf-8")
    return source
