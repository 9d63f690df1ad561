"""The ingest pipeline: walk paths, parse each file in the sandbox, chunk, store, summarise.

A failing file is reported with a stable code and the batch goes on; nothing already stored is lost.
Content hashes make re-ingesting unchanged files a no-op.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from ingest.chunking import chunk_document
from ingest.documents import documents_from_loaded
from ingest.errors import IngestError
from ingest.loaders import LoadLimits, load_file
from ingest.manifest import MANIFEST_NAME, ManifestEntry, read_manifest
from ingest.records import Document
from ingest.sandbox import SandboxLimits, run_in_sandbox
from ingest.store import Store

__all__ = ["CHUNKING_VERSION", "FileError", "IngestSummary", "Ingester", "parse_file"]

logger = logging.getLogger(__name__)

# Bump when chunking or parsing changes so that stored documents are re-chunked on the next ingest.
CHUNKING_VERSION = "2"  # 2: 53-bit chunk ids
SUPPORTED_SUFFIXES = frozenset({".pdf", ".html", ".htm", ".docx", ".txt", ".md", ".json", ".jsonl"})
SKIPPED_NAMES = frozenset({MANIFEST_NAME, "SOURCE.md", "README.md", "LICENSE"})


@dataclass(frozen=True)
class FileError:
    """Why one file (or record) was not ingested."""

    path: str
    code: str
    message: str


@dataclass
class IngestSummary:
    """What one ingest run did: the ``--json`` output of ``xizmat ingest``."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    chunks: int = 0
    languages: Counter[str] = field(default_factory=Counter)
    errors: list[FileError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ingested(self) -> int:
        return self.added + self.updated + self.unchanged

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "removed": self.removed, "failed": self.failed, "chunks": self.chunks,
            "languages": dict(sorted(self.languages.items())),
            "errors": [asdict(e) for e in self.errors], "notes": self.notes,
        }


def parse_file(path: Path, entry: ManifestEntry | None, limits: LoadLimits) -> list[Document]:
    """Load and parse one file into documents (the function the sandbox runs)."""
    return documents_from_loaded(load_file(path, limits=limits), path=path, entry=entry)


class Ingester:
    """Ingests files and documents into a store, chunking with the embedder's tokenizer."""

    def __init__(
        self,
        store: Store,
        *,
        count_tokens: Callable[[str], int],
        tokenizer_id: str,
        max_tokens: int = 256,
        load_limits: LoadLimits | None = None,
        sandbox_limits: SandboxLimits | None = None,
    ) -> None:
        self.store = store
        self.count_tokens = count_tokens
        self.tokenizer_id = tokenizer_id
        self.max_tokens = max_tokens
        self.load_limits = load_limits or LoadLimits()
        self.sandbox_limits = sandbox_limits or SandboxLimits()

    # -- files -----------------------------------------------------------------------------

    def ingest_paths(self, paths: Sequence[Path], *, progress: bool = True) -> IngestSummary:
        """Ingest files and folders; files gone from a walked folder are marked removed."""
        summary = IngestSummary()
        files: list[tuple[Path, ManifestEntry | None]] = []
        walked_dirs: list[Path] = []
        for raw in paths:
            path = Path(raw).resolve()
            if path.is_dir():
                walked_dirs.append(path)
                files.extend(_walk(path, summary))
            elif path.is_file():
                files.append((path, _entry_for(path)))
            else:
                summary.failed += 1
                summary.errors.append(FileError(str(raw), "not_found", f"{raw} does not exist"))
        seen_sources: set[str] = set()
        for path, entry in tqdm(files, desc="ingest", unit="file", disable=not progress, leave=False):
            seen_sources.add(str(path))
            try:
                docs = run_in_sandbox(parse_file, path, entry, self.load_limits, limits=self.sandbox_limits)
            except IngestError as exc:
                logger.info("failed %s: %s", path, exc.code)
                summary.failed += 1
                summary.errors.append(FileError(str(path), exc.code, exc.message))
                continue
            self._store_documents(docs, summary)
        for folder in walked_dirs:
            self._remove_missing(folder, seen_sources, summary)
        return summary

    def ingest_documents(self, docs: Iterable[Document], *, summary: IngestSummary | None = None) -> IngestSummary:
        """Store documents built elsewhere (the corpus importers)."""
        summary = summary or IngestSummary()
        self._store_documents(list(docs), summary)
        return summary

    # -- internals ---------------------------------------------------------------------------

    def _store_documents(self, docs: Sequence[Document], summary: IngestSummary) -> None:
        for doc in docs:
            content_hash = self.content_hash(doc)
            existing = self.store.get_document(doc.id)
            if existing is not None and existing.content_hash == content_hash:
                summary.unchanged += 1
                summary.languages[doc.lang] += 1
                summary.chunks += self.store.conn.execute(
                    "SELECT count(*) FROM chunks WHERE doc_id = ?", (doc.id,)
                ).fetchone()[0]
                continue
            chunks = chunk_document(doc, count_tokens=self.count_tokens, max_tokens=self.max_tokens)
            if not chunks:
                summary.failed += 1
                summary.errors.append(FileError(doc.source, "no_extractable_text", f"{doc.id} produced no text"))
                continue
            outcome = self.store.upsert_document(doc, chunks, content_hash=content_hash)
            setattr(summary, outcome, getattr(summary, outcome) + 1)
            summary.chunks += len(chunks)
            summary.languages[doc.lang] += 1

    def content_hash(self, doc: Document) -> str:
        """Hash of everything that shapes a document's chunks (its content, metadata and chunking setup)."""
        data = asdict(doc)
        data.pop("source")
        data["_chunking"] = [CHUNKING_VERSION, self.tokenizer_id, self.max_tokens]
        blob = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.blake2b(blob, digest_size=20).hexdigest()

    def _remove_missing(self, folder: Path, seen_sources: set[str], summary: IngestSummary) -> None:
        prefix = str(folder) + "/"
        for doc in self.store.documents_from_sources(prefix):
            file_part = doc.source.split("#", 1)[0]
            if file_part not in seen_sources and not Path(file_part).exists():
                if self.store.mark_removed(doc.id):
                    summary.removed += 1


def _entry_for(path: Path) -> ManifestEntry | None:
    manifest = path.parent / MANIFEST_NAME
    return read_manifest(manifest).get(path) if manifest.is_file() else None


def _walk(folder: Path, summary: IngestSummary) -> list[tuple[Path, ManifestEntry | None]]:
    """Files to ingest under a folder: those its manifest lists, else every supported file."""
    found: list[tuple[Path, ManifestEntry | None]] = []
    manifest_path = folder / MANIFEST_NAME
    if manifest_path.is_file():
        try:
            entries = read_manifest(manifest_path)
        except IngestError as exc:
            summary.failed += 1
            summary.errors.append(FileError(str(manifest_path), exc.code, exc.message))
            return found
        for path, entry in sorted(entries.items()):
            if path.is_file():
                found.append((path, entry))
            else:
                summary.failed += 1
                summary.errors.append(
                    FileError(str(path), "not_found", f"{manifest_path} lists {path.name}, which does not exist")
                )
        return found
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name in SKIPPED_NAMES:
            continue
        if path.is_dir():
            found.extend(_walk(path, summary))
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            found.append((path, None))
    return found
