"""Build an index generation from the store: embed (through the cache), index, publish atomically.

Unchanged chunks keep their ids and their cached vectors, so adding, replacing or removing one
document embeds only that document's new chunks; the published generation is swapped in one step,
so a query never sees a mix of a document's old and new chunks.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.analysis import DEFAULT_ANALYZER
from index.dense import DenseIndex
from index.embed import Embedder, EmbeddingCache, embed_passages_cached
from index.generation import GenerationWriter, Manifest
from index.lexical import LexicalIndex
from ingest.errors import XizmatError
from ingest.faults import checkpoint
from ingest.records import Chunk
from ingest.store import Store

__all__ = ["DOCUMENTS_FILE", "EMBEDDING_CACHE", "BuildReport", "build_generation", "passage_text"]

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

    def as_dict(self) -> dict[str, Any]:
        return {
            "generation": self.manifest.generation, "documents": self.manifest.documents,
            "chunks": self.manifest.chunks, "embedded": self.embedded, "cached": self.cached,
            "seconds_embedding": round(self.seconds_embedding, 2), "seconds_total": round(self.seconds_total, 2),
            "embedder": self.manifest.embedder_id,
        }


def passage_text(chunk: Chunk) -> str:
    """The text a chunk is embedded and indexed as: its heading (act, article, title), then its text."""
    return f"{chunk.heading}\n{chunk.text}" if chunk.heading else chunk.text


def build_generation(
    store: Store,
    embedder: Embedder,
    data_dir: Path,
    *,
    exact_max: int = 50_000,
    progress: bool = True,
) -> BuildReport:
    """Build and publish a new generation holding every live chunk of the store."""
    started = time.perf_counter()
    chunks = list(store.chunks())
    if not chunks:
        raise XizmatError("the store holds no chunks; run `xizmat ingest` first", code="index_empty")
    documents = [d.as_dict() for d in store.documents()]
    texts = [passage_text(c) for c in chunks]
    cache = EmbeddingCache(Path(data_dir) / EMBEDDING_CACHE)
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
    lexical = LexicalIndex.build(
        ((c.id, DEFAULT_ANALYZER.analyze(t, lang=c.lang)) for c, t in zip(chunks, texts, strict=True)),
        analyzer=DEFAULT_ANALYZER.name,
    )
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
        manifest = writer.publish(documents=len(documents), corpus_fingerprint=store.fingerprint())
    return BuildReport(
        manifest=manifest, embedded=embedded, cached=cached,
        seconds_embedding=seconds_embedding, seconds_total=time.perf_counter() - started,
    )

