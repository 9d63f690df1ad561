"""R4: corrupt or missing index files, a mismatched manifest, a garbage database, a read-only data
folder at start-up. The API falls back to the previous valid generation (``/readyz`` says
``fallback: true``) or answers 503 with a reason, within 5 s; it never serves an empty index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from index.generation import current_generation_id, list_generations
from ingest.store import DB_FILENAME
from xizmat.settings import Settings

from tests.reliability_helpers import (
    NEW_FILE,
    FakeEmbedder,
    golden,
    ingest_and_build,
    make_fake_data_dir,
    make_source,
    served_state,
)

READY_WITHIN = 5.0


@pytest.fixture(scope="module")
def two_generations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A data directory with an older generation (two acts) and the published one (three acts)."""
    root = tmp_path_factory.mktemp("corrupt")
    data = make_fake_data_dir(root)
    old = served_state(data)
    ingest_and_build(data, [make_source(root / "new", (NEW_FILE,))])
    older, current = list_generations(data)
    return {"data": data, "old": old, "older": older, "current": current}


@pytest.fixture
def data(two_generations: dict[str, Any], tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(two_generations["data"], copy)
    return copy


def start(data: Path) -> tuple[TestClient, float, Any]:
    """Start the app; return the client, the seconds until /readyz answered, and that answer."""
    started = time.perf_counter()
    client = TestClient(create_app(Settings(data_dir=data, rate_limit_per_minute=0), embedder=FakeEmbedder()))
    client.__enter__()
    response = client.get("/readyz")
    return client, time.perf_counter() - started, response


def gen_dir(data: Path) -> Path:
    return data / "generations" / str(current_generation_id(data))


def flip_dense(data: Path) -> None:
    path = gen_dir(data) / "dense.faiss"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


def truncate_dense(data: Path) -> None:
    path = gen_dir(data) / "dense.faiss"
    path.write_bytes(path.read_bytes()[:100])


def remove_chunks(data: Path) -> None:
    (gen_dir(data) / "chunks.jsonl").unlink()


def remove_lexical(data: Path) -> None:
    shutil.rmtree(gen_dir(data) / "lexical")


def manifest_count_mismatch(data: Path) -> None:
    path = gen_dir(data) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["counts"]["chunks"] += 1
    path.write_text(json.dumps(manifest))


def manifest_garbage(data: Path) -> None:
    (gen_dir(data) / "manifest.json").write_bytes(os.urandom(300))


def manifest_other_generation(data: Path) -> None:
    path = gen_dir(data) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["generation"] = "20000101T000000000000Z-000000"
    path.write_text(json.dumps(manifest))


def current_folder_missing(data: Path) -> None:
    shutil.rmtree(gen_dir(data))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "flipped dense byte": flip_dense, "truncated dense": truncate_dense, "chunks missing": remove_chunks,
    "lexical missing": remove_lexical, "manifest count mismatch": manifest_count_mismatch,
    "manifest garbage": manifest_garbage, "manifest names another generation": manifest_other_generation,
    "generation folder missing": current_folder_missing,
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_generation_falls_back_to_the_previous_one(
    data: Path, two_generations: dict[str, Any], damage: str
) -> None:
    DAMAGE[damage](data)
    client, seconds, ready = start(data)
    try:
        assert seconds < READY_WITHIN
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["fallback"] is True and body["generation"] == two_generations["older"]
        assert client.get("/v1/search", params={"q": "pensiya"}).status_code == 200
        # Exactly the previous generation's answers, not a partial or empty index.
        assert golden(client.app.state.searcher) == two_generations["old"]["golden"]  # type: ignore[attr-defined]
    finally:
        client.__exit__(None, None, None)


def test_no_valid_generation_is_not_ready_rather_than_empty(data: Path) -> None:
    for gen in list_generations(data):
        (data / "generations" / gen / "chunks.jsonl").write_text("")
    client, seconds, ready = start(data)
    try:
        assert seconds < READY_WITHIN
        assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
        assert ready.json()["error"]["code"] in ("index_missing", "index_corrupt")
        search = client.get("/v1/search", params={"q": "pensiya"})
        assert search.status_code == 503 and search.json()["error"]["code"] == "index_not_ready"
    finally:
        client.__exit__(None, None, None)


def garbage_db(data: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{data / DB_FILENAME}{suffix}").unlink(missing_ok=True)
    (data / DB_FILENAME).write_bytes(os.urandom(8192))


def truncated_db(data: Path) -> None:
    path = data / DB_FILENAME
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(path.read_bytes()[:1000])


def text_db(data: Path) -> None:
    garbage_db(data)
    (data / DB_FILENAME).write_text("SQLite format 3\x00 but not really" * 100)


@pytest.mark.parametrize("damage", [garbage_db, truncated_db, text_db], ids=["random", "truncated", "fake-header"])
def test_corrupt_database_is_not_ready_with_a_reason(data: Path, damage: Callable[[Path], None]) -> None:
    damage(data)
    client, seconds, ready = start(data)
    try:
        assert seconds < READY_WITHIN
        assert ready.status_code == 503, ready.text
        assert ready.json()["error"]["code"] == "store_corrupt"
        assert client.get("/healthz").status_code == 200  # alive, just not ready
    finally:
        client.__exit__(None, None, None)


def test_missing_database_is_not_ready(data: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{data / DB_FILENAME}{suffix}").unlink(missing_ok=True)
    client, _, ready = start(data)
    try:
        assert ready.status_code == 503 and ready.json()["error"]["code"] == "store_missing"
    finally:
        client.__exit__(None, None, None)


@pytest.fixture
def read_only(data: Path) -> Any:
    """Bind-mount the data directory read-only over itself (needs root; skipped otherwise)."""
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(data), str(data)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount read-only here: {mounted.stderr.decode().strip()}")
    try:
        yield data
    finally:
        if subprocess.run(["umount", str(data)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(data)], check=True)  # detach lazily if still busy


def test_read_only_data_folder_still_serves_queries(read_only: Path, two_generations: dict[str, Any]) -> None:
    with pytest.raises(OSError):
        (read_only / "probe").write_text("x")
    client, seconds, ready = start(read_only)
    try:
        assert seconds < READY_WITHIN
        assert ready.status_code == 200 and ready.json()["generation"] == two_generations["current"]
        assert client.get("/v1/search", params={"q": "pensiya"}).status_code == 200
        assert golden(client.app.state.searcher) != {}  # type: ignore[attr-defined]
    finally:
        client.__exit__(None, None, None)


def test_writer_refuses_a_read_only_data_folder_with_a_clear_error(read_only: Path) -> None:
    from ingest.errors import XizmatError
    from ingest.writelock import WriterLock

    with pytest.raises(XizmatError) as caught:
        WriterLock(read_only).acquire()
    assert caught.value.code == "read_only" and "read-only" in caught.value.message


def test_writable_store_in_a_read_only_folder_says_read_only(read_only: Path) -> None:
    from ingest.errors import StoreError
    from ingest.store import Store

    with pytest.raises(StoreError) as caught:
        Store.in_dir(read_only)
    assert caught.value.code == "read_only"
    Store.in_dir(read_only, readonly=True).close()  # reading still works
