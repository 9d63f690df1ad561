"""File loaders: bytes of a PDF, HTML, DOCX, text, Markdown or JSON(L) file in, plain text or records out."""

from ingest.loaders._base import LoadedRecords, LoadedText, LoadLimits
from ingest.loaders._dispatch import FORMATS, load_bytes, load_file, sniff_format

__all__ = ["FORMATS", "LoadLimits", "LoadedRecords", "LoadedText", "load_bytes", "load_file", "sniff_format"]
