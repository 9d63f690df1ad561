"""Index builds: an up-to-date index is left alone, and every input that changes the content rebuilds it.

The fake embedder keeps each build under a second; these are tests of the build's bookkeeping.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import index.analysis
import index.build
from index.build import BuildReport, build_generation
from index.generation import current_generation_id, list_generations, load_current
from index.token_cache import TOKEN_CACHE
from ingest.pipeline import Ingester
from ingest.store import Store

from tests.reliability_helpers import BASE_FILES, FakeEmbedder, make_fake_data_dir


class OtherModel(FakeEmbedder):
    id = "fake:other-model-64"


class OtherPrefix(FakeEmbedder):
    passage_prefix = "passage: "


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``corpus/`` (two acts) and ``data/`` holding them, published once."""
    root = tmp_path_factory.mktemp("build")
    make_fake_data_dir(root)
    return root


@pytest.fixture
def root(base: Path, tmp_path: Path) -> Path:
    shutil.copytree(base, tmp_path / "root")
    return tmp_path / "root"


def build(data: Path, embedder: Any = None, **options: Any) -> BuildReport:
    store = Store.in_dir(data)
    try:
        return build_generation(store, embedder or FakeEmbedder(), data, progress=False, **options)
    finally:
        store.close()


def ingest(data: Path, source: Path) -> None:
    embedder = FakeEmbedder()
    store = Store.in_dir(data)
    try:
        Ingester(store, count_tokens=embedder.count_tokens, tokenizer_id=embedder.id).ingest_paths(
            [source], progress=False
        )
    finally:
        store.close()


def live_manifest(data: Path) -> Any:
    return load_current(data, embedder_id=FakeEmbedder.id, dim=FakeEmbedder.dim).manifest


def test_an_unchanged_corpus_publishes_nothing(root: Path) -> None:
    data = root / "data"
    before, generations = current_generation_id(data), list_generations(data)
    report = build(data)
    assert report.published is False and report.as_dict()["published"] is False
    assert report.manifest.generation == before and report.embedded == 0
    assert current_generation_id(data) == before and list_generations(data) == generations


def test_force_rebuilds_and_cached_analysis_writes_the_same_files(root: Path) -> None:
    data = root / "data"
    first = live_manifest(data)
    forced = build(data, force=True)  # every analysis from the token cache the first build filled
    assert forced.published and forced.manifest.generation != first.generation
    assert current_generation_id(data) == forced.manifest.generation
    (data / TOKEN_CACHE).unlink()
    fresh = build(data, force=True)  # every text analysed again
    assert fresh.published
    # Byte-identical dense index, chunks, documents and lexical files, whichever way the tokens came.
    assert dict(forced.manifest.files) == dict(first.files) == dict(fresh.manifest.files)
    assert dict(forced.manifest.build) == dict(first.build)


def test_a_changed_document_is_built(root: Path) -> None:
    data, act = root / "data", root / "corpus" / "acts" / BASE_FILES[0]
    before = live_manifest(data)
    addition = "\n\nQoʻshimcha: pensiya har oy toʻlanadi.\n"
    act.write_text(act.read_text(encoding="utf-8") + addition, encoding="utf-8")
    ingest(data, root / "corpus")
    report = build(data)
    assert report.published and report.manifest.corpus_fingerprint != before.corpus_fingerprint
    texts = [row["text"] for row in load_current(data, embedder_id=FakeEmbedder.id, dim=64).iter_chunks()]
    assert any("pensiya har oy toʻlanadi" in text for text in texts)


def test_a_removed_document_is_built(root: Path) -> None:
    data = root / "data"
    before = live_manifest(data)
    store = Store.in_dir(data)
    try:
        assert store.mark_removed(store.documents()[0].id)
    finally:
        store.close()
    report = build(data)
    assert report.published and report.manifest.documents == before.documents - 1


@pytest.mark.parametrize(
    "embedder", [OtherModel(), OtherPrefix()], ids=["other-model", "other-passage-prefix"]
)
def test_another_embedder_is_built(root: Path, embedder: FakeEmbedder) -> None:
    data = root / "data"
    before = current_generation_id(data)
    report = build(data, embedder)
    assert report.published and report.manifest.generation != before
    assert report.manifest.embedder_id == embedder.id
    # The new generation is now up to date for that embedder, no longer for the first one.
    assert build(data, embedder).published is False
    assert build(data).published is True


def _exact_max(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return {"exact_max": 5}  # the dense index becomes HNSW


def _analysis_code(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(index.analysis, "_code_digest", lambda: "edited-analysis")
    return {}


def _build_code(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(index.build, "_code_digest", lambda: "edited-build")
    return {}


@pytest.mark.parametrize(
    "change", [_exact_max, _analysis_code, _build_code], ids=["exact-max", "analysis-code", "build-code"]
)
def test_other_build_settings_are_built(
    root: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[pytest.MonkeyPatch], dict[str, Any]]
) -> None:
    data = root / "data"
    before = live_manifest(data)
    report = build(data, **change(monkeypatch))
    assert report.published and report.manifest.build != before.build


def test_a_damaged_live_generation_is_rebuilt(root: Path) -> None:
    data = root / "data"
    dense = data / "generations" / str(current_generation_id(data)) / "dense.faiss"
    raw = bytearray(dense.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    dense.write_bytes(bytes(raw))
    report = build(data)
    assert report.published
    assert live_manifest(data).generation == report.manifest.generation  # loads: checksums hold


def test_a_generation_without_build_parameters_is_rebuilt(root: Path) -> None:
    """Generations published before the manifest recorded ``build`` are replaced once."""
    data = root / "data"
    path = data / "generations" / str(current_generation_id(data)) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["build"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert live_manifest(data).build == {}
    assert build(data).published
    assert build(data).published is False
