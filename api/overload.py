"""Load shedding: a bounded number of requests in flight per process; the rest get 503 at once.

Search and ask are CPU-bound (an embedding and two index lookups each). When requests arrive faster than
the process can answer them, queueing them only makes every answer late; answering the excess at once
with ``503 overloaded`` and ``Retry-After`` keeps the accepted ones fast and tells clients when to come
back. Probes (``/healthz``, ``/readyz``, ``/metrics``) are never shed, so orchestrators see a live
process. ``max_in_flight=0`` turns shedding off (``XIZMAT_MAX_IN_FLIGHT``).

Of the admitted requests only ``max_running`` run at once; the others wait their turn on the event loop,
which costs nothing. Without that bound every admitted request holds a worker thread, and dozens of
threads doing CPU work starve the event loop of the GIL: it then reads new requests (and sheds them)
seconds late. Measured on 2 cores: refusals answered in ~0.3-4 s with 32 running, see docs/operations.md.
"""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_body

__all__ = ["EXEMPT_PATHS", "MAX_RUNNING", "RETRY_AFTER_SECONDS", "InFlightLimitMiddleware"]

logger = logging.getLogger(__name__)

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
RETRY_AFTER_SECONDS = 1
# Requests running at once per process: searches are CPU-bound and the GIL serialises most of them.
MAX_RUNNING = 4


class InFlightLimitMiddleware:
    """Answers ``503 overloaded`` with ``Retry-After`` when ``max_in_flight`` requests are being served.

    The count is per process (per uvicorn worker); the check and the increment run without an ``await``
    between them, so on one event loop they are atomic.
    """

    def __init__(self, app: ASGIApp, *, max_in_flight: int, max_running: int = MAX_RUNNING) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_running = max(1, min(max_running, max_in_flight or max_running))
        self.in_flight = 0
        self.shed = 0
        self._running: asyncio.Semaphore | None = None  # made on first use, inside the server's loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_in_flight <= 0 or scope.get("path") in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            self.shed += 1
            if self.shed == 1 or self.shed % 1000 == 0:
                logger.warning("overloaded: %d requests in flight, %d shed so far (XIZMAT_MAX_IN_FLIGHT=%d)",
                               self.in_flight, self.shed, self.max_in_flight)
            await self._refuse(scope, send)
            return
        self.in_flight += 1
        try:
            if self._running is None:
                self._running = asyncio.Semaphore(self.max_running)
            async with self._running:
                await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _refuse(self, scope: Scope, send: Send) -> None:
        request_id = str(scope.get("state", {}).get("request_id", ""))
        message = (f"the service is answering {self.max_in_flight} requests already; "
                   f"retry in {RETRY_AFTER_SECONDS} s")
        payload = json.dumps(error_body("overloaded", message, request_id), ensure_ascii=False).encode("utf-8")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                   (b"retry-after", str(RETRY_AFTER_SECONDS).encode())]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
