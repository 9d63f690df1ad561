"""Decide a file's format from its bytes (then its name) and hand it to the right loader."""

from __future__ import annotations

import io
import os
import logging
import zipfile
from pathlib import Path, PurePath

from ingest.loaders._base import LoadedRecords, LoadedText, LoadLimits, bom_encoding, fail

__all__ = ["FORMATS", "load_bytes", "load_file", "sniff_format"]

logger = logging.getLogger(__name__)

FORMATS: tuple[str, ...] = ("pdf", "html", "docx", "text", "markdown", "json", "jsonl")

_EXTENSIONS = {
    ".pdf": "pdf", ".html": "html", ".htm": "html", ".xhtml": "html", ".docx": "docx", ".txt": "text",
    ".text": "text", ".md": "markdown", ".markdown": "markdown", ".json": "json", ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_HTML_MARKERS = ("<!doctype html", "<html", "<head", "<body", "<?xml", "<meta", "<title", "<!--")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _head_text(data: bytes) -> str:
    """The first characters of the file as text (BOM honoured), lower-cased and left-stripped."""
    encoding, skip = bom_encoding(data)
    head = data[skip : skip + 4096]
    return head.decode(encoding or "utf-8", errors="ignore").lstrip().lower()


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return "docx"  # a damaged zip: let the DOCX loader say what is wrong with it
    return "docx" if "word/document.xml" in names else "unsupported"


def sniff_format(data: bytes, name: str) -> str:
    """One of ``FORMATS``, or ``"unsupported"``: magic bytes decide first, then the file name."""
    by_name = _EXTENSIONS.get(PurePath(name).suffix.lower(), "")
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(_OLE):
        return "docx" if by_name == "docx" else "unsupported"
    head = _head_text(data)
    if head.startswith(_HTML_MARKERS) or (head.startswith("<") and by_name not in ("text", "markdown")):
        return "html"
    if head.startswith(("{", "[")) and by_name not in ("text", "markdown"):
        if by_name in ("json", "jsonl"):
            return by_name
        lines = [line for line in head.split("\n") if line.strip()]
        several = head.startswith("{") and len(lines) > 1 and lines[1].lstrip().startswith("{")
        return "jsonl" if several else "json"
    if by_name:
        return by_name
    return "text" if bom_encoding(data)[0] or b"\x00" not in data[:4096] else "unsupported"


def load_bytes(data: bytes, *, name: str, limits: LoadLimits = LoadLimits()) -> LoadedText | LoadedRecords:
    """Load a file already in memory; raises ``IngestError`` with a stable code when it cannot."""
    name = PurePath(name).name or "the file"
    if not data:
        raise fail("empty_file", f"{name} is empty (0 bytes); upload the complete file")
    if len(data) > limits.max_file_bytes:
        raise fail("file_too_large", f"{name} is {len(data)} bytes (limit {limits.max_file_bytes}); split it")
    kind = sniff_format(data, name)
    logger.debug("%s sniffed as %s", name, kind)
    if kind == "pdf":
        from ingest.loaders.pdf import load_pdf

        return load_pdf(data, name=name, limits=limits)
    if kind == "html":
        from ingest.loaders.html import load_html

        return load_html(data, name=name, limits=limits)
    if kind == "docx":
        from ingest.loaders.docx import load_docx

        return load_docx(data, name=name, limits=limits)
    if kind in ("text", "markdown"):
        from ingest.loaders.text import load_markdown, load_text

        return (load_text if kind == "text" else load_markdown)(data, name=name, limits=limits)
    if kind in ("json", "jsonl"):
        from ingest.loaders.jsonrec import load_json, load_jsonl

        return (load_json if kind == "json" else load_jsonl)(data, name=name, limits=limits)
    raise fail(
        "unsupported_type",
        f"{name} is not a PDF, HTML, DOCX, text, Markdown or JSON file; convert it first",
    )


def load_file(path: Path, *, limits: LoadLimits = LoadLimits()) -> LoadedText | LoadedRecords:
    """Load a file from disk, refusing it by size before reading it."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limits.max_file_bytes:
                raise fail(
                    "file_too_large",
                    f"{path.name} is {size} bytes (limit {limits.max_file_bytes}); split it",
                )
            data = handle.read(limits.max_file_bytes + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise fail(
            "parse_failed",
            f"{path.name} could not be read ({exc.strerror}); check that it exists",
        ) from None
    return load_bytes(data, name=path.name, limits=limits)
