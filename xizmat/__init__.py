"""Xizmat: the application shell (settings and command line) around ingest, index, api and eval."""

__version__ = "0.1.0"
__all__ = ["__version__"]
