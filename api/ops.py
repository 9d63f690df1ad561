"""The operational half of the app: security, metrics, CORS, the query log and the task worker.

``install_security`` runs before the routers are included (its dependency must reach every route);
``install_ops`` runs last, so metrics and CORS wrap every other middleware; ``start_ops`` and
``stop_ops`` run in the lifespan.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI

from api.metrics import install_metrics
from api.routes import admin, feedback, metrics
from api.security import install_cors, install_security
from ingest.errors import XizmatError
from xizmat.settings import Settings

__all__ = ["install_ops", "install_security", "start_ops", "stop_ops"]

logger = logging.getLogger(__name__)


def install_ops(app: FastAPI, settings: Settings) -> None:
    """Include the feedback, admin and metrics routes; add CORS, then metrics (the outermost layer)."""
    app.state.ops = app.state.task_worker = None
    app.state.reload_hooks = []  # callables(app) run after the worker swaps in a new searcher
    app.include_router(feedback.router)
    app.include_router(admin.router)
    app.include_router(metrics.router)
    install_cors(app, settings)
    install_metrics(app)


def start_ops(app: FastAPI, settings: Settings, *, embedder: Any = None) -> None:
    """Open the writable query log and task queue, and start the task worker (when the store exists)."""
    from api.querylog import install_access_log_mask, purge_query_log
    from api.tasks import TaskWorker
    from ingest.store import Store
    from ingest.store_logs import OpsLog

    install_access_log_mask()  # the access log would otherwise keep what was typed in ?q=
    if not settings.db_path.exists():
        logger.warning("no database at %s: queries are not logged and admin tasks are unavailable",
                       settings.db_path)
        return
    try:
        ops = OpsLog(Store.in_dir(settings.data_dir))
    except XizmatError as exc:
        logger.error("the store cannot be opened for writing [%s]: queries are not logged, admin tasks "
                     "are unavailable", exc.code)
        return
    purge_query_log(ops, settings)  # retention (XIZMAT_QUERY_LOG_RETENTION_DAYS); the worker repeats it daily
    worker = TaskWorker(app, settings, ops, embedder=embedder)
    worker.start()
    app.state.ops, app.state.task_worker = ops, worker


def stop_ops(app: FastAPI) -> None:
    """Stop the worker after its current task, then close the writable store."""
    worker, ops = app.state.task_worker, app.state.ops
    app.state.task_worker = app.state.ops = None
    if worker is not None and not worker.stop():
        logger.warning("the task worker is still running a task; it will be re-queued at the next start")
        return
    if ops is not None:
        ops.close()
