"""`xizmat backup` / `xizmat restore`: a consistent copy through SQLite's backup API plus the published
generation, checksummed; restores refuse corrupt, partial or misplaced backups; a restored folder
answers the golden query set identically."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.main import create_app
from index.backup import BACKUP_MANIFEST, create_backup, restore_backup
from ingest.store import DB_FILENAME, Store
from ingest.writelock import WriterLock
from xizmat.cli import cli
from xizmat.settings import Settings

from tests.reliability_helpers import (
    NEW_FILE,
    FakeEmbedder,
    ingest_and_build,
    make_fake_data_dir,
    make_source,
    served_state,
)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def store_rows(data: Path) -> dict[str, Any]:
    store = Store.in_dir(data, readonly=True)
    try:
        return {"counts": store.counts(), "fingerprint": store.fingerprint(),
                "versions": store.conn.execute("SELECT count(*) FROM document_versions").fetchone()[0]}
    finally:
        store.close()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fake_data_dir(tmp_path_factory.mktemp("backup-source"))


def test_backup_of_a_live_data_dir_restores_identically(source: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=source, rate_limit_per_minute=0)
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as client:  # the server is running
        assert client.get("/v1/search", params={"q": "pensiya"}).status_code == 200  # a query-log write
        result = invoke("backup", str(tmp_path / "bk"), "--include-cache", "--json", "--data-dir", str(source))
        assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["files"] >= 8 and report["bytes"] > 0
    restored = tmp_path / "restored"
    result = invoke("restore", str(tmp_path / "bk"), "--json", "--data-dir", str(restored))
    assert result.exit_code == 0, result.output
    assert served_state(restored) == served_state(source)  # same documents, chunk ids, golden answers
    assert store_rows(restored) == store_rows(source)
    assert (restored / "embeddings.sqlite").is_file()
    with TestClient(create_app(Settings(data_dir=restored), embedder=FakeEmbedder())) as client:
        assert client.get("/readyz").status_code == 200


def test_backup_uses_the_backup_api_not_a_file_copy(source: Path, tmp_path: Path) -> None:
    """A row still only in the WAL (not checkpointed) is in the backup; a copy of the main file lacks it."""
    data = tmp_path / "data"
    shutil.copytree(source, data)
    writer = sqlite3.connect(data / DB_FILENAME)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("INSERT INTO query_log (id, ts, route, query, latency_ms) VALUES ('q-wal', 'now', 'x', 'y', 1)")
    writer.commit()
    try:
        naive = tmp_path / "naive.sqlite"
        shutil.copyfile(data / DB_FILENAME, naive)
        assert sqlite3.connect(naive).execute("SELECT count(*) FROM query_log WHERE id = 'q-wal'").fetchone()[0] == 0
        create_backup(data, tmp_path / "bk")
    finally:
        writer.close()
    copy = sqlite3.connect(f"file:{tmp_path / 'bk' / DB_FILENAME}?mode=ro", uri=True)
    assert copy.execute("SELECT count(*) FROM query_log WHERE id = 'q-wal'").fetchone()[0] == 1
    copy.close()


def corrupt_index_file(backup: Path) -> None:
    dense = next(backup.glob("generations/*/dense.faiss"))
    raw = bytearray(dense.read_bytes())
    raw[-10] ^= 0xFF
    dense.write_bytes(bytes(raw))


def corrupt_database(backup: Path) -> None:
    with (backup / DB_FILENAME).open("r+b") as handle:
        handle.seek(4096 + 100)
        handle.write(b"\xff" * 64)


def drop_manifest(backup: Path) -> None:
    (backup / BACKUP_MANIFEST).unlink()


def drop_chunks(backup: Path) -> None:
    next(backup.glob("generations/*/chunks.jsonl")).unlink()


def truncate_manifest(backup: Path) -> None:
    path = backup / BACKUP_MANIFEST
    path.write_bytes(path.read_bytes()[:50])


@pytest.mark.parametrize(("damage", "code"), [
    (corrupt_index_file, "backup_corrupt"), (corrupt_database, "backup_corrupt"),
    (drop_manifest, "backup_incomplete"), (drop_chunks, "backup_incomplete"), (truncate_manifest, "backup_corrupt"),
], ids=["index-byte", "database-page", "no-manifest", "file-missing", "manifest-truncated"])
def test_restore_refuses_a_corrupt_or_partial_backup(source: Path, tmp_path: Path, damage: Any, code: str) -> None:
    create_backup(source, tmp_path / "bk")
    damage(tmp_path / "bk")
    target = tmp_path / "target"
    result = invoke("restore", str(tmp_path / "bk"), "--data-dir", str(target))
    assert result.exit_code == 1 and f"error [{code}]" in result.output, result.output
    assert not target.exists() or not any(target.iterdir())  # nothing was written


def test_restore_refuses_a_non_empty_target_unless_forced(source: Path, tmp_path: Path) -> None:
    create_backup(source, tmp_path / "bk")
    target = tmp_path / "target"
    shutil.copytree(source, target)
    ingest_and_build(target, [make_source(tmp_path / "new", (NEW_FILE,))])  # the target has moved on
    moved_on = served_state(target)
    result = invoke("restore", str(tmp_path / "bk"), "--data-dir", str(target))
    assert result.exit_code == 1 and "error [restore_target_not_empty]" in result.output
    assert served_state(target) == moved_on
    result = invoke("restore", str(tmp_path / "bk"), "--force", "--data-dir", str(target))
    assert result.exit_code == 0, result.output
    assert served_state(target) == served_state(source) != moved_on
    assert store_rows(target) == store_rows(source)


def test_backup_refuses_a_non_empty_destination_and_a_busy_writer(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "bk"
    dest.mkdir()
    (dest / "something").write_text("x")
    result = invoke("backup", str(dest), "--data-dir", str(source))
    assert result.exit_code == 1 and "error [backup_target_not_empty]" in result.output
    with WriterLock(source):
        result = invoke("backup", str(tmp_path / "bk2"), "--data-dir", str(source))
    assert result.exit_code == 1 and "error [writer_busy]" in result.output


def test_restore_library_round_trip_keeps_the_generation_id(source: Path, tmp_path: Path) -> None:
    report = create_backup(source, tmp_path / "bk")
    restored = restore_backup(tmp_path / "bk", tmp_path / "target")
    assert restored.generation == report.generation
    assert (tmp_path / "target" / "CURRENT").read_text().strip() == report.generation
