"""Prometheus metrics: requests and latency per route template and status, the served index, tasks.

Each app owns its registry (``app.state.metrics``), so several apps in one process never collide.
Routes are labelled by template (``/v1/documents/{doc_id}``), never by raw path, to bound cardinality.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "MetricsMiddleware", "install_metrics"]

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class _StateCollector(Collector):
    """Reads the served generation and the task queue at scrape time."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Any]:
        state = self.app.state
        searcher = getattr(state, "searcher", None)
        ready = GaugeMetricFamily("xizmat_index_ready", "1 when an index generation is loaded")
        ready.add_metric([], 1.0 if searcher is not None else 0.0)
        yield ready
        if searcher is not None:
            manifest = searcher.generation.manifest
            info = InfoMetricFamily("xizmat_index_generation", "The served index generation")
            info.add_metric([], {"generation": manifest.generation, "embedder": manifest.embedder_id,
                                 "created_at": manifest.created_at})
            yield info
            yield GaugeMetricFamily("xizmat_index_documents", "Documents in the served generation",
                                    value=float(manifest.documents))
            yield GaugeMetricFamily("xizmat_index_chunks", "Chunks in the served generation",
                                    value=float(manifest.chunks))
        ops = getattr(state, "ops", None)
        if ops is not None:
            tasks = GaugeMetricFamily("xizmat_tasks", "Admin tasks by state", labels=["state"])
            for task_state, count in ops.task_counts().items():
                tasks.add_metric([task_state], float(count))
            yield tasks


class Metrics:
    """The registry of one app with its request counter and latency histogram."""

    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "xizmat_http_requests", "HTTP requests by method, route template and status",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "xizmat_http_request_duration_seconds", "Request latency by method, route template and status",
            ["method", "route", "status"], buckets=BUCKETS, registry=self.registry,
        )
        self.registry.register(_StateCollector(app))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of everything registered."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Times every HTTP request, counts it under its route template and final status, and reports the
    server-side time in a ``Server-Timing: app;dur=<ms>`` header."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                # Time to the first byte of the response, for clients and benchmarks (eval/bench_api.py).
                timing = f"app;dur={(time.perf_counter() - started) * 1000:.2f}".encode()
                message = {**message, "headers": [*message.get("headers", []), (b"server-timing", timing)]}
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED)
            method = str(scope.get("method", ""))
            method = method if method in _METHODS else "OTHER"
            self.metrics.observe(method, route, status, time.perf_counter() - started)


def install_metrics(app: FastAPI) -> None:
    """Create the app's registry and measure every request (outside every other middleware)."""
    app.state.metrics = Metrics(app)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
