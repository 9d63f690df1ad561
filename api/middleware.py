"""Pure ASGI middleware: request ids (and the last-resort 500), request header and body size limits."""

from __future__ import annotations

import json
import logging
import re
import uuid

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import INTERNAL_MESSAGE, error_body

__all__ = ["BodySizeLimitMiddleware", "HeaderLimitMiddleware", "RequestIdMiddleware"]

logger = logging.getLogger(__name__)

HEADER = "x-request-id"
# A client's id is echoed only when it is short and plain, so it cannot inject into headers or logs.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


async def _send_json(
    send: Send, status: int, body: dict[str, object], headers: list[tuple[bytes, bytes]]
) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    length = str(len(payload)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", length), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class RequestIdMiddleware:
    """Reads X-Request-ID (or makes one), exposes it in ``request.state``, echoes it on every response,
    and turns an unexpected exception into a logged 500 ``internal_error`` without details."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER.encode(), b"").decode("latin-1")
        request_id = given if _CLIENT_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        header = (HEADER.encode(), request_id.encode())
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER.encode()]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("request %s %s %s failed", request_id, scope.get("method"), scope.get("path"))
            if started:
                raise
            await _send_json(send, 500, error_body("internal_error", INTERNAL_MESSAGE, request_id), [header])


class BodySizeLimitMiddleware:
    """Answers 413 before reading a body whose Content-Length is above ``max_bytes``, and stops a
    chunked body as soon as it grows past it."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self, size: int | None) -> str:
        shown = "the request body" if size is None else f"the request body of {size} bytes"
        return f"{shown} is above the limit of {self.max_bytes} bytes (XIZMAT_MAX_UPLOAD_BYTES); send less"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = dict(scope["headers"]).get(b"content-length")
        if raw is not None:
            try:
                size = int(raw)
            except ValueError:
                size = -1
            if size < 0 or size > self.max_bytes:
                request_id = str(scope.get("state", {}).get("request_id", ""))
                code, status = ("payload_too_large", 413) if size > 0 else ("bad_request", 400)
                message = self._message(size) if status == 413 else "Content-Length is not a number"
                await _send_json(send, status, error_body(code, message, request_id), [])
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException passes through FastAPI's body parsing to the error handler.
                    raise HTTPException(413, self._message(None))
            return message

        await self.app(scope, receive if raw is not None else limited_receive, send)


class HeaderLimitMiddleware:
    """Answers 431 when the request headers are above ``max_bytes`` in total or ``max_count`` in number;
    the HTTP server (httptools) sets no limit of its own."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = 16 * 1024, max_count: int = 100) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = sum(len(name) + len(value) + 4 for name, value in headers)
            if size > self.max_bytes or len(headers) > self.max_count:
                request_id = str(scope.get("state", {}).get("request_id", ""))
                message = (f"the request has {len(headers)} headers of {size} bytes; the limits are "
                           f"{self.max_count} headers and {self.max_bytes} bytes, send fewer or shorter ones")
                await _send_json(send, 431, error_body("headers_too_large", message, request_id), [])
                return
        await self.app(scope, receive, send)
