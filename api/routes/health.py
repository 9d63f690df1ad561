"""Liveness and readiness: the process answers, and the index is loaded."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import NOT_READY
from api.errors import error_body, request_id_of

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    """Always 200 while the process serves requests."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The index is loaded",
    responses={503: {"description": "The index or the store could not be loaded"}},
)
async def readyz(request: Request) -> Any:
    """200 with the published generation and its counts, or 503 with why it is not ready."""
    searcher = request.app.state.searcher
    if searcher is None or request.app.state.store is None:
        failure = request.app.state.not_ready
        code = failure.code if failure is not None else "index_not_ready"
        body = {"status": "not_ready", **error_body(code, NOT_READY, request_id_of(request))}
        return JSONResponse(body, status_code=503)
    manifest = searcher.generation.manifest
    return {
        "status": "ready", "generation": manifest.generation, "documents": manifest.documents,
        "chunks": manifest.chunks, "embedder": manifest.embedder_id, "created_at": manifest.created_at,
        "fallback": searcher.generation.fallback,  # true: the published generation is damaged
    }
