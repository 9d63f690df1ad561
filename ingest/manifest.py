"""Corpus manifests: ``manifest.csv`` beside the files gives each file its metadata.

Columns: path,id,work_id,title,short_title,kind,number,adopted,lang,authority,status,status_date,url
(``path`` relative to the manifest). A folder with a manifest ingests exactly the files it lists.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import IngestError
from ingest.records import DOCUMENT_KINDS, DOCUMENT_STATUSES

__all__ = ["MANIFEST_NAME", "ManifestEntry", "read_manifest"]

MANIFEST_NAME = "manifest.csv"
LANG_TAGS = ("uz-Latn", "uz-Cyrl", "ru", "en")
REQUIRED = ("path", "id", "kind", "lang")


@dataclass(frozen=True)
class ManifestEntry:
    """Metadata of one file as its manifest row declares it."""

    path: Path
    id: str
    work_id: str
    title: str = ""
    short_title: str = ""
    kind: str = "other"
    number: str = ""
    adopted: str = ""
    lang: str = ""
    authority: str = ""
    status: str = "in_force"
    status_date: str = ""
    url: str = ""


def read_manifest(path: Path) -> dict[Path, ManifestEntry]:
    """Entries of a manifest keyed by the resolved file path; a bad row is an error naming its line."""
    entries: dict[Path, ManifestEntry] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise IngestError(f"{path} lacks the column(s) {', '.join(missing)}", code="invalid_manifest")
        for line, row in enumerate(reader, start=2):
            row = {k: (v or "").strip() for k, v in row.items() if k}
            where = f"{path}:{line}"
            if row["kind"] not in DOCUMENT_KINDS:
                raise IngestError(
                    f"{where}: kind {row['kind']!r} is not one of {', '.join(DOCUMENT_KINDS)}",
                    code="invalid_manifest",
                )
            if row["lang"] not in LANG_TAGS:
                raise IngestError(
                    f"{where}: lang {row['lang']!r} is not one of {', '.join(LANG_TAGS)}", code="invalid_manifest"
                )
            status = row.get("status") or "in_force"
            if status not in DOCUMENT_STATUSES:
                raise IngestError(
                    f"{where}: status {status!r} is not one of {', '.join(DOCUMENT_STATUSES)}",
                    code="invalid_manifest",
                )
            file_path = (path.parent / row["path"]).resolve()
            entries[file_path] = ManifestEntry(
                path=file_path, id=row["id"], work_id=row.get("work_id") or row["id"],
                title=row.get("title", ""), short_title=row.get("short_title", ""), kind=row["kind"],
                number=row.get("number", ""), adopted=row.get("adopted", ""), lang=row["lang"],
                authority=row.get("authority", ""), status=status, status_date=row.get("status_date", ""),
                url=row.get("url", ""),
            )
    return entries
