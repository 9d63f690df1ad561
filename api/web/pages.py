"""Serve the two pages and their assets as plain files: no build step, no framework, nothing remote.

Only the files named in ``ASSETS`` are served, so no request path ever reaches the file system.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.errors import NotFoundError

__all__ = ["ASSETS", "PAGES", "STATIC_DIR", "router"]

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGES = {"/": "index.html", "/agent": "agent.html"}
PAGES["/admin/insights"] = "insights.html"
PAGES["/admin/audit"] = "audit.html"
ASSETS = {
    "app.css": "text/css; charset=utf-8",
    "common.js": "text/javascript; charset=utf-8",
    "search.js": "text/javascript; charset=utf-8",
    "agent.js": "text/javascript; charset=utf-8",
    "insights.js": "text/javascript; charset=utf-8",
    "audit.js": "text/javascript; charset=utf-8",
    "audit.css": "text/css; charset=utf-8",
    "i18n.json": "application/json; charset=utf-8",
}
# Everything the pages load comes from this origin; document text is never parsed as HTML.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)


@router.get("/")
def search_page() -> FileResponse:
    """The citizen search page."""
    return _page(PAGES["/"])


@router.get("/agent")
def agent_page() -> FileResponse:
    """The call-centre answer console."""
    return _page(PAGES["/agent"])


@router.get("/admin/insights")
def insights_page() -> FileResponse:
    """Unanswered-question insights for content owners (asks for the admin key; holds no data)."""
    return _page(PAGES["/admin/insights"])


@router.get("/admin/audit")
def audit_page() -> FileResponse:
    """The service completeness audit for content owners (asks for the admin key; holds no data)."""
    return _page(PAGES["/admin/audit"])


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    """One of the pages' assets; anything else is a 404 in the API's error format."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFoundError(f"no asset {name!r}; the pages use {', '.join(ASSETS)}", code="asset_not_found")
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    return FileResponse(STATIC_DIR / name, media_type=media_type, headers=headers)
