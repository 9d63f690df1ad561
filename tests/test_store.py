"""The SQLite store: migrations, upsert outcomes, history, removal, corrupt files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import StoreError
from ingest.records import Article, Chunk, CitationPath, Document
from ingest.store import Store


def _doc(text: str = "Ish haqi har oyda kamida bir marta toʻlanadi.") -> Document:
    article = Article(article_id="1", display="1-modda", title="Ish haqi", text=text)
    return Document(
        id="act", work_id="act", title="Sinov qonuni", kind="law", lang="uz-Latn", script="Latn",
        source="/tmp/act.txt", articles=(article,),
    )


def _chunk(doc: Document, chunk_id: int, text: str) -> Chunk:
    return Chunk(
        id=chunk_id, doc_id=doc.id, ref="act::1", article_id="1", point="", seq=0, text=text,
        heading="Sinov qonuni, 1-modda", citation="Sinov qonuni, 1-modda", path=CitationPath(act="Sinov qonuni"),
        lang="uz-Latn", script="Latn", tokens=12,
    )


def test_upsert_outcomes_and_history(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    doc = _doc()
    assert store.upsert_document(doc, [_chunk(doc, 1, "a")], content_hash="h1") == "added"
    assert store.upsert_document(doc, [_chunk(doc, 1, "a")], content_hash="h1") == "unchanged"
    changed = _doc("Ish haqi har yarim oyda toʻlanadi.")
    assert store.upsert_document(changed, [_chunk(changed, 2, "b")], content_hash="h2") == "updated"
    assert [c.id for c in store.chunks(doc_id="act")] == [2]
    assert [v["version"] for v in store.versions("act")] == [1, 2]
    assert store.article("act", "1").text.startswith("Ish haqi har yarim")  # type: ignore[union-attr]


def test_removed_document_leaves_chunks_keeps_history(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    doc = _doc()
    store.upsert_document(doc, [_chunk(doc, 1, "a")], content_hash="h1")
    assert store.mark_removed("act")
    assert store.get_document("act") is None
    assert store.get_document("act", include_removed=True) is not None
    assert list(store.chunks()) == []
    assert store.counts()["removed_documents"] == 1
    # Ingesting it again brings it back as an update with a new version.
    assert store.upsert_document(doc, [_chunk(doc, 1, "a")], content_hash="h1") == "updated"


def test_reopen_keeps_data_and_schema(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    doc = _doc()
    store.upsert_document(doc, [_chunk(doc, 1, "a")], content_hash="h1")
    fingerprint = store.fingerprint()
    store.close()
    again = Store.in_dir(tmp_path, readonly=True)
    assert again.fingerprint() == fingerprint
    assert again.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "xizmat.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as info:
        Store.in_dir(tmp_path)
    assert info.value.code == "store_corrupt"


def test_missing_database_readonly(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        Store.in_dir(tmp_path, readonly=True)
    assert info.value.code == "store_missing"
