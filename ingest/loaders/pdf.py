"""PDF: pypdf with tightened decompression limits; text layer only, nothing executed."""

from __future__ import annotations

import io
import logging
import re
import struct
import warnings
import zlib
from collections import Counter

from ingest.loaders._base import LoadedText, LoadLimits, fail, finish

__all__ = ["load_pdf", "strip_running_lines"]

logger = logging.getLogger(__name__)

_PAGE_NUMBER = re.compile(
    r"^[-–—\s]*(?:(?:page|bet|стр\.?|страница|sahifa)\s*)?\d{1,4}(?:\s*(?:/|of|из|dan)\s*\d{1,4})?[-–—\s]*$",
    re.I,
)
_DIGITS = re.compile(r"\d+")
# A heading such as "5-modda." may open every page; it must never be taken for a running header.
_STRUCTURAL = re.compile(
    r"modda|модда|статья|bob|боб|глава|band|банд|пункт|bo'lim|бўлим|раздел|article", re.I
)
# Exceptions pypdf lets escape on malformed files besides its own PyPdfError family.
_BROKEN = (ValueError, KeyError, TypeError, AttributeError, IndexError, AssertionError, OverflowError,
           RecursionError, UnicodeError, zlib.error, struct.error, EOFError)


def strip_running_lines(pages: list[str]) -> list[str]:
    """Remove bare page numbers and headers/footers repeated at the top or bottom of most pages."""
    split = [[line for line in page.split("\n") if line.strip()] for page in pages]
    counts: Counter[str] = Counter()
    for lines in split:
        edges = {_DIGITS.sub("#", line.strip()) for line in lines[:2] + lines[-2:]}
        counts.update(edges)
    threshold = max(3, (len(pages) * 3 + 4) // 5)  # on at least 60% of pages, and at least 3
    running = {key for key, count in counts.items() if count >= threshold and len(pages) >= 3}
    result: list[str] = []
    for lines in split:
        keep = list(lines)
        for index in [0, 1, -1, -2]:
            if not -len(keep) <= index < len(keep):  # a page of one line has no index 1
                continue
            line = keep[index].strip()
            running_line = _DIGITS.sub("#", line) in running and not _STRUCTURAL.search(line)
            if _PAGE_NUMBER.match(line) or running_line:
                keep[index] = ""
        result.append("\n".join(line for line in keep if line))
    return result


def _configuration(limits: LoadLimits) -> dict[str, int]:
    cap = limits.max_decompressed_bytes
    return {
        "zlib_maximum_output_length": cap,
        "lzw_maximum_output_length": cap,
        "run_length_maximum_output_length": cap,
        "brotli_maximum_output_length": cap,
        "jbig2_maximum_output_length": cap,
        "array_based_stream_maximum_output_length": cap,
        "maximum_declared_stream_length": cap,
        "image_maximum_buffer_size": cap,
        "stream_decoding_work_maximum_length": cap,
    }


def _page_text(page: object) -> str:
    """Text of one page; an empty page has its content decoded again so a bomb raises, not hides."""
    text = page.extract_text() or ""  # type: ignore[attr-defined]
    if not text.strip():
        contents = page.get_contents()  # type: ignore[attr-defined]
        if contents is not None:
            contents.get_data()  # raises LimitReachedError that extract_text() swallows
    return text


def _read(data: bytes, *, name: str, limits: LoadLimits) -> tuple[list[str], str]:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except (DependencyError, NotImplementedError, FileNotDecryptedError):
            opened = False
        if not opened:
            raise fail("encrypted_pdf", f"{name} is encrypted; remove the password and ingest it again")
    count = len(reader.pages)
    if count > limits.max_pages:
        raise fail(
            "too_many_pages",
            f"{name} has {count} pages (limit {limits.max_pages}); split it into parts",
        )
    texts = [_page_text(page) for page in reader.pages]
    title = ""
    try:
        title = str((reader.metadata or {}).get("/Title") or "")
    except _BROKEN:
        logger.debug("%s: unreadable metadata", name)
    return texts, title


def load_pdf(data: bytes, *, name: str, limits: LoadLimits) -> LoadedText:
    """Load the text layer of a PDF, one page after another, without running headers and page numbers."""
    from pypdf import apply_configuration
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PyPdfError

    if b"%%EOF" not in data[-65536:]:
        raise fail("invalid_pdf", f"{name} is truncated (no %%EOF marker at its end); download it again")
    try:
        # pypdf warns about each repair it makes to a malformed file; they are expected here, not bugs.
        with warnings.catch_warnings(record=True) as caught, apply_configuration(**_configuration(limits)):
            warnings.simplefilter("always")
            texts, title = _read(data, name=name, limits=limits)
    except LimitReachedError as exc:
        if str(exc).startswith("Declared stream length"):  # a /Length beyond any real stream: damage
            raise fail("invalid_pdf", f"{name} declares a stream longer than the limit; it is damaged") from None
        raise fail(
            "decompression_limit",
            f"{name} expands beyond the decompression limit; refusing it",
        ) from None
    except FileNotDecryptedError:
        raise fail("encrypted_pdf", f"{name} is encrypted; remove the password and ingest it again") from None
    except (PyPdfError, *_BROKEN) as exc:
        logger.debug("%s: unreadable PDF: %r", name, exc)
        raise fail("invalid_pdf", f"{name} is damaged or not a PDF; check it or save it again") from None
    if caught:
        logger.debug("%s: %d pypdf warnings", name, len(caught))
    pages = strip_running_lines(texts)
    return finish("\n".join(pages), fmt="pdf", name=name, limits=limits, title=title, pages=len(texts))
