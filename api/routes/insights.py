"""``GET /v1/admin/insights/unanswered`` (admin): questions nobody answers, clustered, as JSON or CSV.

The clustering is ``index/insights.py``: unanswered queries from the log, grouped by meaning across
languages and scripts, ranked by recency-weighted volume, each with the nearest services' authority.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import OpsDep, SearcherDep
from api.errors import ApiError
from ingest.errors import ConfigError

__all__ = ["UnansweredOut", "router"]

router = APIRouter(prefix="/v1/admin/insights", tags=["admin"])

_NO_STORE = {"Cache-Control": "no-store"}


class MemberOut(BaseModel):
    text: str
    lang: str
    count: int
    first_seen: str
    last_seen: str


class ServiceOut(BaseModel):
    id: str
    title: str
    authority: str
    score: float


class ClusterOut(BaseModel):
    """One meaning: its representative question, wordings, volume, dates and nearest services."""

    id: str
    representative: str
    count: int
    score: float
    first_seen: str
    last_seen: str
    members: list[MemberOut]
    languages: dict[str, int]
    reasons: dict[str, int]
    authority: str
    services: list[ServiceOut]


class UnansweredOut(BaseModel):
    """Clusters best first; ``queries`` is the number of unanswered queries they hold."""

    since: str
    queries: int
    clusters: list[ClusterOut]


@router.get(
    "/unanswered",
    response_model=UnansweredOut,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"},
               401: {"description": "unauthorized"}, 403: {"description": "forbidden, admin_disabled"},
               422: {"description": "invalid_since"}, 503: {"description": "index_not_ready"}},
)
def unanswered(
    ops: OpsDep,
    searcher: SearcherDep,
    since: str = Query("", description="Only queries logged on or after this date (YYYY-MM-DD)"),
    format: Literal["json", "csv"] = Query("json", description="json or csv (a download)"),  # noqa: A002
) -> Any:
    """Unanswered queries (no result, or ``no_answer``) clustered by meaning across languages."""
    from index.insights import cluster_unanswered, clusters_to_csv, logged_queries, nearest_services, parse_since

    try:
        since_iso = parse_since(since)
    except ConfigError as exc:
        raise ApiError(exc.message, code=exc.code, status=422) from None
    queries = logged_queries(ops.unanswered(since=since_iso))
    clusters = cluster_unanswered(queries, searcher.embedder,
                                  find_services=lambda text: nearest_services(searcher, text))
    if format == "csv":
        # A byte-order mark so that spreadsheet programs read the Cyrillic and Uzbek letters as UTF-8.
        filename = f"unanswered-{date.today().isoformat()}.csv"
        return Response("\ufeff" + clusters_to_csv(clusters), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"', **_NO_STORE})
    body = UnansweredOut(since=since_iso, queries=len(queries),
                         clusters=[ClusterOut.model_validate(c.as_dict()) for c in clusters])
    return Response(body.model_dump_json(), media_type="application/json", headers=_NO_STORE)
