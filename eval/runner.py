"""Run a query set through the real retrieval stack under a named configuration and score the run.

A run lists, per query, the articles (``ref``) that ``HybridSearcher.rank_refs`` returns, each once, at
its best rank. Scores in the run file are ``limit − rank`` so that the order is exactly the system's.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from ir_measures import Qrel, ScoredDoc

from eval.formats import Query, write_run
from eval.metrics import evaluate
from index.search import FusionParams, HybridSearcher, SearchFilters
from ingest.errors import ConfigError

__all__ = ["CONFIGS", "RunOutput", "config_params", "percentiles", "ranked_run", "run_eval", "run_queries"]

logger = logging.getLogger(__name__)

def _plain(p: FusionParams) -> FusionParams:
    """The baselines (bm25, dense, naive-rrf) leave out every re-ranking step: routing and headings."""
    return replace(p, act_prior=0.0, long_act_prior=0.0, chapter_prior=0.0, long_chapter_prior=0.0,
                   heading_weight=0.0, long_heading_weight=0.0)


CONFIGS: dict[str, Callable[[FusionParams], FusionParams]] = {
    "default": lambda p: p,
    "bm25": lambda p: replace(_plain(p), mode="lexical", thesaurus_weight=0.0, long_thesaurus_weight=0.0),
    "lexical": lambda p: replace(p, mode="lexical"),
    "dense": lambda p: replace(_plain(p), mode="dense"),
    "naive-rrf": lambda p: replace(
        _plain(p), mode="rrf", rrf_k=60.0, long_rrf_k=60.0, lexical_weight=1.0, dense_weight=1.0,
        long_lexical_weight=1.0, long_dense_weight=1.0, thesaurus_weight=0.0, long_thesaurus_weight=0.0),
    "weighted": lambda p: replace(p, mode="weighted"),
}
CONFIG_HELP = {
    "default": "query-aware RRF + thesaurus (what the API serves)",
    "bm25": "lexical only, no thesaurus",
    "lexical": "lexical + thesaurus",
    "dense": "dense only (the embedding model)",
    "naive-rrf": "RRF k=60, equal weights, no thesaurus",
    "weighted": "weighted score fusion",
}


def config_params(config: str) -> FusionParams:
    """FusionParams of a named configuration, or of a JSON file of FusionParams fields."""
    if config in CONFIGS:
        return CONFIGS[config](FusionParams())
    path = Path(config)
    if not path.is_file():
        raise ConfigError(
            f"config={config!r} is neither a name ({', '.join(CONFIGS)}) nor a JSON file", code="unknown_config")
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(FusionParams)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown FusionParams fields {unknown}; allowed: {sorted(known)}",
                              code="unknown_config")
        return replace(FusionParams(), **values)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path} is not a JSON object of FusionParams fields ({exc})",
                          code="unknown_config") from exc


@dataclass(frozen=True)
class RunOutput:
    """A run, the latency of each query in milliseconds, and the top 10 refs of each query."""

    run: list[ScoredDoc]
    latencies_ms: list[float]
    top10: dict[str, list[str]]


def run_queries(searcher: HybridSearcher, queries: Sequence[Query], *, limit: int = 100) -> RunOutput:
    """Rank refs for every query (with its own filters, if any)."""
    run: list[ScoredDoc] = []
    latencies: list[float] = []
    top10: dict[str, list[str]] = {}
    for q in queries:
        filters = SearchFilters.from_mapping(q.filters) if q.filters else None
        t0 = time.perf_counter()
        refs, _, _ = searcher.rank_refs(q.text, filters=filters, limit=limit)
        latencies.append((time.perf_counter() - t0) * 1000)
        seen: list[str] = []
        for ref, _ in refs:
            if ref not in seen:
                seen.append(ref)
        top10[q.id] = seen[:10]
        run += [ScoredDoc(q.id, ref, float(limit - i)) for i, ref in enumerate(seen)]
    return RunOutput(run, latencies, top10)


def ranked_run(
    searcher: HybridSearcher, queries: Sequence[tuple[str, str]], *, filters: SearchFilters | None = None,
    limit: int = 100,
) -> tuple[list[ScoredDoc], list[float], dict[str, list[str]]]:
    """``run_queries`` for ``(id, text)`` pairs sharing one set of filters."""
    mapping = {k: v for k, v in asdict(filters).items() if v} if filters else {}
    out = run_queries(searcher, [Query(qid, text, filters=mapping) for qid, text in queries], limit=limit)
    return out.run, out.latencies_ms, out.top10


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50, p95 and max of latencies."""
    ordered = sorted(values) or [0.0]

    def pick(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

    return {"p50": pick(0.5), "p95": pick(0.95), "max": round(ordered[-1], 1)}


def run_eval(
    searcher: HybridSearcher, queries: Sequence[Query], qrels: Sequence[Qrel], *, config: str = "default",
    out_dir: Path | None = None, limit: int = 100,
) -> dict[str, Any]:
    """Run the queries under ``config``, score them; write ``run.trec`` and ``metrics.json`` to out_dir."""
    params = config_params(config)
    previous, searcher.params = searcher.params, params
    try:
        output = run_queries(searcher, queries, limit=limit)
    finally:
        searcher.params = previous
    result = evaluate(qrels, output.run, queries)
    result = {
        "config": config, "params": asdict(params), "generation": searcher.generation.id,
        "queries": len(queries), **result, "latency_ms": percentiles(output.latencies_ms),
    }
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_run(out_dir / "run.trec", output.run, tag=Path(config).stem)
        (out_dir / "metrics.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n",
                                              encoding="utf-8")
        logger.info("wrote %s and %s", out_dir / "run.trec", out_dir / "metrics.json")
    return result
