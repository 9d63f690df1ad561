"""Plain text and Markdown: decode, refuse binary data, strip Markdown heading marks."""

from __future__ import annotations

import logging
import re

from ingest.loaders._base import LoadedText, LoadLimits, bom_encoding, decode_text, fail, finish

__all__ = ["load_markdown", "load_text"]

logger = logging.getLogger(__name__)

_CONTROL_BYTES = frozenset(set(range(32)) - {9, 10, 12, 13} | {127})
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_RULE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
# Each class excludes its own opening bracket, so every attempt stops at the next one: linear time.
_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\([^()\s]*\)")


def _decode(data: bytes, *, name: str) -> tuple[str, int]:
    """Decode text bytes, refusing binary data (NUL bytes or many control bytes) as ``not_text``."""
    if not bom_encoding(data)[0]:
        sample = data[: 1 << 20]
        controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
        if sample.count(0) > len(sample) // 100 or controls > len(sample) // 20:
            raise fail(
                "not_text",
                f"{name} looks like binary data, not text; upload a text, PDF, HTML or DOCX file",
            )
    text, replaced, encoding = decode_text(data)
    if replaced > max(8, len(text) // 50):
        raise fail(
            "not_text",
            f"{name} is not valid UTF-8 ({replaced} undecodable characters); "
            "save it as UTF-8 and ingest it again",
        )
    if encoding != "utf-8":
        logger.info("decoded %s as %s", name, encoding)
    return text, replaced


def load_text(data: bytes, *, name: str, limits: LoadLimits) -> LoadedText:
    """Load a plain-text file (UTF-8, UTF-16 with BOM, or legacy cp1251)."""
    text, replaced = _decode(data, name=name)
    return finish(text, fmt="text", name=name, limits=limits, replacement_chars=replaced)


def load_markdown(data: bytes, *, name: str, limits: LoadLimits) -> LoadedText:
    """Load Markdown: headings keep their text without ``#``, links keep their label, ``**`` goes."""
    text, replaced = _decode(data, name=name)
    lines: list[str] = []
    title = ""
    in_fence = False
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if not in_fence:
            heading = _ATX_HEADING.match(line)
            if heading:
                line = heading.group(1) or ""
                title = title or line.strip()
            elif _SETEXT_RULE.match(line) and lines and lines[-1].strip():
                title = title or lines[-1].strip()
                continue
            line = _LINK.sub(r"\1", line).replace("**", "")  # bold marks only; no regex, linear
        lines.append(line)
    text = "\n".join(lines)
    return finish(text, fmt="markdown", name=name, limits=limits, title=title, replacement_chars=replaced)
