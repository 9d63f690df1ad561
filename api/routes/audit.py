"""``GET /v1/admin/audit/services`` (admin): the completeness audit of every stored service description.

The same report as ``xizmat audit services --format json``: per service, each of the eight elements is
present, vague, missing or contradicts the cited regulation, with its passages; per authority, the mean
score, the number of services and the element missing most often.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import StoreDep
from ingest.audit import audit_services

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/admin/audit", tags=["admin"])


@router.get(
    "/services",
    summary="Completeness of every service description, per service and per authority",
    responses={401: {"description": "unauthorized"}, 403: {"description": "forbidden / admin_disabled"},
               503: {"description": "index_not_ready"}},
)
async def audit_services_route(
    store: StoreDep,
    authority: Annotated[str | None, Query(max_length=200, description="Authority name contains this")] = None,
) -> Any:
    """``{"services": [...worst first], "authorities": [...], "count"}``; see docs/completeness.md."""
    report = await run_in_threadpool(audit_services, store, authority=authority or None)
    return report.as_dict()
