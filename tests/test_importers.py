"""Corpus importers on the public datasets in ../shared (skipped when it is absent)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.errors import IngestError
from ingest.importers import import_documents
from ingest.pipeline import Ingester, IngestSummary
from ingest.store import Store
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, count_tokens: Callable[[str], int]) -> Store:
    legal = shared_path("corpus", "uz-legal")
    folder = tmp_path_factory.mktemp("uz-legal")
    (folder / "articles").mkdir()
    for name in ("mehnat_kodeksi.jsonl", "yer_kodeksi.jsonl"):
        shutil.copy(legal / "articles" / name, folder / "articles" / name)
    shutil.copy(legal / "manifest.csv", folder / "manifest.csv")
    data = tmp_path_factory.mktemp("data")
    ingester = Ingester(Store.in_dir(data), count_tokens=count_tokens, tokenizer_id="t", max_tokens=256)
    summary = IngestSummary()
    ingester.ingest_documents(import_documents("uz-legal", folder), summary=summary)
    assert summary.added == 2 and summary.failed == 0
    ingester.ingest_documents(import_documents("labour-code", shared_path("corpus", "labour-code-ru"), notes=summary.notes),
                              summary=summary)
    assert any("law_base_uz.json: skipped" in n for n in summary.notes)
    return ingester.store


def test_uz_legal_articles_and_refs(store: Store) -> None:
    doc = store.get_document("mehnat_kodeksi")
    assert doc is not None and doc.lang == "uz-Latn" and doc.adopted
    articles = store.articles("mehnat_kodeksi")
    assert len(articles) == 581
    refs = {c.ref for c in store.chunks(doc_id="mehnat_kodeksi")}
    assert "mehnat_kodeksi::253" in refs
    # Inserted articles keep their dotted id and their own display (91¹-modda in the Land Code).
    land = {a.article_id: a.display for a in store.articles("yer_kodeksi")}
    assert land.get("91.1", "").startswith("91")


def test_russian_labour_code_is_the_same_work(store: Store) -> None:
    ru = store.get_document("mehnat_kodeksi.ru")
    assert ru is not None and ru.work_id == "mehnat_kodeksi" and ru.lang == "ru"
    assert len(store.articles("mehnat_kodeksi.ru")) == 581
    chunks = [c for c in store.chunks(doc_id="mehnat_kodeksi.ru") if c.article_id == "253"]
    assert chunks and chunks[0].ref == "mehnat_kodeksi::253"
    assert chunks[0].citation.startswith("Трудовой кодекс, статья 253")
    uz = [c for c in store.chunks(doc_id="mehnat_kodeksi") if c.article_id == "253"]
    assert uz[0].citation.startswith("Mehnat kodeksi, 253-modda")
    # Only one copy of the Uzbek text exists.
    assert [d.id for d in store.documents() if d.work_id == "mehnat_kodeksi"] == ["mehnat_kodeksi", "mehnat_kodeksi.ru"]


def test_service_catalogue_gives_uzbek_and_russian_documents() -> None:
    docs = list(import_documents("services", shared_path("corpus", "mygov-services")))
    assert len(docs) == 2 * 757
    first = {d.lang: d for d in docs[:2]}
    assert set(first) == {"uz-Latn", "ru"}
    assert first["uz-Latn"].work_id == first["ru"].work_id
    assert all(d.kind == "service" and d.url.startswith("https://my.gov.uz/") for d in docs[:10])


def test_unknown_kind_and_bad_record(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as info:
        list(import_documents("nope", tmp_path))
    assert info.value.code == "invalid_kind"
    bad = tmp_path / "x.jsonl"
    bad.write_text('{"seq": 1, "text": "no code"}\n', encoding="utf-8")
    with pytest.raises(IngestError) as info:
        list(import_documents("uz-legal", bad))
    assert info.value.code == "invalid_record"
