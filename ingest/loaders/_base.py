"""Records, limits and text helpers shared by the format loaders."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from ingest.errors import IngestError

__all__ = [
    "LoadLimits",
    "LoadedRecords",
    "LoadedText",
    "TextFormat",
    "bom_encoding",
    "clean_text",
    "decode_text",
    "fail",
    "finish",
]

TextFormat = Literal["pdf", "html", "docx", "text", "markdown"]


@dataclass(frozen=True)
class LoadedText:
    """Plain text of a document, one structural line per line, with what the file said about itself."""

    text: str
    format: str
    title: str = ""
    lang_hint: str = ""
    pages: int = 0
    replacement_chars: int = 0


@dataclass(frozen=True)
class LoadedRecords:
    """JSON objects read from a ``.json`` array (or object) or a ``.jsonl`` file."""

    records: tuple[dict, ...]  # type: ignore[type-arg]
    format: str


@dataclass(frozen=True)
class LoadLimits:
    """Bounds applied while loading one file; anything beyond them fails the file, not the batch."""

    max_file_bytes: int = 50 * 2**20
    max_pages: int = 2000
    max_decompressed_bytes: int = 200 * 2**20
    max_html_depth: int = 5000
    min_text_chars: int = 40
    max_json_depth: int = 64


def fail(code: str, message: str) -> IngestError:
    """Build the IngestError that a loader raises (``raise fail(...)`` keeps tracebacks short)."""
    return IngestError(message, code=code)


# Invisible characters that only hide or reorder text: NUL, zero-width, bidi embeddings and overrides.
_INVISIBLE = re.compile("[\x00\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_RUN = re.compile(r"\n{3,}")
_BLANKS = re.compile(r"\n[ \t\n]*\n")


def clean_text(text: str) -> str:
    """Drop invisible and control characters, collapse spaces in each line, keep at most one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _BLANKS.sub("\n\n", _CONTROL.sub(" ", _INVISIBLE.sub("", text)))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip("\n")


def finish(text: str, *, fmt: str, name: str, limits: LoadLimits, **meta: object) -> LoadedText:
    """Clean ``text`` and refuse a document whose text is shorter than ``limits.min_text_chars``."""
    text = clean_text(text)
    visible = len("".join(text.split()))
    if visible < limits.min_text_chars:
        raise fail(
            "no_extractable_text",
            f"{name} has {visible} characters of text (at least {limits.min_text_chars} are needed); "
            "if it is a scan, run OCR on it and ingest the result",
        )
    title = clean_text(str(meta.pop("title", "") or "")).replace("\n", " ")
    return LoadedText(text=text, format=fmt, title=title, **meta)  # type: ignore[arg-type]


_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def bom_encoding(data: bytes) -> tuple[str, int]:
    """The encoding announced by a byte-order mark and the mark's length, or ``("", 0)``."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, len(bom)
    return "", 0


def _looks_like_text(text: str) -> bool:
    """True when almost every character is a letter, digit, space or punctuation (not control noise)."""
    if not text:
        return False
    bad = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Co", "Cn") and ch not in "\t\n\r\f")
    return bad / len(text) < 0.02


def decode_text(data: bytes, *, declared: str = "") -> tuple[str, int, str]:
    """Decode bytes: BOM, then strict UTF-8, then a declared charset, then cp1251 if it reads as text.

    Returns ``(text, replacement_chars, encoding)``; an undecodable rest is replaced with U+FFFD
    and counted.
    """
    encoding, skip = bom_encoding(data)
    if encoding:
        text = data[skip:].decode(encoding, errors="replace")
        return text, text.count("\ufffd"), encoding
    try:
        return data.decode("utf-8"), 0, "utf-8"
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8", errors="replace")
    replaced = lenient.count("\ufffd")
    valid_multibyte = len(lenient) - len(lenient.encode("ascii", "ignore")) - replaced
    if replaced <= valid_multibyte:  # UTF-8 with a few broken sequences, not a legacy 8-bit encoding
        return lenient, replaced, "utf-8"
    for candidate in (declared, "cp1251"):
        try:
            codec = codecs.lookup(candidate).name if candidate else "utf-8"
            text = "" if codec == "utf-8" else data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
        if _looks_like_text(text):
            return text, 0, codec
    text = data.decode("utf-8", errors="replace")
    return text, text.count("\ufffd"), "utf-8"
