"""The API's routers, one module per resource."""

from api.routes import documents, health, search

__all__ = ["documents", "health", "search"]
