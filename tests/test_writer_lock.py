"""One writer at a time (an flock on <data_dir>/.writer.lock) and many readers that follow the
published generation without a restart."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.main import create_app
from ingest.writelock import WriterBusyError, WriterLock
from xizmat.cli import cli
from xizmat.settings import Settings

from tests.reliability_helpers import CORPUS, NEW_FILE, ROOT, FakeEmbedder, make_fake_data_dir, make_source

ADMIN = "admin-key-0123456789abcdef"
AS_ADMIN = {"Authorization": f"Bearer {ADMIN}"}
HOLD = (
    "import sys, time; sys.path.insert(0, {root!r}); from ingest.writelock import WriterLock; "
    "lock = WriterLock({data!r}).acquire(); print('locked', flush=True); time.sleep(600)"
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the writer lock of tmp_path/data until it is killed."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLD.format(root=str(ROOT), data=str(data))],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    yield proc
    proc.kill()
    proc.wait()
    proc.stdout.close()


def test_a_second_writer_fails_fast_and_names_the_holder(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    started = time.perf_counter()
    with pytest.raises(WriterBusyError) as caught:
        WriterLock(tmp_path / "data").acquire()
    assert time.perf_counter() - started < 0.5
    assert caught.value.code == "writer_busy" and f"process {holder.pid}" in caught.value.message


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with WriterLock(tmp_path / "data") as lock:
        assert lock.held
    assert not lock.held


def test_the_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    with WriterLock(tmp_path), pytest.raises(WriterBusyError):
        WriterLock(tmp_path).acquire()
    WriterLock(tmp_path).acquire().release()  # free again once released


@pytest.mark.parametrize("args", [
    ["ingest", str(CORPUS / "acts" / NEW_FILE)],
    ["corpus", "import", "services", str(CORPUS / "services")],
    ["index", "build"],
], ids=["ingest", "corpus-import", "index-build"])
def test_cli_writers_exit_non_zero_with_writer_busy(
    tmp_path: Path, holder: subprocess.Popen[str], args: list[str]
) -> None:
    started = time.perf_counter()
    result = CliRunner().invoke(cli, [*args, "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 1, result.output
    assert "error [writer_busy]" in result.output
    assert time.perf_counter() - started < 5  # refused before loading the model


def wait_until(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"condition not met in {timeout} s")


def test_an_api_task_waits_for_the_writer_lock_instead_of_failing(tmp_path: Path) -> None:
    data = make_fake_data_dir(tmp_path)
    settings = Settings(data_dir=data, admin_keys=(ADMIN,), rate_limit_per_minute=0, auth_failures_per_minute=0)
    proc = subprocess.Popen([sys.executable, "-c", HOLD.format(root=str(ROOT), data=str(data))],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with TestClient(create_app(settings, embedder=FakeEmbedder())) as client:
            body = (CORPUS / "acts" / NEW_FILE).read_bytes()
            response = client.post("/v1/admin/documents", files=[("file", (NEW_FILE, body, "text/plain"))],
                                   headers=AS_ADMIN)
            task_id = response.json()["task_ids"][0]
            time.sleep(3.0)  # several attempts of the worker while the lock is held
            state = client.get(f"/v1/admin/tasks/{task_id}", headers=AS_ADMIN).json()["state"]
            assert state in ("queued", "running"), state
            proc.kill()
            proc.wait()
            wait_until(lambda: client.get(f"/v1/admin/tasks/{task_id}", headers=AS_ADMIN).json()["state"]
                       == "succeeded")
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_two_readers_follow_a_generation_published_by_another_process(tmp_path: Path) -> None:
    data = make_fake_data_dir(tmp_path)
    source = make_source(tmp_path / "new", (NEW_FILE,))
    settings = Settings(data_dir=data, rate_limit_per_minute=0)
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as one, \
            TestClient(create_app(settings, embedder=FakeEmbedder())) as two:
        before = {c.get("/readyz").json()["generation"] for c in (one, two)}
        assert len(before) == 1
        published = subprocess.run([sys.executable, str(ROOT / "tests" / "crash_child.py"), str(data), str(source)],
                                   capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert published.returncode == 0, published.stderr
        from index.generation import current_generation_id

        new = current_generation_id(data)
        assert new not in before
        started = time.perf_counter()
        wait_until(lambda: all(c.get("/readyz").json()["generation"] == new for c in (one, two)), timeout=10)
        print(f"both readers serve the new generation {time.perf_counter() - started:.2f} s after publishing")
        for client in (one, two):
            hits = client.get("/v1/search", params={"q": "murojaat"}).json()
            assert any(g["id"].startswith("law-appeals") for g in hits["groups"])
