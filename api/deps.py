"""Dependencies of the routes as ``Annotated`` aliases; everything comes from ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.errors import IndexNotReadyError
from index.search import HybridSearcher
from ingest.store import Store
from xizmat.settings import Settings

__all__ = ["SearcherDep", "SettingsDep", "StoreDep", "get_searcher", "get_settings_dep", "get_store"]

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


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SearcherDep = Annotated[HybridSearcher, Depends(get_searcher)]
StoreDep = Annotated[Store, Depends(get_store)]
