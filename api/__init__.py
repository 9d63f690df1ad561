"""The HTTP query API: search, documents, chunks and health, served by ``xizmat serve``."""

from api.main import create_app

__all__ = ["create_app"]
