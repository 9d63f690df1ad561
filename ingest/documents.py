"""Turn what a loader returned, plus what the manifest says, into ``Document`` records.

Runs inside the parsing sandbox: everything here is pure and picklable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ingest.errors import IngestError
from ingest.langid import detect_language
from ingest.loaders import LoadedRecords, LoadedText
from ingest.manifest import ManifestEntry
from ingest.normalize import clean_text
from ingest.records import SERVICE_FIELDS, Document
from ingest.services import service_articles
from ingest.structure import parse_structure

__all__ = ["documents_from_loaded", "guess_kind", "slugify"]

_KIND_WORDS: tuple[tuple[str, str], ...] = (
    (r"kodeks|кодекс|\bcode\b", "code"),
    (r"\bqonun|закон|\blaw\b|қонун", "law"),
    (r"farmon|указ|\bdecree\b|фармон", "decree"),
    (r"qaror|постановлени|resolution|қарор", "resolution"),
    (r"nizom|положени|regulation|низом|tartib", "regulation"),
)


def slugify(name: str) -> str:
    """A document id from a file name: lower case ASCII letters, digits and dashes."""
    slug = re.sub(r"[^0-9a-zA-Z]+", "-", name).strip("-").lower()
    return slug or "document"


def guess_kind(title: str) -> str:
    """The kind of act its title names (kodeksi → code, qonun → law, ...), else ``other``."""
    lowered = title.casefold()
    for pattern, kind in _KIND_WORDS:
        if re.search(pattern, lowered):
            return kind
    return "other"


def _language(text: str, declared: str, hint: str) -> tuple[str, str]:
    """The language tag and script: the manifest wins, then detection on the text, then the hint."""
    if declared:
        return declared, "Cyrl" if declared in ("uz-Cyrl", "ru") else "Latn"
    guess = detect_language(text[:20_000])
    if guess.tag == "und" and hint:
        return hint, "Cyrl" if hint in ("uz-Cyrl", "ru") else "Latn"
    return guess.tag, guess.script


def documents_from_loaded(
    loaded: LoadedText | LoadedRecords, *, path: Path, entry: ManifestEntry | None
) -> list[Document]:
    """Documents for one loaded file (a text file gives one, a JSONL of services gives many)."""
    if isinstance(loaded, LoadedRecords):
        return [_service_document(rec, path=path, entry=entry, line=i) for i, rec in enumerate(loaded.records, 1)]
    text = clean_text(loaded.text)
    lang, script = _language(text, entry.lang if entry else "", _hint_tag(loaded.lang_hint))
    parsed = parse_structure(text, lang=lang if lang != "und" else "uz-Latn")
    if not parsed.articles:
        raise IngestError(f"{path.name} has no recognisable text to index", code="no_extractable_text")
    title = (entry.title if entry and entry.title else "") or parsed.title or loaded.title or path.stem
    doc_id = entry.id if entry else slugify(path.stem)
    return [
        Document(
            id=doc_id, work_id=entry.work_id if entry else doc_id, title=title,
            kind=(entry.kind if entry else guess_kind(title)),  # type: ignore[arg-type]
            lang=lang, script=script, source=str(path), articles=parsed.articles,
            number=entry.number if entry else "", adopted=entry.adopted if entry else "",
            authority=entry.authority if entry else "", url=entry.url if entry else "",
            status=(entry.status if entry else "in_force"),  # type: ignore[arg-type]
            status_date=entry.status_date if entry else "", short_title=entry.short_title if entry else "",
            preamble=parsed.preamble, extra=(("unit", parsed.unit), ("format", loaded.format)),
        )
    ]


def _hint_tag(hint: str) -> str:
    hint = hint.lower()
    if hint.startswith("ru"):
        return "ru"
    if hint.startswith("en"):
        return "en"
    if hint.startswith("uz"):
        return "uz-Cyrl" if "cyrl" in hint else "uz-Latn"
    return ""


def _service_document(record: Mapping[str, Any], *, path: Path, entry: ManifestEntry | None, line: int) -> Document:
    """A service description record: ``{"id", "lang", "title", "authority", "fields": {...}}``."""
    fields = record.get("fields")
    if not isinstance(fields, Mapping) or not record.get("id") or not record.get("title"):
        raise IngestError(
            f"{path.name}, record {line}: a service record needs 'id', 'title' and a 'fields' object",
            code="invalid_record",
        )
    unknown = sorted(set(fields) - set(SERVICE_FIELDS))
    if unknown:
        raise IngestError(
            f"{path.name}, record {line}: unknown service field(s) {', '.join(unknown)}; "
            f"known: {', '.join(SERVICE_FIELDS)}",
            code="invalid_record",
        )
    clean = {k: clean_text(str(v)) for k, v in fields.items() if v and str(v).strip()}
    if record.get("authority") and "authority" not in clean:
        clean["authority"] = clean_text(str(record["authority"]))
    text = " ".join([str(record["title"]), *clean.values()])
    declared = str(record.get("lang") or (entry.lang if entry else ""))
    lang, script = _language(text, declared, "")
    articles = service_articles(clean, lang=lang)
    if not articles:
        raise IngestError(f"{path.name}, record {line}: the service has no text", code="no_extractable_text")
    doc_id = str(record["id"])
    extra = [("unit", "field")]
    if record.get("legal_basis_refs"):
        extra.append(("legal_basis_refs", ",".join(record["legal_basis_refs"])))
    return Document(
        id=doc_id, work_id=str(record.get("work_id") or doc_id), title=clean_text(str(record["title"])),
        kind="service", lang=lang, script=script, source=f"{path}#{doc_id}", articles=articles,
        authority=clean_text(str(record.get("authority") or "")), url=str(record.get("url") or ""),
        status=str(record.get("status") or "in_force"),  # type: ignore[arg-type]
        status_date=str(record.get("status_date") or ""), short_title=clean_text(str(record["title"])),
        category=str(record.get("category") or ""), extra=tuple(extra),
    )
