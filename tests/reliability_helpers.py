"""Helpers shared by the reliability tests: a cheap deterministic embedder, tiny data directories built
from the sample corpus, and a golden query set to compare served states."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
BASE_FILES = ("pensiya-taminoti-qonuni.uz-latn.md", "yer-va-kochmas-mulk-nizomi.uz-cyrl.txt")
NEW_FILE = "murojaatlar-qonuni.uz-latn.txt"
GOLDEN_QUERIES = (
    "pensiya tayinlash", "yer uchastkasi", "murojaat muddati", "ko'chmas mulk", "жисмоний шахс",
    "davlat organi javob", "pensiya miqdori", "мулк ҳуқуқи",
)
_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder:
    """Bag of hashed words in 64 dimensions: deterministic, instant, good enough to rank a few acts."""

    id = "fake:hashed-words-64"
    dim = 64
    passage_prefix = ""
    max_tokens = 512

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, 0] = 0.01
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, h % self.dim] += 1.0 if h & 1 << 31 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(list(texts))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(list(texts))

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2


def make_source(root: Path, files: Sequence[str]) -> Path:
    """A folder holding some acts of the sample corpus with their manifest rows; returns it."""
    source = root
    (source / "acts").mkdir(parents=True, exist_ok=True)
    lines = (CORPUS / "manifest.csv").read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines[1:] if line.split(",", 1)[0].removeprefix("acts/") in files]
    (source / "manifest.csv").write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    for name in files:
        shutil.copy(CORPUS / "acts" / name, source / "acts" / name)
    return source


def ingest_and_build(data_dir: Path, paths: Sequence[Path], embedder: Any | None = None) -> None:
    """Ingest paths into the store of ``data_dir`` and publish a generation (under the writer lock)."""
    from index.build import build_generation
    from ingest.pipeline import Ingester
    from ingest.store import Store
    from ingest.writelock import WriterLock

    embedder = embedder or FakeEmbedder()
    with WriterLock(data_dir):
        store = Store.in_dir(data_dir)
        try:
            summary = Ingester(store, count_tokens=embedder.count_tokens, tokenizer_id=embedder.id).ingest_paths(
                list(paths), progress=False
            )
            assert summary.failed == 0, summary.errors
            build_generation(store, embedder, data_dir, progress=False)
        finally:
            store.close()


def make_fake_data_dir(root: Path, files: Sequence[str] = BASE_FILES) -> Path:
    """A data directory with ``files`` ingested and published with the fake embedder."""
    source = make_source(root / "corpus", files)
    data = root / "data"
    ingest_and_build(data, [source])
    return data


def golden(searcher: Any) -> dict[str, list[int]]:
    """The chunk ids each golden query returns, in order."""
    answers = {}
    for query in GOLDEN_QUERIES:
        result = searcher.search(query, k=10)
        answers[query] = [p.chunk_id for g in result.groups for p in g.passages]
    return answers


def served_state(data_dir: Path, embedder: Any | None = None) -> dict[str, Any]:
    """What a restarted reader serves: the generation's corpus fingerprint, chunk ids and golden answers."""
    from index.search import HybridSearcher

    searcher = HybridSearcher.open(data_dir, embedder or FakeEmbedder())
    manifest = searcher.generation.manifest
    return {"fingerprint": manifest.corpus_fingerprint, "chunks": sorted(searcher.chunks),
            "documents": sorted(searcher.documents), "golden": golden(searcher),
            "fallback": searcher.generation.fallback}


def leftovers(data_dir: Path) -> list[str]:
    """Temporary files and half-built or unpublished generation folders under ``data_dir``."""
    from index.generation import current_generation_id, list_generations

    found = [str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.name.endswith((".tmp", ".partial"))]
    gens = data_dir / "generations"
    if gens.is_dir():
        found += [f"generations/{p.name}" for p in gens.iterdir() if p.name.startswith(".tmp-")]
        current = current_generation_id(data_dir)
        found += [f"generations/{g}" for g in list_generations(data_dir) if current and g > current]
    return found


def create_fake_app() -> Any:
    """``uvicorn --factory tests.reliability_helpers:create_fake_app``: the real app with the fake embedder
    (settings from ``XIZMAT_*``), for tests that run the server in a subprocess and kill it."""
    from api.main import create_app

    return create_app(embedder=FakeEmbedder())
