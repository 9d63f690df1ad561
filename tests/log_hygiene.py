"""R11 checks shared by the tests: no key, no Authorization header and no run of more than 200
characters of any ingested document's text in a log line."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["MAX_TEXT_RUN", "assert_log_hygiene", "document_texts", "longest_shared_run"]

MAX_TEXT_RUN = 200
_BLOCK = 40  # any shared run of 2 * _BLOCK - 1 characters or more contains one aligned block of the text


def document_texts(data_dir: Path) -> list[str]:
    """The text of every chunk stored in ``data_dir`` (documents are the concatenation of their chunks)."""
    from ingest.store import DB_FILENAME

    conn = sqlite3.connect(f"file:{data_dir / DB_FILENAME}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT text FROM chunks") if row[0]]
    finally:
        conn.close()


def _blocks(texts: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
    blocks: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for number, text in enumerate(texts):
        for start in range(0, len(text) - _BLOCK + 1, _BLOCK):
            blocks[text[start : start + _BLOCK]].append((number, start))
    return blocks


def longest_shared_run(line: str, texts: Sequence[str], blocks: dict[str, list[tuple[int, int]]] | None = None) -> int:
    """Length of the longest run of characters ``line`` shares with one of ``texts`` (exact when the run is
    at least ``2 * _BLOCK - 1`` long; shorter runs are reported as 0)."""
    blocks = _blocks(texts) if blocks is None else blocks
    best = 0
    for i in range(len(line) - _BLOCK + 1):
        for number, start in blocks.get(line[i : i + _BLOCK], ()):
            text = texts[number]
            left = 0
            while i - left > 0 and start - left > 0 and line[i - left - 1] == text[start - left - 1]:
                left += 1
            right = _BLOCK
            while i + right < len(line) and start + right < len(text) and line[i + right] == text[start + right]:
                right += 1
            best = max(best, left + right)
    return best


def assert_log_hygiene(lines: Iterable[str], *, keys: Sequence[str], texts: Sequence[str]) -> None:
    """Fail on a line holding a key, an Authorization header, or > 200 characters of a document's text."""
    assert texts, "no document text to compare the log with"
    blocks = _blocks(texts)
    checked = 0
    for line in lines:
        checked += 1
        for key in keys:
            assert key not in line, f"an API key is logged: {line[:200]}"
        assert "authorization" not in line.lower() or "bearer" not in line.lower(), f"a header is logged: {line[:200]}"
        if len(line) > MAX_TEXT_RUN:
            run = longest_shared_run(line, texts, blocks)
            assert run <= MAX_TEXT_RUN, f"{run} characters of document text are logged: {line[:300]}"
    assert checked, "the log is empty"
