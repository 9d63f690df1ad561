"""Ingest: load files, parse the structure of legal acts and service descriptions, chunk, store."""

from ingest.errors import ConfigError, IngestError, StoreError, XizmatError
from ingest.records import Article, Chunk, CitationPath, Document, Point, make_ref

__all__ = [
    "Article",
    "Chunk",
    "CitationPath",
    "ConfigError",
    "Document",
    "IngestError",
    "Point",
    "StoreError",
    "XizmatError",
    "make_ref",
]
