"""DOCX: inspect the zip before python-docx sees it, then read paragraphs and table rows in order."""

from __future__ import annotations

import io
import logging
import re
import zipfile

from ingest.loaders._base import LoadedText, LoadLimits, fail, finish

__all__ = ["OLE_SIGNATURE", "check_docx_zip", "load_docx"]

logger = logging.getLogger(__name__)

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAX_MEMBERS = 10_000
_MAX_RATIO = 200  # Word's XML compresses about 10:1; 200:1 only happens in bombs
_RATIO_FLOOR = 1 << 20  # small members may compress well without being a bomb
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe_name(member: str) -> bool:
    parts = member.replace("\\", "/").split("/")
    return member.startswith(("/", "\\")) or bool(_DRIVE.match(member)) or ".." in parts or "\x00" in member


def check_docx_zip(data: bytes, *, name: str, limits: LoadLimits) -> zipfile.ZipFile:
    """Open ``data`` as a zip and refuse unsafe names, encryption, bombs and DTDs in XML parts.

    Nothing is extracted to disk; members are read in memory with their declared size as a bound.
    """
    if data.startswith(OLE_SIGNATURE):
        raise fail(
            "encrypted_docx",
            f"{name} is password-protected (or an old binary .doc); remove the password, save it as .docx "
            "and ingest it again",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        logger.debug("%s: not a zip: %r", name, exc)
        raise fail("invalid_docx", f"{name} is not a valid DOCX (zip) file; save it again from Word") from None
    if len(members) > _MAX_MEMBERS:
        raise fail(
            "invalid_docx",
            f"{name} has {len(members)} zip members (limit {_MAX_MEMBERS}); save it again",
        )
    total = 0
    for member in members:
        if _unsafe_name(member.filename):
            raise fail(
                "invalid_docx",
                f"{name} contains an unsafe member name {member.filename[:80]!r}; refusing it",
            )
        if member.flag_bits & 0x1:
            raise fail(
                "encrypted_docx",
                f"{name} has encrypted parts; remove the password and ingest it again",
            )
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if total > limits.max_decompressed_bytes or (member.file_size > _RATIO_FLOOR and ratio > _MAX_RATIO):
            raise fail(
                "decompression_limit",
                f"{name} expands to more than {limits.max_decompressed_bytes} bytes "
                f"or compresses {ratio:.0f}:1 "
                "(a zip bomb?); refusing it",
            )
    names = {member.filename for member in members}
    if "word/document.xml" not in names:
        raise fail("invalid_docx", f"{name} has no word/document.xml; it is not a Word document")
    for member in members:
        if member.filename.lower().endswith((".xml", ".rels")):
            try:
                # ZipExtFile never yields more than the declared file_size, which was bounded above.
                content = archive.read(member)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
                raise fail("invalid_docx", f"{name} has a damaged part {member.filename!r}; save it again") from None
            if any(marker in content for marker in _DTD_MARKERS):
                raise fail(
                    "invalid_docx",
                    f"{name} part {member.filename!r} declares a DTD or entities, which Word never writes; "
                    "refusing it",
                )
    return archive


def _row_text(row: object) -> str:
    cells: list[str] = []
    for cell in row.cells:  # type: ignore[attr-defined]
        text = " ".join(cell.text.split())
        if text and (not cells or cells[-1] != text):  # merged cells repeat their text
            cells.append(text)
    return " | ".join(cells)


def load_docx(data: bytes, *, name: str, limits: LoadLimits) -> LoadedText:
    """Load a DOCX: one line per paragraph, one line per table row (cells joined by `` | ``)."""
    check_docx_zip(data, name=name, limits=limits).close()
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from lxml import etree

    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for child in document.element.body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
            if tag == "p":
                lines.append(Paragraph(child, document).text)
            elif tag == "tbl":
                lines.extend(_row_text(row) for row in Table(child, document).rows)
        title = document.core_properties.title or ""
        lang = document.core_properties.language or ""
    except (PackageNotFoundError, KeyError, ValueError, TypeError, AttributeError, IndexError,
            etree.LxmlError, zipfile.BadZipFile) as exc:
        raise fail(
            "invalid_docx",
            f"{name} could not be read as DOCX ({type(exc).__name__}); save it again",
        ) from None
    return finish("\n".join(lines), fmt="docx", name=name, limits=limits, title=title, lang_hint=lang)
