"""``GET /metrics``: the Prometheus text exposition of the app's registry."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.metrics import CONTENT_TYPE_LATEST

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request) -> Response:
    """Request counts and latency histograms per route template and status; the served index; tasks."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
