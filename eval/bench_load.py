"""Load and overload test of /v1/search on loopback: latency under concurrency, shedding, recovery (R8).

Starts the real app (``uvicorn --factory api.main:create_app``, one worker) on a free port of 127.0.0.1
over a data directory, then runs five phases with an asyncio client (httpx):

1. single: requests one after another → the single-request latency (p50/p99);
2. saturation: 16 clients back to back (no pause) → the capacity in requests/s. Latency here is
   queueing by construction (Little's law: 16 in flight on a process that serves ~1 at a time);
3. sustainable: 16 clients sending together at a fixed total rate, from a fraction of the capacity
   down, until p99 ≤ 4× the single-request p50 with no errors — that rate is the sustainable rate;
4. overload: arrivals at 4× the sustainable rate, at least 2× the capacity (open loop): the accepted
   requests stay bounded, the excess gets 503 ``overloaded`` (load shedding, XIZMAT_MAX_IN_FLIGHT) with
   Retry-After, fast;
5. recovery: from the last arrival of the overload, one request every 0.25 s until 5 in a row are
   within 2× the single-request p99 → seconds to recover (target ≤ 30).

Load phases send an agent key (agents are not rate-limited per client); a last phase sends anonymous
requests past ``XIZMAT_RATE_LIMIT_PER_MINUTE`` and checks they get 429 ``rate_limited`` with Retry-After.
Queries are a fixed list (eval/bench_api.py) cycled in order and warmed first, so the server's query-vector
cache holds them: the figures are for search without the embedding step; the load average is recorded.

    python -m eval.bench_load --data-dir data [--out eval/results/DATE-load.json] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from eval.bench_api import SEARCH_QUERIES, Server, percentile

__all__ = ["LoadConfig", "LoadServer", "Sample", "main", "run_load", "summarise"]

logger = logging.getLogger(__name__)

AGENT_KEY = "bench-load-agent-key-0123456789"
RATE_LIMIT_PER_MINUTE = 30


@dataclass(frozen=True)
class LoadConfig:
    """Sizes of the phases; ``quick()`` is the bounded variant the test suite runs."""

    single_requests: int = 60
    clients: int = 16
    saturation_requests: int = 320
    sustainable_seconds: float = 8.0
    sustainable_fractions: tuple[float, ...] = (0.6, 0.45, 0.3, 0.2)
    overload_factor: float = 4.0
    overload_seconds: float = 10.0
    recovery_timeout: float = 30.0
    max_in_flight: int = 32

    @classmethod
    def quick(cls) -> LoadConfig:
        return cls(single_requests=20, saturation_requests=96, sustainable_seconds=4.0,
                   sustainable_fractions=(0.5, 0.3, 0.2), overload_seconds=4.0)


@dataclass(frozen=True)
class Sample:
    """One request: when it was sent (s from phase start), status (0 = transport error), latency (ms)."""

    sent: float
    status: int
    ms: float
    retry_after: str = ""
    code: str = ""
    server_ms: float = -1.0  # the server's own time (Server-Timing: app;dur=), -1 when absent


@dataclass
class Phase:
    """The samples of one phase and its wall time."""

    name: str
    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0


class LoadServer(Server):
    """``eval.bench_api.Server`` with an agent key, a per-client rate limit and a shedding limit."""

    def __init__(self, data_dir: Path, *, port: int, max_in_flight: int, workers: int = 1) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("XIZMAT_")}
        env |= {"XIZMAT_DATA_DIR": str(data_dir), "XIZMAT_AGENT_KEYS": AGENT_KEY,
                "XIZMAT_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT_PER_MINUTE),
                "XIZMAT_MAX_IN_FLIGHT": str(max_in_flight)}
        if "XIZMAT_EMBEDDER" in os.environ:
            env["XIZMAT_EMBEDDER"] = os.environ["XIZMAT_EMBEDDER"]
        self.log = tempfile.NamedTemporaryFile(prefix="xizmat-load-", suffix=".log", delete=False)  # noqa: SIM115
        command = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1",
                   "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
                   "--backlog", "4096"]
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)


def summarise(samples: Sequence[Sample], seconds: float = 0.0) -> dict[str, Any]:
    """Counts by status and latency percentiles (ms) of the 200s and of the refusals."""
    ok = [s.ms for s in samples if s.status == 200]
    refused = [s for s in samples if s.status in (429, 503)]
    out: dict[str, Any] = {
        "requests": len(samples),
        "status": dict(sorted(Counter(str(s.status) for s in samples).items())),
        "errors": sum(1 for s in samples if s.status not in (200, 429, 503)),
    }
    if out["errors"]:
        out["error_kinds"] = dict(Counter(s.code or str(s.status) for s in samples if s.status not in (200, 429, 503)))
    if seconds:
        out["seconds"] = round(seconds, 2)
        out["ok_per_second"] = round(len(ok) / seconds, 2)
    if ok:
        out["ok_ms"] = {f"p{p}": round(percentile(ok, p), 1) for p in (50, 90, 99)} | {"max": round(max(ok), 1)}
        server = [s.server_ms for s in samples if s.status == 200 and s.server_ms >= 0]
        if server:
            out["ok_server_ms"] = {f"p{p}": round(percentile(server, p), 1) for p in (50, 99)}
    if refused:
        ms = [s.ms for s in refused]
        out["refused_ms"] = {f"p{p}": round(percentile(ms, p), 1) for p in (50, 99)} | {"max": round(max(ms), 1)}
        server = [s.server_ms for s in refused if s.server_ms >= 0]
        if server:
            out["refused_server_ms"] = {f"p{p}": round(percentile(server, p), 1) for p in (50, 99)}
        out["refused_with_retry_after"] = sum(1 for s in refused if s.retry_after)
        out["refused_codes"] = dict(Counter(s.code for s in refused))
    return out


async def _one(client: Any, base: str, query: str, t0: float, *, key: str | None = AGENT_KEY) -> Sample:
    import httpx

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    sent = time.perf_counter()
    try:
        response = await client.get(f"{base}/v1/search", params={"q": query, "k": 5}, headers=headers)
    except httpx.HTTPError as exc:
        logger.debug("transport error: %r", exc)
        return Sample(sent - t0, 0, (time.perf_counter() - sent) * 1000, code=type(exc).__name__)
    ms = (time.perf_counter() - sent) * 1000
    code = ""
    if response.status_code != 200:
        try:
            code = str(response.json()["error"]["code"])
        except (ValueError, KeyError, TypeError):
            code = "?"
    timing = re.search(r"dur=([0-9.]+)", response.headers.get("server-timing", ""))
    return Sample(sent - t0, response.status_code, ms, response.headers.get("retry-after", ""), code,
                  float(timing.group(1)) if timing else -1.0)


def _query(i: int) -> str:
    return SEARCH_QUERIES[i % len(SEARCH_QUERIES)]


async def _closed_loop(client: Any, base: str, *, clients: int, total: int) -> Phase:
    """``clients`` workers, each sending its next request as soon as the last one is answered."""
    phase, counter, t0 = Phase("saturation"), iter(range(total)), time.perf_counter()

    async def worker() -> None:
        for i in counter:
            phase.samples.append(await _one(client, base, _query(i), t0))

    await asyncio.gather(*(worker() for _ in range(clients)))
    phase.seconds = time.perf_counter() - t0
    return phase


async def _paced(client: Any, base: str, *, clients: int, rate: float, seconds: float, name: str) -> Phase:
    """``clients`` workers sharing a schedule of ``rate`` requests/s; a worker sends its next one at its
    scheduled time, or at once when it is late (so at most ``clients`` are in flight)."""
    phase, t0 = Phase(name), time.perf_counter()
    total = max(1, int(rate * seconds))
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            phase.samples.append(await _one(client, base, _query(i), t0))

    await asyncio.gather(*(worker() for _ in range(clients)))
    phase.seconds = time.perf_counter() - t0
    return phase


async def _open_loop(client: Any, base: str, *, rate: float, seconds: float) -> tuple[Phase, list[Any]]:
    """Arrivals at ``rate``/s for ``seconds`` whatever the answers (each request its own task); returns
    when the last one is sent, with the tasks still answering (``phase.seconds`` = sending time)."""
    phase, t0, tasks = Phase("overload"), time.perf_counter(), []
    for i in range(max(1, int(rate * seconds))):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_one(client, base, _query(i), t0)))
    phase.seconds = time.perf_counter() - t0
    return phase, tasks


async def _recovery(client: Any, base: str, *, threshold_ms: float, timeout: float) -> tuple[float | None, Phase]:
    """Seconds until 5 requests in a row answer 200 within ``threshold_ms`` (None: not within timeout)."""
    phase, t0, streak = Phase("recovery"), time.perf_counter(), 0
    while time.perf_counter() - t0 < timeout:
        sample = await _one(client, base, _query(len(phase.samples)), t0)
        phase.samples.append(sample)
        streak = streak + 1 if sample.status == 200 and sample.ms <= threshold_ms else 0
        if streak == 5:
            phase.seconds = time.perf_counter() - t0
            return round(sample.sent + sample.ms / 1000 - 4 * 0.25, 2), phase
        await asyncio.sleep(0.25)
    phase.seconds = time.perf_counter() - t0
    return None, phase


async def _rate_limit(client: Any, base: str, *, requests: int) -> Phase:
    """Anonymous requests back to back from one address: past the per-minute budget they get 429."""
    phase, t0 = Phase("rate_limit"), time.perf_counter()
    for i in range(requests):
        phase.samples.append(await _one(client, base, _query(i), t0, key=None))
    phase.seconds = time.perf_counter() - t0
    return phase


async def run_load(base: str, config: LoadConfig) -> dict[str, Any]:
    """The five phases against a running server at ``base``; returns the figures."""
    import httpx

    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
        for i in range(len(SEARCH_QUERIES)):  # warm the query-vector cache and the code paths
            await _one(client, base, _query(i), time.perf_counter())
        single = Phase("single")
        t0 = time.perf_counter()
        for i in range(config.single_requests):
            single.samples.append(await _one(client, base, _query(i), t0))
        single.seconds = time.perf_counter() - t0
        base_ms = [s.ms for s in single.samples if s.status == 200]
        single_p50, single_p99 = percentile(base_ms, 50), percentile(base_ms, 99)

        saturation = await _closed_loop(client, base, clients=config.clients, total=config.saturation_requests)
        capacity = sum(1 for s in saturation.samples if s.status == 200) / saturation.seconds

        tries: list[dict[str, Any]] = []
        sustainable: dict[str, Any] | None = None
        for fraction in config.sustainable_fractions:
            rate = capacity * fraction
            phase = await _paced(client, base, clients=config.clients, rate=rate,
                                 seconds=config.sustainable_seconds, name="sustainable")
            result = summarise(phase.samples, phase.seconds) | {"rate": round(rate, 2), "fraction": fraction}
            p99 = result.get("ok_ms", {}).get("p99", float("inf"))
            result["p99_over_single_p50"] = round(p99 / single_p50, 2)
            tries.append(result)
            if result["errors"] == 0 and result["status"].get("200") == result["requests"] and p99 <= 4 * single_p50:
                sustainable = result
                break
        rate = (sustainable or tries[-1])["rate"]
        # 4x the sustainable rate, and never below 2x the capacity, so that there is an excess to shed.
        offered = max(config.overload_factor * rate, 2 * capacity)
        overload, pending = await _open_loop(client, base, rate=offered, seconds=config.overload_seconds)
        # Recovery is timed from the last arrival, while the backlog of the overload is still answered.
        recovered_after, recovery = await _recovery(client, base, threshold_ms=2 * single_p99,
                                                    timeout=config.recovery_timeout)
        overload.samples = list(await asyncio.gather(*pending))
        limited = await _rate_limit(client, base, requests=RATE_LIMIT_PER_MINUTE + 10)
    return {
        "single": summarise(single.samples, single.seconds),
        "saturation": summarise(saturation.samples, saturation.seconds) | {"clients": config.clients,
                                                                           "capacity_rps": round(capacity, 2)},
        "sustainable_tries": tries,
        "sustainable": sustainable,
        "overload": summarise(overload.samples) | {
            "sending_seconds": round(overload.seconds, 2),
            "sent_rps": round(len(overload.samples) / overload.seconds, 2),
            "offered_rps": round(offered, 2), "sustainable_rps": rate, "factor": config.overload_factor},
        "recovery": summarise(recovery.samples, recovery.seconds) | {
            "recovered_after_s": recovered_after, "threshold_ms": round(2 * single_p99, 1)},
        "rate_limit": summarise(limited.samples, limited.seconds) | {"limit_per_minute": RATE_LIMIT_PER_MINUTE},
    }


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def run(data_dir: Path, config: LoadConfig, *, ready_timeout: float = 300.0) -> dict[str, Any]:
    """Start a server over ``data_dir``, run the phases, stop it; figures with the machine's load."""
    from eval.bench_api import _free_port

    server = LoadServer(data_dir, port=_free_port(), max_in_flight=config.max_in_flight)
    try:
        ready = server.wait_ready(ready_timeout)
        uptime_before = _uptime()
        figures = asyncio.run(run_load(server.base, config))
        if server.process.poll() is not None:
            raise RuntimeError(f"the server died during the load test:\n{server.log_tail()}")
    finally:
        server.stop()
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "uptime_before": uptime_before, "uptime_after": _uptime()},
        "server": f"uvicorn, 1 worker, 127.0.0.1, XIZMAT_MAX_IN_FLIGHT={config.max_in_flight}, "
                  f"XIZMAT_RATE_LIMIT_PER_MINUTE={RATE_LIMIT_PER_MINUTE} (load phases use an agent key)",
        "index": {"chunks": ready.get("chunks"), "documents": ready.get("documents")},
        "config": asdict(config),
        **figures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--out", type=Path, default=None, help="default: eval/results/<date>-load.json")
    parser.add_argument("--quick", action="store_true", help="the bounded variant the test suite runs")
    parser.add_argument("--max-in-flight", type=int, default=LoadConfig.max_in_flight)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    base = LoadConfig.quick() if args.quick else LoadConfig()
    config = LoadConfig(**{**asdict(base), "max_in_flight": args.max_in_flight})
    result = run(args.data_dir, config)
    out = args.out or Path("eval/results") / f"{date.today().isoformat()}-load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
