"""Issue #3's baselines on toy inputs: Success@10, naive RRF, the bare prefix analysis, the vector cache."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from eval.issue_baselines import dense_rank, dense_vectors, rrf
from eval.lexical_dev import bare_bm25, bare_tokens, recall_at, success_at


def test_success_at_is_one_when_any_gold_is_in_the_top_k() -> None:
    ranked = ["a", "b", "c", "d"]
    assert success_at(ranked, {"c", "z"}, k=2) == 0.0
    assert success_at(ranked, {"c", "z"}, k=3) == 1.0
    assert success_at(ranked, {"x"}, k=4) == 0.0
    # One of two gold articles found: success 1, recall 0.5.
    assert recall_at(ranked, {"a", "z"}, k=2) == 0.5
    assert success_at(ranked, {"a", "z"}, k=2) == 1.0


def test_rrf_sums_reciprocal_ranks_with_k() -> None:
    # k=60: b = 1/62 + 1/61 ≈ 0.0325, a = 1/61 ≈ 0.0164, d = 1/62 ≈ 0.0161, c = 1/63 ≈ 0.0159.
    assert rrf([["a", "b", "c"], ["b", "d"]]) == ["b", "a", "d", "c"]
    # k=1: a = 1/2, c = 1/2 (tie: a seen first), b = 1/3.
    assert rrf([["a", "b"], ["c"]], k=1) == ["a", "c", "b"]
    # Mirror rankings tie everywhere: first-seen order.
    assert rrf([["a", "b"], ["b", "a"]]) == ["a", "b"]
    assert rrf([[], []]) == []


def test_bare_tokens_lowercase_word_runs_cut_to_prefixes() -> None:
    assert bare_tokens("Mehnat SHARTNOMASI, 2024-yil") == ["mehnat", "shartn", "2024", "yil"]
    assert bare_tokens("Fuqarolik kodeksi", prefix=3) == ["fuq", "kod"]


def test_bare_bm25_ranks_the_matching_text_first() -> None:
    rank = bare_bm25(["ish haqi toʻlash", "nikoh va oila", "mehnat shartnomasi bekor qilish"])
    assert rank("shartnomani bekor qilsa", 2)[0] == 2  # shartn and bekor match; qilsa does not
    assert rank("oilaviy nikoh", 3)[0] == 1  # oilavi ≠ oila, but nikoh matches
    assert rank("zzz", 3) == [0, 1, 2]  # no known token: every score 0, text order
    assert rank("zzz", 3, matched_only=True) == []
    assert rank("oilaviy nikoh", 3, matched_only=True) == [1]


def test_dense_rank_is_exact_inner_product() -> None:
    vectors = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    assert dense_rank(vectors, np.array([0.0, 1.0], dtype=np.float32), 2) == [2, 1]


def test_dense_vectors_are_cached_and_refreshed_when_texts_change(tmp_path: Path) -> None:
    calls: list[int] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    cache = tmp_path / "vectors.npy"
    first = dense_vectors(["ab", "c"], embed, cache)
    again = dense_vectors(["ab", "c"], embed, cache)
    assert calls == [2] and np.array_equal(first, again)
    other = dense_vectors(["ab", "cd"], embed, cache)
    assert calls == [2, 2] and other[1, 0] == pytest.approx(2.0)
