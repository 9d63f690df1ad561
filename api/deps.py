"""Dependencies of the routes as ``Annotated`` aliases; everything comes from ``app.state``."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool

from api.errors import IndexNotReadyError
from index.search import HybridSearcher
from index.suggest import Suggester
from ingest.store import Store
from ingest.store_logs import OpsLog
from xizmat.settings import Settings

__all__ = [
    "OpsDep", "SearcherDep", "SettingsDep", "StoreDep", "SuggesterDep", "get_ops", "get_searcher", "get_settings_dep",
    "get_store", "get_suggester", "warm_suggester",
]

NOT_READY = "the search index is not loaded; build it with `xizmat index build` and restart the server"


def _require(request: Request, name: str) -> object:
    value = getattr(request.app.state, name, None)
    if value is None:
        raise IndexNotReadyError(NOT_READY)
    return value


def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_searcher(request: Request) -> HybridSearcher:
    """The searcher loaded at start-up, or 503 ``index_not_ready``."""
    return _require(request, "searcher")  # type: ignore[return-value]


def get_store(request: Request) -> Store:
    """The read-only store opened at start-up, or 503 ``index_not_ready``."""
    return _require(request, "store")  # type: ignore[return-value]


def get_ops(request: Request) -> OpsLog:
    """The writable query log and task queue opened at start-up, or 503 ``index_not_ready``."""
    return _require(request, "ops")  # type: ignore[return-value]


_SUGGESTER_LOCK = threading.Lock()


def warm_suggester(app: FastAPI) -> Suggester | None:
    """The title suggester of the app's loaded generation, (re)built when the generation changed."""
    searcher: HybridSearcher | None = getattr(app.state, "searcher", None)
    if searcher is None:
        return None
    cached = getattr(app.state, "suggester", None)
    if cached is not None and cached[0] is searcher.generation:
        return cached[1]  # type: ignore[no-any-return]
    with _SUGGESTER_LOCK:
        cached = getattr(app.state, "suggester", None)
        if cached is None or cached[0] is not searcher.generation:
            cached = (searcher.generation, Suggester(searcher.documents.values()))
            app.state.suggester = cached
    return cached[1]  # type: ignore[no-any-return]


async def get_suggester(request: Request) -> Suggester:
    """The suggester built for the loaded generation, or 503 ``index_not_ready``.

    Async, like the suggest route: a lookup takes about a millisecond, and running it on the event loop
    instead of the thread pool keeps it from queueing behind searches and from contending for the GIL
    with other request threads. Only a rebuild (a new generation) goes to a thread."""
    searcher = getattr(request.app.state, "searcher", None)
    cached = getattr(request.app.state, "suggester", None)
    if searcher is not None and cached is not None and cached[0] is searcher.generation:
        return cached[1]  # type: ignore[no-any-return]
    suggester = await run_in_threadpool(warm_suggester, request.app)
    if suggester is None:
        raise IndexNotReadyError(NOT_READY)
    return suggester


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SearcherDep = Annotated[HybridSearcher, Depends(get_searcher)]
StoreDep = Annotated[Store, Depends(get_store)]
OpsDep = Annotated[OpsLog, Depends(get_ops)]
SuggesterDep = Annotated[Suggester, Depends(get_suggester)]
