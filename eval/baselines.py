"""Baselines the default configuration must beat, run over the same chunks and the same queries.

- ``bm25s``: bm25s with its own default tokenizer (lower case, ``\\w\\w+`` tokens, English stop words,
  no stemming) and its default scoring (Lucene BM25, k1 = 1.5, b = 0.75) — none of the project's analysis.
- ``rank_bm25``: ``BM25Okapi`` (k1 = 1.5, b = 0.75, ε = 0.25; Robertson et al., TREC-3 1994) over
  lower-cased ``\\w\\w+`` tokens, no stop words. Optional: ``pip install rank_bm25``.
- ``faiss-dense``: the query's embedding against the generation's FAISS index, nothing else (no
  script folding, no reference resolution, no fusion).

Each ranks chunks; a run lists each chunk's ``ref`` once, at its best rank, as ``eval.runner`` does.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from ir_measures import ScoredDoc

from eval.formats import Query
from index.build import passage_text
from index.embed import Embedder
from index.search import HybridSearcher
from ingest.errors import ConfigError

__all__ = [
    "BASELINES", "Baseline", "Bm25sBaseline", "CorpusChunk", "FaissDenseBaseline", "RankBm25Baseline",
    "corpus_of", "make_baseline", "run_baseline",
]

logger = logging.getLogger(__name__)

BASELINES = ("bm25s", "rank_bm25", "faiss-dense")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's and scikit-learn's default token pattern


@dataclass(frozen=True)
class CorpusChunk:
    """One indexed chunk as a baseline sees it: its id, its article's ref, its text."""

    id: int
    ref: str
    text: str


class Baseline(Protocol):
    """Ranks chunk ids for a query, best first."""

    name: str

    def rank(self, query: str, k: int) -> list[int]: ...


def corpus_of(searcher: HybridSearcher) -> list[CorpusChunk]:
    """The searcher's chunks as the index saw them (heading, then text)."""
    return [CorpusChunk(c.id, c.ref, passage_text(c)) for c in sorted(searcher.chunks.values(), key=lambda c: c.id)]


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


class Bm25sBaseline:
    """bm25s with its default tokenizer and parameters."""

    name = "bm25s"

    def __init__(self, corpus: Sequence[CorpusChunk]) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its own logger to DEBUG on import
        self._bm25s = bm25s
        self._ids = [c.id for c in corpus]
        self._model = bm25s.BM25()
        self._model.index(bm25s.tokenize([c.text for c in corpus], show_progress=False), show_progress=False)

    def rank(self, query: str, k: int) -> list[int]:
        tokens = self._bm25s.tokenize([query], show_progress=False)
        if not tokens.vocab:  # every query word is a single character: nothing to match
            return []
        k = min(k, len(self._ids))
        docs, scores = self._model.retrieve(tokens, k=k, show_progress=False)
        return [self._ids[int(d)] for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


class RankBm25Baseline:
    """rank_bm25's BM25Okapi over ``\\w\\w+`` lower-cased tokens."""

    name = "rank_bm25"

    def __init__(self, corpus: Sequence[CorpusChunk]) -> None:
        try:
            from rank_bm25 import BM25Okapi
        except ImportError as exc:
            raise ConfigError("the rank_bm25 baseline needs rank_bm25; run: pip install 'xizmat[eval]'",
                              code="missing_dependency") from exc
        self._ids = [c.id for c in corpus]
        self._model = BM25Okapi([_tokens(c.text) for c in corpus])

    def rank(self, query: str, k: int) -> list[int]:
        tokens = _tokens(query)
        if not tokens:
            return []
        scores = np.asarray(self._model.get_scores(tokens))
        order = np.argsort(-scores, kind="stable")[:k]
        return [self._ids[int(i)] for i in order if scores[i] > 0]


class FaissDenseBaseline:
    """The raw query embedding against a FAISS index of the chunks (inner product of unit vectors)."""

    name = "faiss-dense"

    def __init__(self, dense: Any, embedder: Embedder) -> None:
        self._dense = dense
        self._embedder = embedder

    def rank(self, query: str, k: int) -> list[int]:
        vector = self._embedder.embed_queries([query])[0]
        return [int(i) for i, _ in self._dense.search(vector, min(k, len(self._dense)))]


def make_baseline(name: str, searcher: HybridSearcher, corpus: Sequence[CorpusChunk] | None = None) -> Baseline:
    """A baseline by name over the searcher's chunks."""
    if name == "faiss-dense":
        return FaissDenseBaseline(searcher.generation.dense, searcher.embedder)
    corpus = corpus if corpus is not None else corpus_of(searcher)
    if name == "bm25s":
        return Bm25sBaseline(corpus)
    if name == "rank_bm25":
        return RankBm25Baseline(corpus)
    raise ConfigError(f"baseline={name!r} is unknown; use one of {', '.join(BASELINES)}", code="unknown_config")


def run_baseline(
    baseline: Baseline, refs: dict[int, str], queries: Sequence[Query], *, limit: int = 100, chunks: int = 400
) -> tuple[list[ScoredDoc], list[float]]:
    """A run of refs (each once, at its best rank) from the top ``chunks`` chunks, and each query's latency."""
    run: list[ScoredDoc] = []
    latencies: list[float] = []
    for q in queries:
        t0 = time.perf_counter()
        ranked = baseline.rank(q.text, chunks)
        seen = list(dict.fromkeys(refs[i] for i in ranked))[:limit]
        latencies.append((time.perf_counter() - t0) * 1000)
        run += [ScoredDoc(q.id, ref, float(limit - n)) for n, ref in enumerate(seen)]
    return run, latencies
