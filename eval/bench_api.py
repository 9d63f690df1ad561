"""Load benchmark of the HTTP API: p50/p95/p99 latency of /v1/search, /v1/ask and /v1/suggest on loopback.

Starts the real app (``uvicorn --factory api.main:create_app``, one worker, rate limit off) on a free
port of 127.0.0.1, waits for /readyz, then for each route sends a bounded number of requests (and
stops at a time cap) from 1 client and from 16 concurrent clients (asyncio + httpx). Latency is
measured by the client (send to last byte) and by the server (the ``Server-Timing: app;dur=`` header
of api/metrics.py). Queries are a fixed list in Uzbek (Latin and Cyrillic), Russian and English,
cycled in order; the server caches query embeddings, so each case reports separately the requests
whose text the server had not seen yet ("new query": the embedding is computed). Any non-2xx answer or
transport error is counted as an error. The client shares the machine with the server, and the
machine's load average is recorded beside the numbers.

    python -m eval.bench_api --data-dir data [--requests 200] [--time-cap 60] [--out eval/results/DATE-api.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["ASK_QUESTIONS", "SEARCH_QUERIES", "SUGGEST_PREFIXES", "CaseResult", "main", "percentile"]

logger = logging.getLogger(__name__)

# Realistic caller queries, in the four language forms the service answers in.
SEARCH_QUERIES: tuple[str, ...] = (
    # uz-Latn
    "pasport olish uchun qanday hujjatlar kerak", "ID-karta almashtirish muddati", "nikohni roʻyxatdan oʻtkazish",
    "pensiya tayinlash yoshi", "yakka tartibdagi tadbirkor roʻyxatdan oʻtish", "murojaat koʻrib chiqish muddati",
    "haydovchilik guvohnomasi olish", "15¹-modda",
    # uz-Cyrl
    "паспорт олиш учун ҳужжатлар", "никоҳни рўйхатдан ўтказиш", "ёшга доир пенсия", "ер участкаси ажратиш",
    "мурожаатни кўриб чиқиш муддати", "тадбиркорлик субъектини рўйхатдан ўтказиш", "болалар боғчасига навбат",
    "яшаш жойи бўйича рўйхатга олиш",
    # ru
    "какие документы нужны для получения паспорта", "регистрация брака", "пенсия по возрасту стаж",
    "срок рассмотрения обращения", "регистрация транспортного средства", "справка о судимости",
    "закон об обращениях статья 12", "регистрация индивидуального предпринимателя",
    # en
    "how to get a biometric passport", "documents for an ID card", "construction permit application",
    "child benefit for low-income families", "university admission documents", "register a limited liability company",
    "how long does the authority have to answer an appeal", "appeal against a refusal",
)
ASK_QUESTIONS: tuple[str, ...] = (
    # uz-Latn
    "Murojaat qancha muddatda koʻrib chiqiladi?", "ID-karta olish uchun qanday hujjatlar kerak?",
    "Pensiya necha yoshdan tayinlanadi?", "Haydovchilik guvohnomasini olish uchun nima kerak?",
    "Nikohni roʻyxatdan oʻtkazish uchun davlat boji qancha?", "Murojaatlar toʻgʻrisidagi qonun 99-modda",
    "Non qanday pishiriladi?", "Yakka tartibdagi tadbirkor qanday roʻyxatdan oʻtadi?",
    # uz-Cyrl
    "Мурожаат қанча муддатда кўриб чиқилади?", "Пенсия неча ёшдан тайинланади?",
    "Никоҳни рўйхатдан ўтказиш учун қандай ҳужжатлар керак?", "Ер участкаси қандай ажратилади?",
    "Боғчага навбатга қандай турилади?", "МЧЖни рўйхатдан ўтказиш қанча вақт олади?",
    "Яшаш жойи бўйича рўйхатдан ўтиш учун нима керак?", "Тадбиркорлик субъекти қаерда рўйхатдан ўтади?",
    # ru
    "В какой срок рассматривается обращение?", "Какие документы нужны для регистрации брака?",
    "С какого возраста назначается пенсия?", "Закон об обращениях, статья 99",
    "Как зарегистрировать транспортное средство?", "Как получить справку о судимости?",
    "Как испечь хлеб?", "Сколько стоит регистрация рождения ребёнка?",
    # en
    "How long does it take to get an ID card?", "What documents do I need for a biometric passport?",
    "Who may apply for child benefit?", "How do I apply for a construction permit?",
    "How to bake bread?", "How do I register a limited liability company?",
    "What is the fee for university admission?", "Can I appeal a refusal to issue a passport?",
)
SUGGEST_PREFIXES: tuple[str, ...] = (
    "pas", "pasport", "roʻyx", "ro'yxatdan o", "royxatdan", "haydovchlik", "nikoh", "pensiya",
    "рўйхат", "никоҳ", "паспорт о", "ер учас", "давлат хизм", "тадбирк", "боғча", "пенс",
    "регистр", "водит", "пенсия по", "справка", "закон об", "брак", "паспорт", "ид",
    "construction per", "passport", "social", "child ben", "univers", "id card", "limited", "regis",
)
ROUTES = ("search", "ask", "suggest")
CONCURRENCY = (1, 16)
_TIMING = re.compile(r"app;dur=([0-9.]+)")


@dataclass(frozen=True)
class CaseResult:
    """The latencies of one route under one number of concurrent clients (milliseconds)."""

    route: str
    clients: int
    requests: int
    errors: int
    seconds: float
    throughput_rps: float
    client_ms: dict[str, float]
    server_ms: dict[str, float]
    new_query_client_ms: dict[str, float]
    new_queries: int
    error_samples: list[str]


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``p`` % of the values at or below it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100), at least 1
    return ordered[int(rank) - 1]


def _summary(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    return {"p50": round(percentile(values, 50), 2), "p95": round(percentile(values, 95), 2),
            "p99": round(percentile(values, 99), 2), "max": round(max(values), 2),
            "mean": round(sum(values) / len(values), 2)}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _loadavg() -> list[float]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return []


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


class Server:
    """The app under uvicorn in a subprocess, with its output in a temporary log file."""

    def __init__(self, data_dir: Path, *, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("XIZMAT_")}
        # Rate limit off and no keys, so the benchmark measures the routes and never a 429 or 401.
        env |= {"XIZMAT_DATA_DIR": str(data_dir), "XIZMAT_RATE_LIMIT_PER_MINUTE": "0"}
        for name in ("XIZMAT_EMBEDDER", "XIZMAT_MAX_QUERY_CHARS"):
            if name in os.environ:
                env[name] = os.environ[name]
        self.log = tempfile.NamedTemporaryFile(prefix="xizmat-bench-", suffix=".log", delete=False)  # noqa: SIM115
        command = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1",
                   "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log"]
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def log_tail(self, lines: int = 20) -> str:
        self.log.flush()
        text = Path(self.log.name).read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        """Poll /readyz until it answers 200; raise RuntimeError when the server dies or times out."""
        import httpx

        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                response = httpx.get(self.base + "/readyz", timeout=2.0)
                if response.status_code == 200:
                    return dict(response.json())
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.TransportError as exc:
                last = type(exc).__name__
            time.sleep(0.5)
        raise RuntimeError(f"/readyz did not answer 200 within {timeout:.0f} s (last: {last}):\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


def _request(route: str, text: str) -> tuple[str, str, dict[str, Any]]:
    if route == "search":
        return "GET", "/v1/search", {"params": {"q": text, "k": 10}}
    if route == "ask":
        return "POST", "/v1/ask", {"json": {"question": text, "filters": {}}}
    return "GET", "/v1/suggest", {"params": {"q": text, "k": 8}}


def _texts(route: str) -> tuple[str, ...]:
    return {"search": SEARCH_QUERIES, "ask": ASK_QUESTIONS, "suggest": SUGGEST_PREFIXES}[route]


async def _run_case(
    base: str, route: str, *, clients: int, requests: int, time_cap: float, seen: set[tuple[str, str]]
) -> CaseResult:
    import httpx

    texts = _texts(route)
    client_ms: list[float] = []
    server_ms: list[float] = []
    new_ms: list[float] = []
    errors: list[str] = []
    next_index = 0
    started = time.perf_counter()
    deadline = started + time_cap
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as client:

        async def worker() -> None:
            nonlocal next_index
            while next_index < requests and time.perf_counter() < deadline:
                text = texts[next_index % len(texts)]
                next_index += 1
                # Suggestions are not embedded, so only search and ask have a cold path.
                new = route != "suggest" and (route, text) not in seen
                seen.add((route, text))
                method, path, kwargs = _request(route, text)
                sent = time.perf_counter()
                try:
                    response = await client.request(method, path, **kwargs)
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    continue
                elapsed = (time.perf_counter() - sent) * 1000
                if not response.is_success:
                    errors.append(f"{response.status_code} {path} {text!r}: {response.text[:150]}")
                    continue
                client_ms.append(elapsed)
                if new:
                    new_ms.append(elapsed)
                timing = _TIMING.search(response.headers.get("server-timing", ""))
                if timing:
                    server_ms.append(float(timing[1]))

        await asyncio.gather(*(worker() for _ in range(clients)))
    seconds = time.perf_counter() - started
    done = len(client_ms) + len(errors)
    return CaseResult(
        route=route, clients=clients, requests=done, errors=len(errors), seconds=round(seconds, 2),
        throughput_rps=round(len(client_ms) / seconds, 1) if seconds > 0 else 0.0,
        client_ms=_summary(client_ms), server_ms=_summary(server_ms), new_query_client_ms=_summary(new_ms),
        new_queries=len(new_ms), error_samples=errors[:5],
    )


async def _warm_up(base: str) -> None:
    """One request per route with texts outside the measured lists (loads lazy state, opens sockets)."""
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        for route, text in (("search", "davlat xizmati"), ("ask", "Davlat xizmati nima?"), ("suggest", "dav")):
            method, path, kwargs = _request(route, text)
            (await client.request(method, path, **kwargs)).raise_for_status()


def _fmt(stats: dict[str, float], key: str) -> str:
    return f"{stats[key]:.1f}" if key in stats else "–"


def markdown_table(cases: Sequence[CaseResult]) -> str:
    """The results as a Markdown table (milliseconds)."""
    lines = [
        "| route | clients | requests | errors | req/s | p50 | p95 | p99 | server p50 | server p95 | server p99 "
        "| new-query p50 (n) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    paths = {"search": "GET /v1/search", "ask": "POST /v1/ask", "suggest": "GET /v1/suggest"}
    for c in cases:
        new = f"{_fmt(c.new_query_client_ms, 'p50')} ({c.new_queries})" if c.new_queries else "–"
        lines.append(
            f"| {paths[c.route]} | {c.clients} | {c.requests} | {c.errors} | {c.throughput_rps:.1f} "
            f"| {_fmt(c.client_ms, 'p50')} | {_fmt(c.client_ms, 'p95')} | {_fmt(c.client_ms, 'p99')} "
            f"| {_fmt(c.server_ms, 'p50')} | {_fmt(c.server_ms, 'p95')} | {_fmt(c.server_ms, 'p99')} | {new} |"
        )
    return "\n".join(lines)


def run(
    data_dir: Path, *, requests: int, time_cap: float, ready_timeout: float, routes: Sequence[str] = ROUTES
) -> dict[str, Any]:
    """Start the server, measure the routes under every concurrency, stop the server; the report."""
    load_before, uptime_before = _loadavg(), _uptime()
    server = Server(data_dir, port=_free_port())
    try:
        ready = server.wait_ready(ready_timeout)
        asyncio.run(_warm_up(server.base))
        seen: set[tuple[str, str]] = set()
        cases = [
            asyncio.run(_run_case(server.base, route, clients=clients, requests=requests, time_cap=time_cap,
                                  seen=seen))
            for clients in CONCURRENCY for route in routes
        ]
    finally:
        server.stop()
    return {
        "benchmark": "api", "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_dir": str(data_dir),
        "index": {k: ready.get(k) for k in ("generation", "documents", "chunks", "embedder")},
        "server": "uvicorn, 1 worker, 127.0.0.1, XIZMAT_RATE_LIMIT_PER_MINUTE=0",
        "client": "httpx.AsyncClient on the same machine, one connection per concurrent client",
        "requests_per_case": requests, "time_cap_s": time_cap, "concurrency": list(CONCURRENCY),
        "queries": {"search": len(SEARCH_QUERIES), "ask": len(ASK_QUESTIONS), "suggest": len(SUGGEST_PREFIXES),
                    "language_forms": ["uz-Latn", "uz-Cyrl", "ru", "en"]},
        "machine": {
            "cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "loadavg_before": load_before, "loadavg_after": _loadavg(),
            "uptime_before": uptime_before, "uptime_after": _uptime(),
        },
        "units": "milliseconds; client = send to last byte; server = Server-Timing app;dur (to the response start)",
        "cases": [asdict(c) for c in cases],
        "markdown": markdown_table(cases),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="a data directory with a built index")
    parser.add_argument("--requests", type=int, default=200, help="requests per route and concurrency (200)")
    parser.add_argument("--time-cap", type=float, default=60.0, help="seconds per case at most (60)")
    parser.add_argument("--ready-timeout", type=float, default=300.0, help="seconds to wait for /readyz (300)")
    parser.add_argument("--out", type=Path, default=None, help="JSON report (default eval/results/<date>-api.json)")
    parser.add_argument("--routes", default=",".join(ROUTES),
                        help=f"comma-separated routes to measure, of {', '.join(ROUTES)} (all)")
    args = parser.parse_args(argv)
    routes = tuple(r.strip() for r in args.routes.split(",") if r.strip())
    if not routes or set(routes) - set(ROUTES):
        parser.error(f"--routes={args.routes!r}: use a comma-separated subset of {', '.join(ROUTES)}")
    if args.requests < 1 or args.time_cap <= 0:
        parser.error(f"--requests={args.requests} and --time-cap={args.time_cap} must be positive")
    if not (args.data_dir / "CURRENT").exists():
        print(f"no published index in {args.data_dir}; run `xizmat index build --data-dir {args.data_dir}` first",
              file=sys.stderr)
        return 1
    out = args.out or Path("eval/results") / f"{date.today().isoformat()}-api.json"
    try:
        report = run(args.data_dir, requests=args.requests, time_cap=args.time_cap, ready_timeout=args.ready_timeout,
                     routes=routes)
    except RuntimeError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    machine = report["machine"]
    print(report["markdown"])
    print(f"\n{machine['cpus']} CPUs; load average before {machine['loadavg_before']}, after "
          f"{machine['loadavg_after']}; written to {out}")
    errors = sum(c["errors"] for c in report["cases"])
    if errors:
        print(f"{errors} requests failed; see error_samples in {out}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
