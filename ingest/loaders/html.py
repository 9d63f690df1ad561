"""HTML: decode honestly, parse without DTDs, entities or network, keep only the visible main text."""

from __future__ import annotations

import logging
import re

from ingest.loaders._base import LoadedText, LoadLimits, bom_encoding, decode_text, fail, finish

__all__ = ["load_html"]

logger = logging.getLogger(__name__)

_DROP = frozenset(
    "script style template noscript nav header footer aside head iframe object embed svg math canvas "
    "button select option form dialog".split()
)
_BLOCK = frozenset(
    "address article blockquote body br caption dd details div dl dt fieldset figcaption figure h1 h2 h3 "
    "h4 h5 h6 hr li main ol p pre section summary table tbody tfoot thead tr ul".split()
)
_CELL = frozenset(("td", "th"))
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# An internal DTD subset is never needed for HTML and would leave "]>" debris in the text.
_DOCTYPE = re.compile(rb"\s*(?:<\?xml[^>]{0,200}>\s*)?<!DOCTYPE[^\[>]*(?:\[.*?\]\s*)?>", re.I | re.S)


def _hidden(element: object) -> bool:
    get = element.get  # type: ignore[attr-defined]
    return (
        get("hidden") is not None
        or (get("aria-hidden") or "").strip().lower() == "true"
        or bool(_HIDDEN_STYLE.search(get("style") or ""))
        or (get("type") or "").lower() == "hidden"
    )


def _tag(element: object) -> str:
    tag = element.tag  # type: ignore[attr-defined]
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _visible_text(root: object, *, name: str, max_depth: int) -> str:
    """Walk the tree without recursion; block elements start new lines, hidden subtrees are skipped."""
    from lxml import etree

    parts: list[str] = []
    depth = 0
    skip_depth = 0  # depth of the outermost skipped element, 0 when nothing is skipped
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = _tag(element)
        if event == "start":
            depth += 1
            if depth > max_depth:
                raise fail(
                    "invalid_html",
                    f"{name} is nested more than {max_depth} levels deep; simplify the page",
                )
            if skip_depth:
                continue
            if not tag or tag in _DROP or _hidden(element):
                skip_depth = depth
                continue
            if tag in _BLOCK:
                parts.append("\n")
            elif tag in _CELL:
                parts.append(" | ")
            if element.text:
                parts.append(element.text)
        else:
            if skip_depth == depth:
                skip_depth = 0
            elif not skip_depth and tag in _BLOCK:
                parts.append("\n")
            depth -= 1
            if not skip_depth and element.tail and depth > 0:
                parts.append(element.tail)
    lines = (line.strip(" |\t") for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _decode(data: bytes, *, name: str) -> tuple[str, int]:
    declared = ""
    if not bom_encoding(data)[0]:
        match = _META_CHARSET.search(data[:8192])
        declared = match.group(1).decode("ascii") if match else ""
    text, replaced, encoding = decode_text(data, declared=declared)
    logger.debug("%s: declared charset %r, decoded as %s", name, declared, encoding)
    return text, replaced


def load_html(data: bytes, *, name: str, limits: LoadLimits) -> LoadedText:
    """Load an HTML page: text of ``<main>`` or ``<article>`` if present, else of ``<body>``."""
    import lxml.html
    from lxml import etree

    text, replaced = _decode(data, name=name)
    # Re-encode as UTF-8 and tell the parser so, so a lying <meta charset> cannot change the decoding.
    encoded = text.encode("utf-8")
    doctype = _DOCTYPE.match(encoded)  # anchored: one attempt, linear time
    body = encoded[doctype.end() :] if doctype else encoded
    parser = lxml.html.HTMLParser(
        encoding="utf-8",
        no_network=True,
        remove_comments=True,
        remove_pis=True,
        default_doctype=False,
        huge_tree=True,  # lifts libxml2's depth cap from 256 to 2048; deeper pages are refused below
    )
    try:
        root = etree.fromstring(body, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        raise fail("invalid_html", f"{name} could not be parsed as HTML; check the file") from None
    if root is None:
        raise fail("no_extractable_text", f"{name} has no HTML content; check the file")
    if any(entry.type_name == "ERR_RESOURCE_LIMIT" for entry in parser.error_log):
        raise fail("invalid_html", f"{name} is nested too deeply to parse completely; simplify the page")
    title = root.findtext(".//title") or ""
    lang = (root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or "").strip()
    candidates = [el for tag in ("main", "article") for el in root.iter(tag) if not _hidden(el)]
    candidates += list(root.iter("body")) or [root]
    extracted = ""
    for candidate in candidates:
        extracted = _visible_text(candidate, name=name, max_depth=limits.max_html_depth)
        if len("".join(extracted.split())) >= limits.min_text_chars:
            break
    meta = {"title": title, "lang_hint": lang, "replacement_chars": replaced}
    return finish(extracted, fmt="html", name=name, limits=limits, **meta)
