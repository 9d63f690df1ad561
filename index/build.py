"""Build an index generation from the store: embed (through the cache), index, publish atomically.

Unchanged chunks keep their ids and their cached vectors, so adding, replacing or removing one
document embeds only that document's new chunks; the published generation is swapped in one step,
so a query never sees a mix of a document's old and new chunks.

A build whose inputs equal the live generation's (corpus fingerprint, embedder, analyser version and
build parameters, recorded in the manifest's ``build``) publishes nothing unless forced: it would
write the same files again. Chunk analyses are cached too (``index.token_cache``), so a forced
rebuild of an unchanged corpus re-analyses nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.analysis import DEFAULT_ANALYZER
from index.dense import EF_CONSTRUCTION, HNSW_M, DenseIndex, SearchIndexError
from index.embed import Embedder, EmbeddingCache, embed_passages_cached
from index.generation import GenerationWriter, Manifest, current_generation_id, load_generation
from index.lexical import LexicalIndex
from index.token_cache import TOKEN_CACHE, TokenCache, analyze_cached
from ingest.errors import XizmatError
from ingest.faults import checkpoint
from ingest.records import Chunk
from ingest.store import Store

__all__ = [
    "DOCUMENTS_FILE", "EMBEDDING_CACHE", "TOKEN_CACHE", "BuildReport", "build_generation", "build_params",
    "passage_text",
]

logger = logging.getLogger(__name__)

DOCUMENTS_FILE = "documents.json"
EMBEDDING_CACHE = "embeddings.sqlite"
DOCUMENT_FIELDS = (
    "id", "work_id", "title", "short_title", "kind", "number", "adopted", "authority", "category",
    "lang", "script", "url", "status", "status_date",
)


@dataclass(frozen=True)
class BuildReport:
    """What a build did, with timings (seconds)."""

    manifest: Manifest
    embedded: int
    cached: int
    seconds_embedding: float
    seconds_total: float
    published: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "generation": self.manifest.generation, "published": self.published,
            "documents": self.manifest.documents, "chunks": self.manifest.chunks,
            "embedded": self.embedded, "cached": self.cached,
            "seconds_embedding": round(self.seconds_embedding, 2),
            "seconds_total": round(self.seconds_total, 2),
            "embedder": self.manifest.embedder_id,
        }


def passage_text(chunk: Chunk) -> str:
    """The text a chunk is embedded and indexed as: its heading (act, article, title), then its text."""
    return f"{chunk.heading}\n{chunk.text}" if chunk.heading else chunk.text


# The modules whose code turns chunks into a generation's files (the analysis has its own version).
_BUILD_MODULES = ("index.build", "index.dense", "index.lexical", "index.generation")


def _code_digest() -> str:
    digest = hashlib.blake2b(digest_size=8)
    for name in _BUILD_MODULES:
        digest.update(Path(str(sys.modules[name].__file__)).read_bytes())
    return digest.hexdigest()


def build_params(embedder: Embedder, *, exact_max: int) -> dict[str, str]:
    """Everything besides the corpus that decides a generation's content, as saved in its manifest."""
    import bm25s

    return {
        "embedder": f"{embedder.id} dim={embedder.dim} prefix={embedder.passage_prefix!r}",
        "analyzer": DEFAULT_ANALYZER.version,
        "dense": f"exact_max={exact_max} hnsw_m={HNSW_M} ef_construction={EF_CONSTRUCTION}",
        "lexical": f"bm25s={bm25s.__version__}",
        "code": _code_digest(),
    }


def _live_if_current(
    data_dir: Path, embedder: Embedder, fingerprint: str, params: dict[str, str]
) -> Manifest | None:
    """The live generation's manifest when it is intact and was built from these inputs, else None."""
    try:
        gen_id = current_generation_id(data_dir)
        if gen_id is None:
            return None
        live = load_generation(data_dir, gen_id, embedder_id=embedder.id, dim=embedder.dim).manifest
    except SearchIndexError as exc:
        logger.info("the live generation will be replaced: %s", exc.message)
        return None
    if live.corpus_fingerprint != fingerprint:
        logger.info("the corpus changed since generation %s", live.generation)
        return None
    changed = sorted(k for k in params.keys() | live.build.keys() if params.get(k) != live.build.get(k))
    if changed:
        logger.info("generation %s was built with other %s", live.generation, ", ".join(changed))
        return None
    return live


def build_generation(
    store: Store,
    embedder: Embedder,
    data_dir: Path,
    *,
    exact_max: int = 50_000,
    progress: bool = True,
    force: bool = False,
) -> BuildReport:
    """Build and publish a new generation holding every live chunk of the store.

    Unless ``force``, nothing is built when the live generation is intact and holds the same corpus
    built the same way: the report then carries its manifest and ``published=False``.
    """
    started = time.perf_counter()
    data_dir = Path(data_dir)
    # Read before the chunks: should a writer slip in between, the generation claims the older corpus
    # and the next build replaces it, rather than claiming a corpus it does not hold.
    fingerprint = store.fingerprint()
    params = build_params(embedder, exact_max=exact_max)
    if not force:
        live = _live_if_current(data_dir, embedder, fingerprint, params)
        if live is not None:
            logger.info("generation %s is up to date; nothing to build", live.generation)
            return BuildReport(manifest=live, embedded=0, cached=0, seconds_embedding=0.0,
                               seconds_total=time.perf_counter() - started, published=False)
    chunks = list(store.chunks())
    if not chunks:
        raise XizmatError("the store holds no chunks; run `xizmat ingest` first", code="index_empty")
    documents = [d.as_dict() for d in store.documents()]
    texts = [passage_text(c) for c in chunks]
    cache = EmbeddingCache(data_dir / EMBEDDING_CACHE)
    try:
        t0 = time.perf_counter()
        vectors = embed_passages_cached(embedder, texts, cache, progress=progress)
        seconds_embedding = time.perf_counter() - t0
        embedded, cached = cache.misses, cache.hits
    finally:
        cache.close()
    checkpoint("build.embedded")
    ids = np.fromiter((c.id for c in chunks), dtype=np.int64, count=len(chunks))
    dense = DenseIndex.build(ids, vectors, exact_max=exact_max)
    with TokenCache(data_dir / TOKEN_CACHE) as token_cache:
        tokens = analyze_cached(
            DEFAULT_ANALYZER, [(t, c.lang) for c, t in zip(chunks, texts, strict=True)], token_cache
        )
    lexical = LexicalIndex.build(zip(ids.tolist(), tokens, strict=True), analyzer=DEFAULT_ANALYZER.name)
    with GenerationWriter(data_dir, embedder_id=embedder.id, dim=embedder.dim) as writer:
        writer.write_dense(dense)
        writer.write_chunks(chunks)
        lexical.save(writer.lexical_dir)
        checkpoint("generation.lexical_written")
        (writer.dir / DOCUMENTS_FILE).write_text(
            json.dumps([{k: d[k] for k in DOCUMENT_FIELDS} | {"extra": d["extra"]} for d in documents],
                       ensure_ascii=False),
            encoding="utf-8",
        )
        checkpoint("generation.documents_written")
        manifest = writer.publish(documents=len(documents), corpus_fingerprint=fingerprint, build=params)
    return BuildReport(
        manifest=manifest, embedded=embedded, cached=cached,
        seconds_embedding=seconds_embedding, seconds_total=time.perf_counter() - started,
    )
