"""The FastAPI application: ``create_app`` wires settings, the lifespan, middleware, errors and routes.

Serve it with ``xizmat serve`` or ``uvicorn --factory api.main:create_app``. Nothing heavy is imported
here: the index and the embedding model load in the lifespan, once per worker.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from api.deps import warm_suggester
from api.errors import install_error_handlers
from api.middleware import BodySizeLimitMiddleware, HeaderLimitMiddleware, RequestIdMiddleware
from api.ops import install_ops, install_security, start_ops, stop_ops
from api.openapi import install_openapi
from api.overload import InFlightLimitMiddleware
from api.redaction import install_log_redaction
from api.routes import ask, audit, documents, health, insights, search, services, suggest
from api.web import router as web_router
from ingest.errors import XizmatError
from xizmat.settings import Settings, get_settings

if TYPE_CHECKING:
    from index.embed import Embedder

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def _open_state(app: FastAPI, settings: Settings, embedder: Embedder | None) -> None:
    """Open the searcher and the store; on failure keep the error so /readyz can report it."""
    from index.embedder_choice import open_embedder
    from index.search import HybridSearcher
    from ingest.store import Store

    state = app.state
    state.searcher, state.store, state.not_ready = None, None, None
    try:
        model = embedder if embedder is not None else open_embedder(settings.embedder, settings.data_dir)
        searcher = HybridSearcher.open(settings.data_dir, model)
        store = Store.in_dir(settings.data_dir, readonly=True)
    except XizmatError as exc:
        logger.error("the index is not ready [%s]: %s", exc.code, exc.message)
        state.not_ready = exc
        return
    state.searcher, state.store = searcher, store
    manifest = searcher.generation.manifest
    logger.info("serving generation %s (%d documents, %d chunks)", manifest.generation,
                manifest.documents, manifest.chunks)


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """Build the API; ``settings`` default to ``get_settings()``, ``embedder`` to the configured one."""
    settings = settings if settings is not None else get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _open_state(app, settings, embedder)
        warm_suggester(app)
        start_ops(app, settings, embedder=embedder)
        try:
            yield
        finally:
            stop_ops(app)
            store: Any = app.state.store
            if store is not None:
                store.close()

    app = FastAPI(
        title="Xizmat",
        version="0.1.0",
        summary="Find the public service and the exact legal passage for a question.",
        lifespan=lifespan,
        redirect_slashes=False,  # a redirect would echo a client-chosen Host header in Location
    )
    app.state.settings = settings
    app.state.searcher = app.state.store = app.state.not_ready = None
    install_error_handlers(app)
    install_security(app, settings)  # before the routers: its policy dependency must reach every route
    install_log_redaction(settings)  # the access log would otherwise keep keys sent in URLs
    # The last middleware added runs first: the request id must exist before the size check answers.
    app.add_middleware(InFlightLimitMiddleware, max_in_flight=settings.max_in_flight)  # load shedding
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(HeaderLimitMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    app.include_router(search.router)
    app.include_router(documents.router)
    app.include_router(ask.router)
    app.include_router(suggest.router)
    app.include_router(services.router)
    app.include_router(insights.router)  # admin: unanswered-question insights
    app.include_router(audit.router)  # admin: service completeness audit
    app.include_router(web_router)  # the citizen page at / and the agent console at /agent
    install_ops(app, settings)  # last: metrics and CORS wrap everything else
    install_openapi(app)  # error responses in the schema: the one error body, every status
    return app
