"""R3: disk full and I/O errors at each write of an admin upload → ingest → build → publish.

Faults are injected in-process: through the checkpoint hook (ingest/faults.py) at every durable step,
by making the n-th ``os.fsync`` of a task fail, and by capping the SQLite file so that its commit
meets a real ``SQLITE_FULL``. Each time the task must fail ``insufficient_storage`` / ``io_error``,
the API keeps serving the old generation with the same golden answers, and no partial file remains.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from index.generation import current_generation_id, list_generations
from ingest import faults
from xizmat.settings import Settings

from tests.reliability_helpers import CORPUS, NEW_FILE, FakeEmbedder, golden, leftovers, make_fake_data_dir

ADMIN = "admin-key-0123456789abcdef"
AS_ADMIN = {"Authorization": f"Bearer {ADMIN}"}
# Every write of the task before the publish; a failure after CURRENT is replaced is no longer a
# failed publish (the new generation is live), so those two checkpoints are left out.
TASK_WRITES = ("store.before_commit", "store.committed", "build.embedded", "generation.started",
               "generation.dense_written", "generation.chunks_written", "generation.lexical_written",
               "generation.documents_written", "generation.files_synced", "generation.manifest_written",
               "generation.renamed")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, FastAPI, Path]]:
    data = make_fake_data_dir(tmp_path)
    settings = Settings(data_dir=data, admin_keys=(ADMIN,), rate_limit_per_minute=0, auth_failures_per_minute=0)
    app = create_app(settings, embedder=FakeEmbedder())
    with TestClient(app) as client:
        yield client, app, data
    faults.clear_hook()


def upload(client: TestClient) -> Any:
    body = (CORPUS / "acts" / NEW_FILE).read_bytes()
    return client.post("/v1/admin/documents", files=[("file", (NEW_FILE, body, "text/plain"))], headers=AS_ADMIN)


def wait_for_task(client: TestClient, task_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/admin/tasks/{task_id}", headers=AS_ADMIN).json()
        if body["state"] in ("succeeded", "failed"):
            return body  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish in {timeout} s")


def fail_once(at: str, exc: BaseException) -> Callable[[str], None]:
    fired = []

    def hook(name: str) -> None:
        if name == at and not fired:
            fired.append(name)
            raise exc

    return hook


def snapshot(client: TestClient, app: FastAPI, data: Path) -> dict[str, Any]:
    response = client.get("/v1/search", params={"q": "pensiya tayinlash"})
    assert response.status_code == 200, response.text
    return {"current": current_generation_id(data), "generations": list_generations(data),
            "served": app.state.searcher.generation.id, "golden": golden(app.state.searcher)}


def assert_failed_cleanly(client: TestClient, app: FastAPI, data: Path, before: dict[str, Any], code: str) -> None:
    response = upload(client)
    assert response.status_code == 202, response.text
    task = wait_for_task(client, response.json()["task_ids"][0])
    assert task["state"] == "failed" and task["error"]["code"] == code, task
    assert "/" not in task["error"]["message"]  # no server path leaks into the reason
    assert snapshot(client, app, data) == before
    assert leftovers(data) == []


@pytest.mark.parametrize("at", TASK_WRITES)
def test_disk_full_at_each_write_fails_the_task_and_keeps_serving(
    served: tuple[TestClient, FastAPI, Path], at: str
) -> None:
    client, app, data = served
    before = snapshot(client, app, data)
    error: BaseException = OSError(errno.ENOSPC, "No space left on device")
    if at == "store.before_commit":  # what SQLite raises on SQLITE_FULL
        import sqlite3

        error = sqlite3.OperationalError("database or disk is full")
    faults.set_hook(fail_once(at, error))
    assert_failed_cleanly(client, app, data, before, "insufficient_storage")
    faults.clear_hook()
    # The disk has room again: the same upload now goes live.
    task = wait_for_task(client, upload(client).json()["task_ids"][0])
    assert task["state"] == "succeeded", task
    assert snapshot(client, app, data)["golden"] != before["golden"]


@pytest.mark.parametrize("at", ["store.before_commit", "generation.dense_written", "generation.manifest_written"])
def test_io_error_fails_the_task_with_io_error(served: tuple[TestClient, FastAPI, Path], at: str) -> None:
    client, app, data = served
    before = snapshot(client, app, data)
    if at == "store.before_commit":
        import sqlite3

        error: BaseException = sqlite3.OperationalError("disk I/O error")
    else:
        error = OSError(errno.EIO, "Input/output error")
    faults.set_hook(fail_once(at, error))
    assert_failed_cleanly(client, app, data, before, "io_error")


def test_disk_full_while_saving_an_upload_answers_507_and_leaves_nothing(
    served: tuple[TestClient, FastAPI, Path],
) -> None:
    client, app, data = served
    before = snapshot(client, app, data)
    faults.set_hook(fail_once("upload.saved", OSError(errno.ENOSPC, "No space left on device")))
    response = upload(client)
    assert response.status_code == 507 and response.json()["error"]["code"] == "insufficient_storage"
    uploads = data / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []
    assert snapshot(client, app, data) == before


def test_every_fsync_of_a_task_failing_with_enospc(
    served: tuple[TestClient, FastAPI, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each os.fsync the worker makes (dense index, chunks, lexical files, manifest, CURRENT) fails once."""
    client, app, data = served
    before = snapshot(client, app, data)
    real_fsync = os.fsync
    calls: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd))[1])
    # Count the fsyncs of a task that only rebuilds (the upload path is covered above).
    task = wait_for_task(client, client.post("/v1/admin/reindex", headers=AS_ADMIN).json()["task_ids"][0])
    assert task["state"] == "succeeded", task
    total = len(calls)
    assert total >= 5, f"only {total} fsyncs in a publish"
    before = snapshot(client, app, data)
    for n in range(total):
        seen = [0]

        def failing(fd: int, n: int = n, seen: list[int] = seen) -> None:
            seen[0] += 1
            if seen[0] == n + 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", failing)
        task = wait_for_task(client, client.post("/v1/admin/reindex", headers=AS_ADMIN).json()["task_ids"][0])
        monkeypatch.setattr(os, "fsync", real_fsync)
        after = snapshot(client, app, data)
        assert task["state"] == "failed" and task["error"]["code"] == "insufficient_storage", (n, task)
        if n == total - 1:
            # The last fsync is the folder's, after CURRENT was replaced: the new generation is on disk
            # and live (the worker follows CURRENT), but the task reports that durability failed.
            assert after["current"] != before["current"] and after["current"] in after["generations"]
        else:
            assert after == before, f"fsync #{n + 1} of {total}: the served state changed"
        assert leftovers(data) == [], f"fsync #{n + 1} of {total}: partial files remain"


def test_sqlite_full_database_fails_insufficient_storage(
    served: tuple[TestClient, FastAPI, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real SQLITE_FULL: the store the worker opens may not grow by a single page."""
    from ingest.store import Store

    client, app, data = served
    before = snapshot(client, app, data)
    real_init = Store.__init__

    def capped(self: Store, path: Path, *, readonly: bool = False) -> None:
        real_init(self, path, readonly=readonly)
        if not readonly:
            pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
            self.conn.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(Store, "__init__", capped)  # the API's own store (task rows) is already open
    response = upload(client)
    task = wait_for_task(client, response.json()["task_ids"][0])
    monkeypatch.undo()
    assert task["state"] == "failed" and task["error"]["code"] == "insufficient_storage", task
    assert snapshot(client, app, data) == before
    assert leftovers(data) == []
