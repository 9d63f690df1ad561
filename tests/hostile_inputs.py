"""Hostile files built at test time (nothing large is committed): PDFs as raw bytes or with fpdf2,
DOCX with zipfile, HTML and text as strings. Used by tests/test_bad_inputs.py."""

from __future__ import annotations

import importlib.util
import io
import sys
import zipfile
import zlib
from types import ModuleType

from tests.conftest import TEST_DATA

__all__ = [
    "BODY", "bomb_pdf", "chained_bomb_pdf", "docx_with", "flate_bomb_pdf", "lzw_bomb_pdf", "make", "many_pages_pdf",
    "rle_bomb_pdf", "text_pdf", "zip_bytes",
]


def _make_test_files() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_test_files", TEST_DATA / "make_test_files.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_test_files", module)
    spec.loader.exec_module(module)
    return module


make = _make_test_files()
# A sentence long enough to pass the minimum text length, in the PDF's standard font (ASCII only).
BODY = b"Fuqarolar davlat xizmatlaridan foydalanish huquqiga ega. Ariza elektron shaklda beriladi."
_TEXT_OPS = b"BT /F1 12 Tf 72 700 Td (" + BODY + b") Tj ET"
_CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
_PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _stream(data: bytes, filters: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), filters) + data + b"\nendstream"


def text_pdf(*, catalog: bytes = _CATALOG, ops: bytes = _TEXT_OPS, more: tuple[bytes, ...] = ()) -> bytes:
    """A one-page PDF with a real text layer; objects 6, 7, ... are ``more``."""
    return bytes(make.raw_pdf([catalog, _PAGES, _PAGE, _stream(ops), _FONT, *more]))


def bomb_pdf(filters: bytes, packed: bytes) -> bytes:
    """A one-page PDF whose content stream is ``packed`` under ``filters``."""
    return bytes(make.raw_pdf([_CATALOG, _PAGES, _PAGE, _stream(packed, filters), _FONT]))


def flate_bomb_pdf(expanded: int) -> bytes:
    return bomb_pdf(b"/Filter /FlateDecode ", zlib.compress(b" " * expanded, 9))


def lzw_bomb_pdf(expanded: int) -> bytes:
    from pypdf._codecs._codecs import LzwCodec  # pypdf's own encoder: the stream is valid LZW

    return bomb_pdf(b"/Filter /LZWDecode ", LzwCodec().encode(b" " * expanded))


def rle_bomb_pdf(expanded: int) -> bytes:
    # Run-length code 129 repeats the next byte 257 - 129 = 128 times; 128 ends the data.
    return bomb_pdf(b"/Filter /RunLengthDecode ", bytes([129, 32]) * (expanded // 128) + b"\x80")


def chained_bomb_pdf(expanded: int) -> bytes:
    packed = zlib.compress(b" " * expanded, 9).hex().encode() + b">"
    return bomb_pdf(b"/Filter [/ASCIIHexDecode /FlateDecode] ", packed)


def many_pages_pdf(pages: int) -> bytes:
    """``pages`` pages sharing one content stream: small on disk, large in page count."""
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [_CATALOG, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages), _stream(_TEXT_OPS), _FONT]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R /Resources << /Font << /F1 4 0 R >> >> >>"
    return bytes(make.raw_pdf(objects + [page] * pages))


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name), content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def docx_with(**add: bytes) -> bytes:
    """The test DOCX with extra members (``name__with__slashes`` keys become ``name/with/slashes``)."""
    return bytes(make.rewrite_zip(make.build_docx(), add={k.replace("__", "/"): v for k, v in add.items()}))
