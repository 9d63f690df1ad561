"""Dense vector index over chunk ids: exact inner product for small corpora, HNSW above a threshold.

FAISS facts this module is built around (see RELIABILITY.md): ``write_index`` truncates its target, so
``save`` writes a temporary file and renames it; ``remove_ids`` on a bare flat index renumbers the
vectors, so ids live in ``IndexIDMap2``; a NaN query returns id -1, so queries are validated; a
truncated file raises ``RuntimeError`` on read, turned here into ``SearchIndexError("index_corrupt")``.
A flipped byte inside the vectors loads silently: the generation manifest's sha256 catches that.

Searches may run concurrently; ``add``, ``remove`` and ``save`` must not overlap with anything else.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from index.embed import EmbeddingError, validate_embeddings
from ingest.durable import fsync_path
from ingest.errors import ConfigError, XizmatError

__all__ = [
    "EF_CONSTRUCTION",
    "EF_SEARCH",
    "EXACT_MAX",
    "HNSW_M",
    "DenseIndex",
    "DenseKind",
    "SearchIndexError",
    "measure_recall",
]

logger = logging.getLogger(__name__)

DenseKind = Literal["flat", "hnsw"]
EXACT_MAX = 50_000
HNSW_M = 32
EF_CONSTRUCTION = 80
EF_SEARCH = 64


class SearchIndexError(XizmatError):
    """A stored index cannot be served.

    codes: index_missing (nothing published), index_corrupt (unreadable or fails its checksum),
    index_version (written by another format version), embedder_mismatch (built with another model),
    index_busy (another build holds the writer lock).
    """

    code = "index_corrupt"


def _as_ids(ids: Sequence[int] | np.ndarray) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ConfigError(f"ids must be a flat sequence of integers, got shape {arr.shape} {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and int(arr.min()) < 0:
        raise ConfigError(f"id {int(arr.min())} is negative; chunk ids are positive integers")
    return arr


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"k={k!r} must be a positive integer")


class DenseIndex:
    """Inner-product search over unit vectors keyed by stable int64 chunk ids.

    ``flat`` is exact; ``hnsw`` (M=32, efConstruction=80) is approximate, with recall traded against
    speed by ``ef_search``. ``build`` picks ``flat`` up to ``exact_max`` vectors.
    """

    def __init__(self, dim: int, *, kind: DenseKind = "flat", ef_search: int = EF_SEARCH) -> None:
        import faiss

        if dim < 1:
            raise ConfigError(f"dim={dim} must be positive")
        if kind not in ("flat", "hnsw"):
            raise ConfigError(f"kind={kind!r} is unknown; use 'flat' or 'hnsw'")
        if kind == "flat":
            inner: Any = faiss.IndexFlatIP(dim)
        else:
            inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = EF_CONSTRUCTION
        self._setup(faiss.IndexIDMap2(inner), inner, kind, ef_search)

    def _setup(self, index: Any, inner: Any, kind: DenseKind, ef_search: int) -> None:
        self._index = index
        self._inner = inner
        self.kind: DenseKind = kind
        self.dim: int = int(index.d)
        self.ef_search = ef_search

    @property
    def ef_search(self) -> int:
        """Candidates HNSW explores per query (higher: better recall, slower); unused by ``flat``."""
        return self._ef_search

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"ef_search={value!r} must be a positive integer")
        self._ef_search = value
        if self.kind == "hnsw":
            self._inner.hnsw.efSearch = value

    @classmethod
    def build(
        cls,
        ids: Sequence[int] | np.ndarray,
        vectors: np.ndarray,
        *,
        exact_max: int = EXACT_MAX,
        ef_search: int = EF_SEARCH,
    ) -> DenseIndex:
        """A new index holding ``vectors`` under ``ids``: ``flat`` if n <= ``exact_max``, else ``hnsw``."""
        arr = np.asarray(vectors)
        if arr.ndim != 2:
            raise EmbeddingError(f"vectors have shape {arr.shape}, expected (n, dim)")
        kind: DenseKind = "flat" if arr.shape[0] <= exact_max else "hnsw"
        index = cls(int(arr.shape[1]), kind=kind, ef_search=ef_search)
        index.add(ids, arr)
        logger.info("built %s dense index: %d vectors of dim %d", kind, len(index), index.dim)
        return index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        """The stored ids, in storage order."""
        import faiss

        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under new, unique ids."""
        id_arr = _as_ids(ids)
        vecs = validate_embeddings(vectors, self.dim)
        if id_arr.shape[0] != vecs.shape[0]:
            raise ConfigError(f"{id_arr.shape[0]} ids for {vecs.shape[0]} vectors; give one id per vector")
        if np.unique(id_arr).size != id_arr.size:
            raise ConfigError("ids repeat within the batch; chunk ids must be unique")
        clash = np.intersect1d(id_arr, self.ids()) if len(self) else np.zeros(0, np.int64)
        if clash.size:
            raise ConfigError(f"id {int(clash[0])} is already in the index; remove it first to replace it")
        self._index.add_with_ids(vecs, id_arr)

    def remove(self, ids: Sequence[int] | np.ndarray) -> int:
        """Remove vectors by id (absent ids are ignored); return how many were removed.

        Other ids keep their vectors. HNSW cannot delete in place, so it is rebuilt without them.
        """
        id_arr = _as_ids(ids)
        if not id_arr.size or not len(self):
            return 0
        if self.kind == "flat":
            return int(self._index.remove_ids(id_arr))
        stored = self.ids()
        keep = ~np.isin(stored, id_arr)
        removed = int((~keep).sum())
        if removed:
            vectors = self._inner.reconstruct_n(0, len(self))
            fresh = DenseIndex(self.dim, kind="hnsw", ef_search=self.ef_search)
            fresh.add(stored[keep], vectors[keep])
            self._setup(fresh._index, fresh._inner, "hnsw", self.ef_search)
            logger.info("rebuilt HNSW index without %d ids (%d left)", removed, len(self))
        return removed

    def search(self, query_vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest ids with their inner-product scores, best first."""
        query = np.asarray(query_vec)
        if query.ndim == 1:
            query = query[None, :]
        if query.shape[0] != 1:
            raise EmbeddingError(f"search takes one query vector, got shape {query.shape}; use search_many")
        return self.search_many(query, k)[0]

    def search_many(self, query_vecs: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """``search`` for each row of ``query_vecs``."""
        _check_k(k)
        queries = validate_embeddings(query_vecs, self.dim)
        if not len(self):
            return [[] for _ in range(queries.shape[0])]
        scores, ids = self._index.search(queries, min(int(k), len(self)))
        return [
            [(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i != -1]
            for row_ids, row_scores in zip(ids, scores)
        ]

    def save(self, path: str | Path) -> None:
        """Write atomically: temp file in the same folder, fsync, rename, fsync the folder."""
        import faiss

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            # Serialised here and written by Python, so that a full disk raises OSError(ENOSPC) rather
            # than FAISS's errno-less RuntimeError (the task then fails ``insufficient_storage``).
            data = faiss.serialize_index(self._index)
            with tmp.open("wb") as out:
                out.write(data.tobytes())
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_path(target.parent)

    @classmethod
    def load(cls, path: str | Path, *, ef_search: int = EF_SEARCH) -> DenseIndex:
        """Read an index written by ``save``; damaged files raise ``SearchIndexError``."""
        import faiss

        source = Path(path)
        if not source.is_file():
            raise SearchIndexError(
                f"dense index {source.name} does not exist; build the index first", code="index_missing"
            )
        damaged = (
            f"dense index {source.name} is damaged (truncated or not a FAISS file); "
            "rebuild the index or serve the previous generation"
        )
        try:
            # read_index already returns the concrete class; downcasting it again would yield a proxy
            # that does not own the index, which is freed with the original (a segfault later).
            index = faiss.read_index(str(source))
        except (RuntimeError, MemoryError) as exc:
            raise SearchIndexError(damaged, code="index_corrupt") from exc
        if not isinstance(index, faiss.IndexIDMap2):
            raise SearchIndexError(damaged, code="index_corrupt")
        inner = faiss.downcast_index(index.index)  # a view: ``index`` owns it and must stay referenced
        kind: DenseKind
        if isinstance(inner, faiss.IndexHNSWFlat):
            kind = "hnsw"
        elif isinstance(inner, faiss.IndexFlat):
            kind = "flat"
        else:
            raise SearchIndexError(damaged, code="index_corrupt")
        if inner.metric_type != faiss.METRIC_INNER_PRODUCT or index.id_map.size() != index.ntotal:
            raise SearchIndexError(damaged, code="index_corrupt")
        loaded = cls.__new__(cls)
        loaded._setup(index, inner, kind, ef_search)
        return loaded


def measure_recall(
    index_approx: DenseIndex, index_exact: DenseIndex, queries: np.ndarray, k: int = 10
) -> float:
    """Mean recall@k of ``index_approx`` against ``index_exact``: |approx ∩ exact| / |exact| per query."""
    approx = index_approx.search_many(queries, k)
    exact = index_exact.search_many(queries, k)
    ratios = []
    for got, want in zip(approx, exact):
        want_ids = {i for i, _ in want}
        if want_ids:
            ratios.append(len(want_ids & {i for i, _ in got}) / len(want_ids))
    return float(np.mean(ratios)) if ratios else 1.0
