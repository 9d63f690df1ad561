"""The system of record: one SQLite database (WAL mode) under the data directory.

It holds documents, their version history, articles (the act's structure, for "show the whole
article"), chunks and service fields. The schema is created and upgraded by numbered migrations
recorded in ``PRAGMA user_version``. Content hashes decide whether a document changed.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from ingest.errors import StoreError
from ingest.faults import checkpoint
from ingest.records import Article, Chunk, CitationPath, Document, Point

__all__ = ["DB_FILENAME", "StoredDocument", "Store", "UpsertOutcome"]

logger = logging.getLogger(__name__)

DB_FILENAME = "xizmat.sqlite"
UpsertOutcome = Literal["added", "updated", "unchanged"]

MIGRATIONS: tuple[str, ...] = (
    # 1: documents, history, structure, chunks, services
    """
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        work_id TEXT NOT NULL,
        title TEXT NOT NULL,
        short_title TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL,
        number TEXT NOT NULL DEFAULT '',
        adopted TEXT NOT NULL DEFAULT '',
        authority TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL DEFAULT '',
        lang TEXT NOT NULL,
        script TEXT NOT NULL,
        source TEXT NOT NULL,
        url TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'in_force',
        status_date TEXT NOT NULL DEFAULT '',
        preamble TEXT NOT NULL DEFAULT '',
        extra TEXT NOT NULL DEFAULT '{}',
        content_hash TEXT NOT NULL,
        version INTEGER NOT NULL,
        removed_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX documents_work ON documents(work_id);
    CREATE INDEX documents_source ON documents(source);
    CREATE TABLE document_versions (
        doc_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        ingested_at TEXT NOT NULL,
        status TEXT NOT NULL,
        source TEXT NOT NULL,
        snapshot TEXT NOT NULL,
        PRIMARY KEY (doc_id, version)
    );
    CREATE TABLE articles (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        article_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        display TEXT NOT NULL,
        title TEXT NOT NULL,
        section TEXT NOT NULL,
        chapter TEXT NOT NULL,
        text TEXT NOT NULL,
        points TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (doc_id, article_id)
    );
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ref TEXT NOT NULL,
        article_id TEXT NOT NULL,
        point TEXT NOT NULL,
        seq INTEGER NOT NULL,
        text TEXT NOT NULL,
        heading TEXT NOT NULL,
        citation TEXT NOT NULL,
        path TEXT NOT NULL,
        lang TEXT NOT NULL,
        script TEXT NOT NULL,
        tokens INTEGER NOT NULL
    );
    CREATE INDEX chunks_doc ON chunks(doc_id, seq);
    CREATE INDEX chunks_ref ON chunks(ref);
    """,
    # 2: the operational log of the API: queries, feedback on them, and admin tasks
    """
    CREATE TABLE query_log (
        id TEXT PRIMARY KEY,
        ts TEXT NOT NULL,
        route TEXT NOT NULL,
        query TEXT NOT NULL,
        lang TEXT NOT NULL DEFAULT '',
        script TEXT NOT NULL DEFAULT '',
        latency_ms REAL NOT NULL,
        results TEXT NOT NULL DEFAULT '[]',
        generation TEXT NOT NULL DEFAULT '',
        no_answer INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        client TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX query_log_ts ON query_log(ts);
    CREATE TABLE feedback (
        id TEXT PRIMARY KEY,
        ts TEXT NOT NULL,
        query_id TEXT NOT NULL REFERENCES query_log(id),
        result_id TEXT NOT NULL DEFAULT '',
        helpful INTEGER,
        answered_caller INTEGER
    );
    CREATE INDEX feedback_query ON feedback(query_id);
    CREATE TABLE tasks (
        task_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('ingest', 'delete', 'reindex')),
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        file_path TEXT NOT NULL DEFAULT '',
        original_name TEXT NOT NULL DEFAULT '',
        target TEXT NOT NULL DEFAULT '',
        error_code TEXT,
        error_message TEXT,
        result TEXT
    );
    CREATE INDEX tasks_state ON tasks(state, created_at);
    """,
    # 3: how many times a task was started, so that one that keeps crashing the server ends ``failed``
    """
    ALTER TABLE tasks ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    """,
)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class StoredDocument:
    """A row of ``documents`` as a read-only mapping with attribute access."""

    __slots__ = ("_row",)

    def __init__(self, row: sqlite3.Row) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        try:
            return self._row[name]
        except IndexError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        data = {k: self._row[k] for k in self._row.keys()}
        data["extra"] = json.loads(data["extra"] or "{}")
        return data


class Store:
    """Typed access to the SQLite database; one instance per process, one writer at a time."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly and not self.path.exists():
            raise StoreError(f"no database at {self.path}; run `xizmat ingest` first", code="store_missing")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        uri = f"file:{self.path}?mode=ro" if readonly else f"file:{self.path}"
        if readonly and _read_only_folder(self.path):
            # SQLite cannot create the WAL index (-shm) in a read-only folder; with no WAL left to
            # replay the file is complete, so it is opened as immutable (nobody can write it anyway).
            uri += "&immutable=1"
        try:
            self.conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")
                self._migrate()
            self._check_schema()
        except sqlite3.DatabaseError as exc:
            if not readonly and not os.access(self.path.parent, os.W_OK):
                raise StoreError(
                    f"the data folder {self.path.parent} is read-only: the database can only be read; "
                    "make the folder writable to ingest, build or log queries",
                    code="read_only",
                ) from None
            raise StoreError(
                f"the database {self.path} cannot be opened ({exc}); restore a backup or move it aside",
                code="store_corrupt",
            ) from None

    @classmethod
    def in_dir(cls, data_dir: Path, *, readonly: bool = False) -> Store:
        """Open the store of a data directory."""
        return cls(Path(data_dir) / DB_FILENAME, readonly=readonly)

    def close(self) -> None:
        self.conn.close()

    def _migrate(self) -> None:
        current = self.conn.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS, start=1):
            if number <= current:
                continue
            logger.info("applying database migration %d", number)
            with self.conn:
                self.conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    def _check_schema(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the database {self.path} has schema version {version}, newer than this program "
                f"({len(MIGRATIONS)}); upgrade xizmat",
                code="store_version",
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: everything inside commits together or not at all."""
        with self.conn:
            yield self.conn

    # -- documents -------------------------------------------------------------------------

    def get_document(self, doc_id: str, *, include_removed: bool = False) -> StoredDocument | None:
        row = self.conn.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None or (row["removed_at"] and not include_removed):
            return None
        return StoredDocument(row)

    def documents(self, *, include_removed: bool = False) -> list[StoredDocument]:
        sql = "SELECT * FROM documents" + ("" if include_removed else " WHERE removed_at IS NULL")
        return [StoredDocument(r) for r in self.conn.execute(sql + " ORDER BY id")]

    def documents_from_sources(self, prefix: str) -> list[StoredDocument]:
        """Live documents whose source path starts with ``prefix`` (to find files removed from a folder)."""
        rows = self.conn.execute(
            "SELECT * FROM documents WHERE removed_at IS NULL AND substr(source, 1, ?) = ?",
            (len(prefix), prefix),
        )
        return [StoredDocument(r) for r in rows]

    def upsert_document(self, doc: Document, chunks: Sequence[Chunk], *, content_hash: str) -> UpsertOutcome:
        """Store a document with its chunks; unchanged content is a no-op, changed content replaces
        the chunks and appends a version to the history, all in one transaction."""
        existing = self.conn.execute(
            "SELECT content_hash, version, removed_at FROM documents WHERE id = ?", (doc.id,)
        ).fetchone()
        if existing and existing["content_hash"] == content_hash and existing["removed_at"] is None:
            return "unchanged"
        version = existing["version"] + 1 if existing else 1
        now = _now()
        with self.transaction() as conn:
            conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc.id,))
            conn.execute("DELETE FROM articles WHERE doc_id = ?", (doc.id,))
            values = {
                "id": doc.id, "work_id": doc.work_id, "title": doc.title, "short_title": doc.short_title,
                "kind": doc.kind, "number": doc.number, "adopted": doc.adopted, "authority": doc.authority,
                "category": doc.category, "lang": doc.lang, "script": doc.script, "source": doc.source,
                "url": doc.url, "status": doc.status, "status_date": doc.status_date,
                "preamble": doc.preamble, "extra": json.dumps(dict(doc.extra), ensure_ascii=False),
                "content_hash": content_hash, "version": version, "updated_at": now,
            }
            if existing:
                assignments = ", ".join(f"{k} = :{k}" for k in values if k != "id")
                conn.execute(f"UPDATE documents SET {assignments}, removed_at = NULL WHERE id = :id", values)
            else:
                values["created_at"] = now
                columns = ", ".join(values)
                conn.execute(
                    f"INSERT INTO documents ({columns}) VALUES ({', '.join(':' + k for k in values)})", values
                )
            conn.execute(
                "INSERT INTO document_versions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (doc.id, version, content_hash, now, doc.status, doc.source, _snapshot(doc)),
            )
            conn.executemany(
                "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (doc.id, a.article_id, i, a.display, a.title, a.section, a.chapter, a.text,
                     json.dumps([asdict(p) for p in a.points], ensure_ascii=False))
                    for i, a in enumerate(_unique_articles(doc.articles))
                ],
            )
            conn.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (c.id, c.doc_id, c.ref, c.article_id, c.point, c.seq, c.text, c.heading, c.citation,
                     json.dumps(c.path.as_dict(), ensure_ascii=False), c.lang, c.script, c.tokens)
                    for c in chunks
                ],
            )
            checkpoint("store.before_commit")
        checkpoint("store.committed")
        return "updated" if existing else "added"

    def mark_removed(self, doc_id: str) -> bool:
        """Mark a document removed: its chunks leave the store, its history stays."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE documents SET removed_at = ?, content_hash = '' WHERE id = ? AND removed_at IS NULL",
                (_now(), doc_id),
            )
            conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            conn.execute("DELETE FROM articles WHERE doc_id = ?", (doc_id,))
        return cur.rowcount > 0

    def versions(self, doc_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT doc_id, version, content_hash, ingested_at, status, source FROM document_versions "
            "WHERE doc_id = ? ORDER BY version",
            (doc_id,),
        )
        return [dict(r) for r in rows]

    # -- structure and chunks ----------------------------------------------------------------

    def articles(self, doc_id: str) -> list[Article]:
        rows = self.conn.execute("SELECT * FROM articles WHERE doc_id = ? ORDER BY seq", (doc_id,))
        return [_article_from_row(r) for r in rows]

    def article(self, doc_id: str, article_id: str) -> Article | None:
        row = self.conn.execute(
            "SELECT * FROM articles WHERE doc_id = ? AND article_id = ?", (doc_id, article_id)
        ).fetchone()
        return _article_from_row(row) if row else None

    def chunks(self, *, doc_id: str | None = None) -> Iterator[Chunk]:
        """Live chunks in document order (all documents, or one)."""
        if doc_id is None:
            rows = self.conn.execute("SELECT * FROM chunks ORDER BY doc_id, seq")
        else:
            rows = self.conn.execute("SELECT * FROM chunks WHERE doc_id = ? ORDER BY seq", (doc_id,))
        for row in rows:
            yield _chunk_from_row(row)

    def chunk(self, chunk_id: int) -> Chunk | None:
        row = self.conn.execute("SELECT * FROM chunks WHERE id = ?", (chunk_id,)).fetchone()
        return _chunk_from_row(row) if row else None

    def counts(self) -> dict[str, int]:
        one = lambda sql: int(self.conn.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "documents": one("SELECT count(*) FROM documents WHERE removed_at IS NULL"),
            "removed_documents": one("SELECT count(*) FROM documents WHERE removed_at IS NOT NULL"),
            "articles": one("SELECT count(*) FROM articles"),
            "chunks": one("SELECT count(*) FROM chunks"),
        }

    def fingerprint(self) -> str:
        """A hash of every live document's id and content hash: equal fingerprints, equal corpora."""
        import hashlib

        digest = hashlib.blake2b(digest_size=16)
        for row in self.conn.execute(
            "SELECT id, content_hash FROM documents WHERE removed_at IS NULL ORDER BY id"
        ):
            digest.update(f"{row[0]}\x00{row[1]}\x00".encode())
        return digest.hexdigest()


def _read_only_folder(path: Path) -> bool:
    """True when ``path``'s folder cannot be written and no WAL waits to be replayed."""
    wal = Path(f"{path}-wal")
    return not os.access(path.parent, os.W_OK) and (not wal.exists() or wal.stat().st_size == 0)


def _unique_articles(articles: Sequence[Article]) -> list[Article]:
    """Articles with unique ids; a repeated id (a parser slip in a messy source) keeps the first."""
    seen: set[str] = set()
    unique = []
    for article in articles:
        if article.article_id in seen:
            logger.warning("duplicate article id %s dropped from the structure table", article.article_id)
            continue
        seen.add(article.article_id)
        unique.append(article)
    return unique


def _snapshot(doc: Document) -> str:
    data = asdict(doc)
    return json.dumps(data, ensure_ascii=False)


def _article_from_row(row: sqlite3.Row) -> Article:
    points = tuple(Point(**p) for p in json.loads(row["points"]))
    return Article(
        article_id=row["article_id"], display=row["display"], title=row["title"], text=row["text"],
        section=row["section"], chapter=row["chapter"], points=points,
    )


def _chunk_from_row(row: sqlite3.Row) -> Chunk:
    return Chunk(
        id=row["id"], doc_id=row["doc_id"], ref=row["ref"], article_id=row["article_id"],
        point=row["point"], seq=row["seq"], text=row["text"], heading=row["heading"],
        citation=row["citation"], path=CitationPath(**json.loads(row["path"])), lang=row["lang"],
        script=row["script"], tokens=row["tokens"],
    )
