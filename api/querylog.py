"""Logging every query (``/v1/search``, ``/v1/ask``) into the store's ``query_log`` table.

Clients are recorded as a salted hash of their address, never the address itself; the salt is
random per process, so hashes group one client's queries within a run and cannot be reversed.
Personal data in the query text is masked by the store (``ingest/pii.py``), and queries older than
``XIZMAT_QUERY_LOG_RETENTION_DAYS`` are purged at start-up and daily (``purge_query_log``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_plus

from fastapi import Request

from api.security import client_of
from ingest.pii import mask_personal_data
from ingest.store_logs import OpsLog, QueryRecord
from xizmat.settings import Settings

__all__ = ["AccessLogMask", "client_hash", "install_access_log_mask", "log_query", "purge_query_log", "shown_results"]

logger = logging.getLogger(__name__)

_SALT = secrets.token_bytes(16)


def client_hash(request: Request) -> str:
    """A short, salted, irreversible id for the client of a request."""
    return hashlib.blake2b(client_of(request).encode(), key=_SALT, digest_size=8).hexdigest()


def shown_results(groups: Sequence[Any]) -> list[dict[str, Any]]:
    """What a search showed, compactly: each group's id with its passages' refs and chunk ids."""
    shown = []
    for group in groups:
        data = group if isinstance(group, dict) else group.__dict__
        passages = [p if isinstance(p, dict) else p.__dict__ for p in data.get("passages", ())]
        shown.append({"id": data["id"], "refs": [p["ref"] for p in passages],
                      "chunk_ids": [p["chunk_id"] for p in passages]})
    return shown


def log_query(
    request: Request,
    *,
    query_id: str,
    query: str,
    latency_ms: float,
    results: Sequence[Any] = (),
    lang: str = "",
    script: str = "",
    generation: str = "",
    no_answer: bool = False,
    reason: str = "",
) -> None:
    """Record one query; never fails the request (a logging failure is itself logged)."""
    ops = getattr(request.app.state, "ops", None)
    if ops is None:
        return
    route = getattr(request.scope.get("route"), "path", request.url.path)
    record = QueryRecord(
        id=query_id, route=route, query=query, lang=lang, script=script, latency_ms=latency_ms,
        results=list(results), generation=generation, no_answer=no_answer, reason=reason,
        client=client_hash(request),
    )
    try:
        ops.log_query(record)
    except (sqlite3.Error, TypeError, ValueError) as exc:
        logger.warning("query %s was not logged: %s", query_id, exc)


def purge_query_log(ops: OpsLog, settings: Settings) -> int:
    """Delete logged queries older than the retention setting; never raises (failures are logged)."""
    try:
        purged = ops.purge_queries(older_than_days=settings.query_log_retention_days)
    except sqlite3.Error as exc:
        logger.warning("the query log could not be purged: %s", exc)
        return 0
    if purged:
        logger.info("purged %d logged queries older than %d days", purged, settings.query_log_retention_days)
    return purged


class AccessLogMask(logging.Filter):
    """Masks personal data in the query string of uvicorn's access-log lines (``/v1/search?q=...``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            path, _, query = args[2].partition("?")
            decoded = unquote_plus(query)
            masked = mask_personal_data(decoded)
            if masked != decoded:
                record.args = (*args[:2], f"{path}?{masked}", *args[3:])
        return True


def install_access_log_mask() -> None:
    """Add ``AccessLogMask`` to the ``uvicorn.access`` logger, once."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogMask) for f in access.filters):
        access.addFilter(AccessLogMask())
