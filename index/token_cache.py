"""A SQLite cache of chunk analyses, so that a rebuild re-analyses only the texts that changed.

Rows are keyed by (analyser version, blake2b-128 of the language tag and the text). The version
(`Analyzer.version`) covers the analyser's settings and the code and libraries it runs, so a changed
analyser never reads another's tokens. Like the embedding cache the file is disposable: a missing,
unreadable or unwritable cache costs time, never correctness (the texts are analysed afresh).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from index.analysis import Analyzer

__all__ = ["TOKEN_CACHE", "TokenCache", "analyze_cached"]

logger = logging.getLogger(__name__)

TOKEN_CACHE = "tokens.sqlite"
# Tokens are letters, digits and dots (index/analysis.py), never this control character. A rowid
# table, not WITHOUT ROWID: rows average a kilobyte, which made a WITHOUT ROWID file 2.4 times larger.
_SEP = "\x1f"
_BATCH = 500


class TokenCache:
    """Token lists in SQLite under (analyser version, key); ``hits``/``misses`` count lookups."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.hits = 0
        self.misses = 0
        self._conn: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS tokens (version TEXT NOT NULL, key BLOB NOT NULL, "
                "tokens TEXT NOT NULL, PRIMARY KEY (version, key))"
            )
            conn.commit()
            self._conn = conn
        except (OSError, sqlite3.Error) as exc:
            logger.warning(
                "token cache %s is unusable (%s); analysing every text (delete the file to reset it)",
                self.path.name, exc,
            )

    @staticmethod
    def key(text: str, *, lang: str) -> bytes:
        """The cache key of a text: blake2b-128 of its language tag and its UTF-8 bytes."""
        return hashlib.blake2b(f"{lang}\x00{text}".encode(), digest_size=16).digest()

    def get_many(self, version: str, keys: Sequence[bytes]) -> dict[bytes, list[str]]:
        """Stored token lists for those ``keys`` that are present."""
        found: dict[bytes, list[str]] = {}
        if self._conn is None:
            return found
        try:
            for start in range(0, len(keys), _BATCH):
                part = list(keys[start : start + _BATCH])
                marks = ",".join("?" * len(part))
                rows = self._conn.execute(
                    f"SELECT key, tokens FROM tokens WHERE version = ? AND key IN ({marks})", [version, *part]
                )
                found.update((bytes(key), joined.split(_SEP) if joined else []) for key, joined in rows)
        except sqlite3.Error as exc:
            logger.warning("token cache %s cannot be read (%s); analysing every text", self.path.name, exc)
            return {}
        return found

    def put_many(self, version: str, items: Sequence[tuple[bytes, Sequence[str]]]) -> None:
        """Store token lists (one transaction) and drop those of other versions; failures only log."""
        if self._conn is None:
            return
        rows = []
        for key, tokens in items:
            joined = _SEP.join(tokens)
            if all(tokens) and joined.count(_SEP) == max(len(tokens) - 1, 0):  # else it would not round-trip
                rows.append((version, key, joined))
        try:
            with self._conn:
                self._conn.execute("DELETE FROM tokens WHERE version != ?", (version,))
                self._conn.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", rows)
        except sqlite3.Error as exc:
            logger.warning("token cache %s cannot be written (%s); the build goes on without it",
                           self.path.name, exc)

    def __len__(self) -> int:
        if self._conn is None:
            return 0
        return int(self._conn.execute("SELECT count(*) FROM tokens").fetchone()[0])

    def close(self) -> None:
        """Close the database connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def analyze_cached(
    analyzer: Analyzer, texts: Sequence[tuple[str, str]], cache: TokenCache
) -> list[list[str]]:
    """``analyzer.analyze`` of each ``(text, lang)``, reading and filling ``cache``; rows follow ``texts``."""
    version = analyzer.version
    keys = [cache.key(text, lang=lang) for text, lang in texts]
    found = cache.get_many(version, list(dict.fromkeys(keys)))
    fresh: dict[bytes, list[str]] = {}
    out: list[list[str]] = []
    for key, (text, lang) in zip(keys, texts, strict=True):
        tokens = found.get(key)
        if tokens is None:
            tokens = fresh.get(key)
            if tokens is None:
                tokens = fresh[key] = analyzer.analyze(text, lang=lang)
        out.append(tokens)
    cache.hits += len(texts) - len(fresh)
    cache.misses += len(fresh)
    if fresh:
        cache.put_many(version, list(fresh.items()))
    logger.info("token cache: %d texts, %d analysed", len(texts), len(fresh))
    return out
