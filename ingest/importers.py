"""Importers for public datasets (copies of them sit in ``../shared/corpus/``), written generically
so a user can point them at their own copy.

- ``uz-legal``: article-per-record JSONL of codes and laws (fields code, code_title, article_id,
  article_display, title, section, chapter, text, lex_uz_doc).
- ``labour-code``: ``{"<article number>": "<heading>\\n<text>"}`` JSON of the Labour Code; the Russian
  file becomes the Russian version of ``mehnat_kodeksi`` (same refs). An Uzbek file of the same shape
  duplicates the uz-legal text and is skipped with a note.
- ``services``: the my.gov.uz catalogue of service titles (id, name_uz, name_ru, category,
  authority_uz, authority_ru, url): one Uzbek and one Russian document per service.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from ingest.errors import IngestError
from ingest.loaders import LoadedRecords, LoadLimits, load_file
from ingest.normalize import clean_text
from ingest.records import Article, Document
from ingest.services import service_articles
from ingest.structure import parse_points, parse_structure

__all__ = ["IMPORT_KINDS", "ImportKind", "import_documents"]

logger = logging.getLogger(__name__)

ImportKind = Literal["uz-legal", "labour-code", "services"]
IMPORT_KINDS: tuple[str, ...] = ("uz-legal", "labour-code", "services")
LEX_UZ_URL = "https://lex.uz/docs/{doc}"
LABOUR_CODE_WORK = "mehnat_kodeksi"
LABOUR_CODE_RU_TITLE = "Трудовой кодекс Республики Узбекистан"


def import_documents(kind: str, path: Path, *, notes: list[str] | None = None) -> Iterator[Document]:
    """Documents of a public dataset, one at a time; ``notes`` collects files skipped on purpose."""
    notes = notes if notes is not None else []
    if kind == "uz-legal":
        yield from _uz_legal(path)
    elif kind == "labour-code":
        yield from _labour_code(path, notes)
    elif kind == "services":
        yield from _services(path)
    else:
        raise IngestError(f"unknown import kind {kind!r}; use one of {', '.join(IMPORT_KINDS)}", code="invalid_kind")


def _records(path: Path) -> tuple[dict[str, Any], ...]:
    loaded = load_file(path, limits=LoadLimits(max_file_bytes=500 * 2**20))
    if not isinstance(loaded, LoadedRecords):
        raise IngestError(f"{path} is not JSON or JSONL", code="invalid_json")
    return loaded.records


# -- uz-legal --------------------------------------------------------------------------------


def _uz_legal(path: Path) -> Iterator[Document]:
    root = path if path.is_dir() else path.parent
    files = sorted((path / "articles").glob("*.jsonl")) if (path / "articles").is_dir() else (
        sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    )
    if not files:
        raise IngestError(f"no *.jsonl article files under {path}", code="not_found")
    adopted = _uz_legal_adoption_dates(root)
    for file in files:
        by_code: dict[str, list[dict[str, Any]]] = {}
        for record in _records(file):
            if "code" not in record or "article_id" not in record:
                raise IngestError(f"{file.name}: a record lacks 'code' or 'article_id'", code="invalid_record")
            by_code.setdefault(str(record["code"]), []).append(record)
        for code, records in by_code.items():
            yield _uz_legal_document(code, records, source=file, adopted=adopted.get(code, ""))


def _uz_legal_adoption_dates(root: Path) -> dict[str, str]:
    manifest = root / "manifest.csv"
    if not manifest.is_file():
        return {}
    with manifest.open(encoding="utf-8") as handle:
        return {Path(r["filename"]).stem: r.get("adopted", "") for r in csv.DictReader(handle) if r.get("filename")}


def _uz_legal_document(code: str, records: list[dict[str, Any]], *, source: Path, adopted: str) -> Document:
    articles: list[Article] = []
    preamble: list[str] = []
    for r in sorted(records, key=lambda r: int(r.get("seq") or 0)):
        article_id = str(r["article_id"])
        text = clean_text(str(r.get("text") or ""))
        if article_id.startswith("_"):
            preamble.append(text)
            continue
        if not text.strip() and not str(r.get("title") or "").strip():
            continue
        articles.append(
            Article(
                article_id=article_id, display=str(r.get("article_display") or f"{article_id}-modda"),
                title=clean_text(str(r.get("title") or "")), text=text,
                section=clean_text(str(r.get("section") or "")), chapter=clean_text(str(r.get("chapter") or "")),
                points=parse_points(text),
            )
        )
    first = records[0]
    title = clean_text(str(first.get("code_title") or code))
    lex_doc = str(first.get("lex_uz_doc") or "")
    return Document(
        id=code, work_id=code, title=title, kind="code" if "kodeks" in code else "law", lang="uz-Latn",
        script="Latn", source=f"{source}#{code}", articles=tuple(articles), adopted=adopted,
        url=LEX_UZ_URL.format(doc=lex_doc.lstrip("-")) if lex_doc else "", status="in_force",
        preamble="\n".join(preamble), authority="Oʻzbekiston Respublikasi Oliy Majlisi",
        extra=(("unit", "article"), ("snapshot", str(first.get("snapshot_date") or ""))),
    )


# -- labour code -----------------------------------------------------------------------------


def _labour_code(path: Path, notes: list[str]) -> Iterator[Document]:
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    for file in files:
        data = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not data:
            raise IngestError(f"{file.name}: expected an object of article number → text", code="invalid_json")
        text = "\n".join(str(v) for _, v in sorted(data.items(), key=lambda kv: _number_key(kv[0])))
        sample = text[:5000]
        if not any("\u0400" <= ch <= "\u04ff" for ch in sample) or "Статья" not in sample:
            notes.append(
                f"{file.name}: skipped, it is not the Russian text; the Uzbek Labour Code is imported "
                "with `xizmat corpus import uz-legal` and must not be stored twice"
            )
            continue
        parsed = parse_structure(clean_text(text), lang="ru")
        if len(parsed.articles) < len(data) * 0.95:
            raise IngestError(
                f"{file.name}: recognised only {len(parsed.articles)} of {len(data)} articles", code="parse_failed"
            )
        yield Document(
            id=f"{LABOUR_CODE_WORK}.ru", work_id=LABOUR_CODE_WORK, title=LABOUR_CODE_RU_TITLE, kind="code",
            lang="ru", script="Cyrl", source=str(file), articles=parsed.articles,
            short_title="Трудовой кодекс", status="in_force", adopted="2022-10-28",
            url="https://lex.uz/docs/6257288", extra=(("unit", "article"),),
        )


def _number_key(raw: str) -> tuple[float, str]:
    try:
        return float(raw.replace("-", ".")), raw
    except ValueError:
        return float("inf"), raw


# -- service catalogue -----------------------------------------------------------------------


def _services(path: Path) -> Iterator[Document]:
    file = path / "services.jsonl" if path.is_dir() else path
    for record in _records(file):
        if "id" not in record or not (record.get("name_uz") or record.get("name_ru")):
            raise IngestError(f"{file.name}: a record lacks 'id' or a name", code="invalid_record")
        work = f"mygov-{record['id']}"
        for lang, suffix, name_key, authority_key in (
            ("uz-Latn", "", "name_uz", "authority_uz"),
            ("ru", ".ru", "name_ru", "authority_ru"),
        ):
            name = clean_text(str(record.get(name_key) or ""))
            if not name:
                continue
            authority = clean_text(str(record.get(authority_key) or ""))
            fields = {"summary": name, "authority": authority}
            yield Document(
                id=work + suffix, work_id=work, title=name, kind="service", lang=lang,
                script="Cyrl" if lang == "ru" else "Latn", source=f"{file}#{record['id']}",
                articles=service_articles({k: v for k, v in fields.items() if v}, lang=lang),
                authority=authority, url=str(record.get("url") or ""), short_title=name,
                category=clean_text(str(record.get("category") or "")), extra=(("unit", "field"),),
            )
