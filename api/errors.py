"""Errors of the API and their one mapping to HTTP: ``{"error": {"code", "message", "request_id"}}``.

XizmatError (ingest.errors)
├── QueryError (index.search)        422  empty_query, query_too_long, invalid_k, invalid_page,
│                                         unknown_filter, invalid_filter
├── NotFoundError                    404  document_not_found, article_not_found, chunk_not_found,
│                                         service_not_found
├── IndexNotReadyError               503  index_not_ready
├── ApiError (api.security, routes)  its own status: 401 unauthorized, 403 forbidden / admin_disabled,
│                                         400 key_in_query, 429 rate_limited (with Retry-After),
│                                         404 query_not_found / task_not_found, 400 invalid_upload
├── SearchIndexError, StoreError     503  their own codes (index_corrupt, store_corrupt, ...)
└── anything else                    500  its own code, with a fixed message
Request validation                   422  invalid_k, invalid_page, invalid_chunk_id, invalid_request
Routing and HTTP errors              404 not_found, 405 method_not_allowed, 413 payload_too_large
Unexpected exceptions                500  internal_error (logged with the request id, never shown)

Messages of 4xx errors are written for the client; 5xx messages are fixed texts, because the
underlying messages may name server paths.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.dense import SearchIndexError
from index.search import QueryError
from ingest.errors import StoreError, XizmatError

__all__ = ["ApiError", "IndexNotReadyError", "NotFoundError", "error_body", "install_error_handlers"]

logger = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "invalid_request", 429: "rate_limited", 503: "unavailable",
}
# Which request parameter maps to which stable code when FastAPI rejects its type.
_PARAM_CODES = {
    ("query", "k"): "invalid_k", ("query", "page"): "invalid_page", ("path", "chunk_id"): "invalid_chunk_id",
}
INTERNAL_MESSAGE = "an unexpected error occurred; report the request_id to the operators"


class NotFoundError(XizmatError):
    """A requested document, article or chunk does not exist (404)."""

    code = "not_found"


class IndexNotReadyError(XizmatError):
    """The search index or the store could not be loaded at start-up (503)."""

    code = "index_not_ready"


class ApiError(XizmatError):
    """An error that carries its own HTTP status and headers (auth, rate limits, admin tasks)."""

    def __init__(
        self, message: str, *, code: str, status: int, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.headers = dict(headers or {})


def request_id_of(request: Request) -> str:
    """The id the request-id middleware gave this request ("" outside it)."""
    return str(request.scope.get("state", {}).get("request_id", ""))


def error_body(code: str, message: str, request_id: str) -> dict[str, Any]:
    """The error envelope every failing response carries."""
    return {"error": {"code": code, "message": message, "request_id": request_id}}


def status_of(exc: XizmatError) -> int:
    """The HTTP status of a domain error."""
    if isinstance(exc, ApiError):
        return exc.status
    if isinstance(exc, QueryError):
        return 422
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, (IndexNotReadyError, SearchIndexError, StoreError)):
        return 503
    return 500


def _respond(
    request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = error_body(code, message, request_id_of(request))
    return JSONResponse(body, status_code=status, headers=headers)


async def _xizmat_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, XizmatError)
    status = status_of(exc)
    if status >= 500:
        logger.error("request %s failed [%s]: %s", request_id_of(request), exc.code, exc.message)
        message = (
            "the search index is not loaded; build it with `xizmat index build` and restart the server"
            if status == 503 else INTERNAL_MESSAGE
        )
        return _respond(request, status, exc.code, message)
    headers = exc.headers if isinstance(exc, ApiError) else None
    return _respond(request, status, exc.code, exc.message, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    loc = tuple(str(part) for part in first.get("loc", ()))
    code = _PARAM_CODES.get(loc[:2], "invalid_request")
    where = ".".join(loc[1:]) or "request"
    return _respond(request, 422, code, f"{where}: {first.get('msg', 'invalid value')}")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if exc.status_code == 404:
        message = f"no route {request.url.path}; see /docs for the API"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return _respond(request, exc.status_code, code, message, headers=dict(exc.headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; unexpected exceptions are caught by ``RequestIdMiddleware``."""
    app.add_exception_handler(XizmatError, _xizmat_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
