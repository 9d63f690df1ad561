"""DenseIndex: stable ids, atomic save/load, damaged files, query validation, HNSW recall."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.dense import DenseIndex, SearchIndexError, measure_recall
from index.embed import EmbeddingError
from ingest.errors import ConfigError


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def random_unit(n: int, dim: int, seed: int) -> np.ndarray:
    return unit(np.random.default_rng(seed).standard_normal((n, dim)))


def low_rank_unit(n: int, dim: int, rank: int, rng: np.random.Generator, basis: np.ndarray) -> np.ndarray:
    """Vectors near a ``rank``-dimensional subspace, as sentence embeddings are."""
    return unit(rng.standard_normal((n, rank)) @ basis + 0.05 * rng.standard_normal((n, dim)))


IDS = np.array([10, 3, 7_000_000_000_000, 42, 5], dtype=np.int64)


@pytest.fixture(params=["flat", "hnsw"])
def small(request: pytest.FixtureRequest) -> tuple[DenseIndex, np.ndarray]:
    vectors = random_unit(5, 8, seed=1)
    index = DenseIndex.build(IDS, vectors, exact_max=0 if request.param == "hnsw" else 100)
    assert index.kind == request.param
    return index, vectors


def test_each_vector_finds_itself_under_its_id(small: tuple[DenseIndex, np.ndarray]) -> None:
    index, vectors = small
    for chunk_id, vector in zip(IDS, vectors):
        best_id, score = index.search(vector, 1)[0]
        assert best_id == chunk_id and score == pytest.approx(1.0, abs=1e-5)


def test_ids_are_stable_after_remove(small: tuple[DenseIndex, np.ndarray]) -> None:
    index, vectors = small
    assert index.remove([3, 999]) == 1
    assert len(index) == 4 and set(index.ids()) == {10, 7_000_000_000_000, 42, 5}
    for chunk_id, vector in zip(IDS, vectors):
        if chunk_id != 3:
            assert index.search(vector, 1)[0][0] == chunk_id
    assert all(i != 3 for i, _ in index.search(vectors[1], 10))


def test_k_above_size_returns_everything_without_minus_one(small: tuple[DenseIndex, np.ndarray]) -> None:
    index, vectors = small
    hits = index.search(vectors[0], 1000)
    assert sorted(i for i, _ in hits) == sorted(IDS.tolist())
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)


def test_save_load_round_trip(small: tuple[DenseIndex, np.ndarray], tmp_path: Path) -> None:
    index, vectors = small
    index.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss", ef_search=128)
    assert (loaded.kind, loaded.dim, len(loaded), loaded.ef_search) == (index.kind, 8, 5, 128)
    assert loaded.search(vectors[2], 5) == index.search(vectors[2], 5)
    assert [p.name for p in tmp_path.iterdir()] == ["dense.faiss"]  # no temporary file left


def test_save_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "dense.faiss"
    DenseIndex.build([1], random_unit(1, 8, seed=2)).save(target)
    DenseIndex.build([1, 2], random_unit(2, 8, seed=3)).save(target)
    assert len(DenseIndex.load(target)) == 2


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncated-half"),
        pytest.param(lambda data: data[:-1], id="truncated-one-byte"),
        pytest.param(lambda data: data[:20], id="header-only"),
        pytest.param(lambda data: b"\x89PNG garbage" * 50, id="garbage"),
    ],
)
def test_damaged_file_is_index_corrupt(small: tuple[DenseIndex, np.ndarray], tmp_path: Path, damage) -> None:
    index, _ = small
    path = tmp_path / "dense.faiss"
    index.save(path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(SearchIndexError, match="damaged") as info:
        DenseIndex.load(path)
    assert info.value.code == "index_corrupt"


def test_missing_file_is_index_missing(tmp_path: Path) -> None:
    with pytest.raises(SearchIndexError) as info:
        DenseIndex.load(tmp_path / "absent.faiss")
    assert info.value.code == "index_missing"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(np.full(8, np.nan, np.float32), id="nan"),
        pytest.param(np.array([np.inf] + [0.0] * 7, np.float32), id="inf"),
        pytest.param(np.zeros(8, np.float32), id="zero"),
        pytest.param(np.ones(7, np.float32), id="wrong-dim"),
        pytest.param(np.ones((2, 8), np.float32), id="two-queries"),
    ],
)
def test_bad_query_vector_is_rejected(small: tuple[DenseIndex, np.ndarray], query: np.ndarray) -> None:
    index, _ = small
    with pytest.raises(EmbeddingError) as info:
        index.search(query, 3)
    assert info.value.code == "invalid_embedding"


@pytest.mark.parametrize("k", [0, -1, 2.5, "3", True, None])
def test_bad_k_is_rejected(small: tuple[DenseIndex, np.ndarray], k: object) -> None:
    index, vectors = small
    with pytest.raises(ConfigError, match="k="):
        index.search(vectors[0], k)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ids", "fragment"),
    [([1, 1], "repeat"), ([1], "ids for"), ([-1, 2], "negative"), ([10, 11], "already in the index")],
)
def test_bad_ids_are_rejected(small: tuple[DenseIndex, np.ndarray], ids: list[int], fragment: str) -> None:
    index, _ = small
    with pytest.raises(ConfigError, match=fragment):
        index.add(ids, random_unit(2, 8, seed=4))


def test_nan_vectors_cannot_be_added() -> None:
    with pytest.raises(EmbeddingError):
        DenseIndex.build([1, 2], np.array([[1.0, 0.0], [np.nan, 1.0]], np.float32))


def test_empty_index_searches_to_nothing() -> None:
    index = DenseIndex(4)
    assert index.search(np.ones(4, np.float32), 5) == []
    assert index.remove([1]) == 0


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=40),
    k=st.integers(min_value=1, max_value=60),
    removed=st.sets(st.integers(min_value=0, max_value=50), max_size=10),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_save_load_and_search_invariants(n: int, k: int, removed: set[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = rng.choice(2**40, size=n, replace=False).astype(np.int64)
    index = DenseIndex.build(ids, random_unit(n, 6, seed), exact_max=20)
    doomed = ids[[i for i in removed if i < n]]
    index.remove(doomed)
    query = random_unit(1, 6, seed + 1)[0]
    with tempfile.TemporaryDirectory() as folder:
        index.save(Path(folder) / "d.faiss")
        loaded = DenseIndex.load(Path(folder) / "d.faiss")
    hits = loaded.search(query, k)
    assert hits == index.search(query, k)
    assert len(hits) == min(k, n - len(doomed))
    assert {i for i, _ in hits} <= set(ids.tolist()) - set(doomed.tolist())


def test_hnsw_recall_at_10(caplog: pytest.LogCaptureFixture) -> None:
    """20,000 x 384 unit vectors near a 32-dim subspace (like sentence embeddings): recall@10 >= 0.95.

    Uniform random vectors in 384 dimensions are the worst case for HNSW (every neighbour is almost
    equally far): there recall@10 is about 0.44 at efSearch 64 and needs efSearch ~512 for 0.95.
    """
    caplog.set_level(logging.INFO)
    rng = np.random.default_rng(7)
    n, dim = 20_000, 384
    basis = rng.standard_normal((32, dim))
    vectors = low_rank_unit(n, dim, 32, rng, basis)
    queries = low_rank_unit(200, dim, 32, rng, basis)
    ids = np.arange(n, dtype=np.int64) * 3 + 1
    exact = DenseIndex.build(ids, vectors)
    approx = DenseIndex.build(ids, vectors, exact_max=10_000)
    assert (exact.kind, approx.kind) == ("flat", "hnsw")
    recall = measure_recall(approx, exact, queries, k=10)
    print(f"HNSW recall@10 (efSearch {approx.ef_search}, low-rank data): {recall:.3f}")
    assert recall >= 0.95
