"""The lexical index: BM25 over analysed tokens (bm25s, Lucene variant), saved as plain files.

Score of document d for query terms t with weights w_t (Robertson & Zaragoza 2009; Lucene's idf):

    score(d) = Σ_t w_t · idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 - b + b·|d|/avgdl))
    idf(t)   = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

bm25s precomputes every idf·tf term into a sparse token × document matrix; `search` sums its
columns with the query weights (all 1 for a plain query, lower for thesaurus or typo expansions).

On disk, a directory holds bm25s's own files, ``ids.npy`` (int64 chunk ids in index order) and
``lexical.json`` (format version, parameters, counts, analyser name and a SHA-256 of every file),
which `LexicalIndex.load` checks before trusting anything else.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path

import bm25s
import numpy as np

from ingest.durable import sha256_file
from ingest.errors import XizmatError

__all__ = [
    "FORMAT_VERSION",
    "LexicalIndex",
    "LexicalIndexError",
    "TypoVocabulary",
    "expand_typos",
]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_FORMAT = "xizmat-lexical"
_MANIFEST = "lexical.json"
_IDS = "ids.npy"
_BM25S_FILES = (
    "data.csc.index.npy",
    "indices.csc.index.npy",
    "indptr.csc.index.npy",
    "vocab.index.json",
    "params.index.json",
)


class LexicalIndexError(XizmatError):
    """A lexical index cannot be built or loaded. Codes: ``empty_index``, ``duplicate_id``,
    ``index_missing``, ``index_version``, ``index_corrupt``."""

    code = "index_corrupt"


class LexicalIndex:
    """BM25 over chunks: built from ``(chunk_id, tokens)`` pairs, searched with analysed query tokens."""

    def __init__(self, retriever: bm25s.BM25, ids: np.ndarray, *, analyzer: str = "") -> None:
        self._bm25 = retriever
        self._ids = ids
        self.analyzer = analyzer

    @classmethod
    def build(
        cls,
        docs: Iterable[tuple[int, Sequence[str]]],
        *,
        k1: float = 1.2,
        b: float = 0.75,
        analyzer: str = "",
    ) -> LexicalIndex:
        """Index ``(chunk_id, tokens)`` pairs; ``analyzer`` names the analysis, saved for queries."""
        ids: list[int] = []
        corpus: list[list[str]] = []
        for chunk_id, tokens in docs:
            ids.append(int(chunk_id))
            corpus.append([t for t in tokens if t])
        if not ids:
            raise LexicalIndexError("no documents to index; pass at least one (chunk_id, tokens)", code="empty_index")
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise LexicalIndexError(f"chunk id {dup} appears twice; chunk ids must be unique", code="duplicate_id")
        if not any(corpus):
            # bm25s would divide by an average length of 0 and score everything NaN.
            raise LexicalIndexError(
                f"none of the {len(ids)} documents has a term after analysis; index some text", code="empty_index"
            )
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        retriever.index(corpus, show_progress=False)
        logger.info("lexical index: %d chunks, %d terms", len(ids), len(retriever.vocab_dict))
        return cls(retriever, np.asarray(ids, dtype=np.int64), analyzer=analyzer)

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def params(self) -> dict[str, object]:
        """k1, b and method of the BM25 scorer."""
        return {"k1": self._bm25.k1, "b": self._bm25.b, "method": self._bm25.method}

    @cached_property
    def vocabulary(self) -> dict[str, int]:
        """Every indexed term with its document frequency."""
        df = np.diff(self._bm25.scores["indptr"])
        return {t: int(df[i]) for t, i in self._bm25.vocab_dict.items() if t and i < len(df)}

    @cached_property
    def typo_vocabulary(self) -> TypoVocabulary:
        """The deletion-neighbourhood index of the vocabulary, built on first use."""
        return TypoVocabulary(self.vocabulary)

    def search(
        self, query_tokens: Sequence[str], *, k: int, weights: Sequence[float] | None = None
    ) -> list[tuple[int, float]]:
        """The top ``k`` chunk ids with positive scores, best first; unknown tokens are ignored."""
        if k < 1:
            raise ValueError(f"k={k} must be at least 1")
        if weights is not None and len(weights) != len(query_tokens):
            raise ValueError(f"{len(weights)} weights for {len(query_tokens)} query tokens; give one per token")
        vocab, scores_csc = self._bm25.vocab_dict, self._bm25.scores
        data, indices, indptr = scores_csc["data"], scores_csc["indices"], scores_csc["indptr"]
        scores = np.zeros(len(self._ids), dtype=np.float32)
        for n, token in enumerate(query_tokens):
            column = vocab.get(token)
            if column is None or not token or column >= len(indptr) - 1:
                continue
            start, end = indptr[column], indptr[column + 1]
            # Within one column each document appears once, so plain fancy-index addition is safe.
            scores[indices[start:end]] += (1.0 if weights is None else weights[n]) * data[start:end]
        positive = np.flatnonzero(scores > 0)
        if positive.size == 0:
            return []
        top = positive[np.argsort(-scores[positive], kind="stable")[:k]]
        return [(int(self._ids[i]), float(scores[i])) for i in top]

    def save(self, directory: str | Path) -> None:
        """Write the index as plain files, ``lexical.json`` last (its presence marks a complete save)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / _MANIFEST).unlink(missing_ok=True)
        self._bm25.save(str(directory), show_progress=False)
        np.save(directory / _IDS, self._ids, allow_pickle=False)
        manifest = {
            "format": _FORMAT,
            "format_version": FORMAT_VERSION,
            "bm25s_version": bm25s.__version__,
            **self.params,
            "num_docs": len(self._ids),
            "num_terms": len(self.vocabulary),
            "analyzer": self.analyzer,
            "files": {name: sha256_file(directory / name) for name in (*_BM25S_FILES, _IDS)},
        }
        (directory / _MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> LexicalIndex:
        """Read an index written by `save`, refusing one of another format or with altered files."""
        directory = Path(directory)
        manifest_path = directory / _MANIFEST
        if not manifest_path.is_file():
            raise LexicalIndexError(
                f"{manifest_path} is missing; build the lexical index and save it there first", code="index_missing"
            )
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LexicalIndexError(f"{manifest_path} is not valid JSON ({exc}); rebuild the index") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            raise LexicalIndexError(f"{manifest_path} is not a Xizmat lexical index manifest; rebuild the index")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise LexicalIndexError(
                f"lexical index format_version={manifest.get('format_version')!r} in {manifest_path}, "
                f"this code reads version {FORMAT_VERSION}; rebuild the index",
                code="index_version",
            )
        files = manifest.get("files")
        if not isinstance(files, dict) or set(files) != {*_BM25S_FILES, _IDS}:
            raise LexicalIndexError(f"{manifest_path} does not list the index files; rebuild the index")
        for name, expected in files.items():
            path = directory / name
            if not path.is_file() or sha256_file(path) != expected:
                raise LexicalIndexError(
                    f"{path} is missing or was changed after the index was saved; rebuild the index"
                )
        retriever = bm25s.BM25.load(str(directory), show_progress=False)
        ids = np.load(directory / _IDS, allow_pickle=False)
        stored = {"k1": retriever.k1, "b": retriever.b, "method": retriever.method}
        expected_params = {key: manifest.get(key) for key in stored}
        if stored != expected_params or ids.dtype != np.int64 or len(ids) != manifest.get("num_docs"):
            raise LexicalIndexError(
                f"the files in {directory} disagree with {manifest_path} ({stored} vs {expected_params}, "
                f"{len(ids)} ids of {ids.dtype}); rebuild the index"
            )
        return cls(retriever, ids, analyzer=str(manifest.get("analyzer", "")))


def _deletes(word: str, depth: int) -> set[str]:
    """Every string made by deleting up to ``depth`` characters from ``word`` (SymSpell, Garbe 2012)."""
    found: set[str] = set()
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))} - found
        found |= frontier
    return found


def _osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: Levenshtein plus adjacent transposition as one edit."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def _max_distance(token: str) -> int:
    # One typo is plausible from four letters on, two from eight; shorter tokens match too much.
    return 2 if len(token) >= 8 else 1 if len(token) >= 4 else 0


class TypoVocabulary:
    """A SymSpell deletion index over a vocabulary (terms with optional document frequencies)."""

    def __init__(self, vocabulary: Mapping[str, int] | Iterable[str]) -> None:
        self._freq: dict[str, int] = (
            dict(vocabulary) if isinstance(vocabulary, Mapping) else {t: 1 for t in vocabulary}
        )
        self._by_delete: dict[str, list[str]] = defaultdict(list)
        for word in self._freq:
            if len(word) < 3:
                continue
            # Two deletions only for long words: they are the only ones a distance-2 match can reach.
            for variant in _deletes(word, 2 if len(word) >= 8 else 1):
                self._by_delete[variant].append(word)

    def __contains__(self, token: object) -> bool:
        return token in self._freq

    def corrections(self, token: str, *, limit: int = 3) -> list[str]:
        """Vocabulary terms within the allowed edit distance of ``token``, closest and commonest first."""
        limit_distance = _max_distance(token)
        if limit_distance == 0 or token in self._freq:
            return []
        probes = {token} | _deletes(token, limit_distance)
        candidates = {w for p in probes for w in self._by_delete.get(p, ())}
        candidates |= {p for p in probes if p in self._freq}
        scored = []
        for word in candidates:
            distance = _osa_distance(token, word)
            if distance <= limit_distance:
                scored.append((distance, -self._freq[word], word))
        return [word for _, _, word in sorted(scored)[:limit]]


def expand_typos(
    tokens: Sequence[str], vocabulary: TypoVocabulary, *, limit: int = 3
) -> dict[str, list[str]]:
    """Map each query token missing from the vocabulary to its likely intended terms (may be empty)."""
    out: dict[str, list[str]] = {}
    for token in tokens:
        if token not in vocabulary:
            fixes = vocabulary.corrections(token, limit=limit)
            if fixes:
                out[token] = fixes
    return out
