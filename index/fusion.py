"""Rank fusion of candidate lists (lexical, dense, ...): reciprocal rank fusion and min-max weighting.

Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009):
    score(c) = Σ_s w_s / (k + rank_s(c))
Weighted fusion min-max normalises each list's scores to [0, 1] and sums them with the list weights:
    score(c) = Σ_s w_s · (s_s(c) − min_s) / (max_s − min_s)        (1 when a list's scores are all equal)
Both take lists best first and return a mapping in first-seen order (lists in order, hits in order), so
callers that sort by score with a stable sort break ties the same way every time.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import TypeVar

__all__ = ["Ranking", "reciprocal_rank_fusion", "weighted_fusion"]

logger = logging.getLogger(__name__)

Id = TypeVar("Id", bound=Hashable)
Ranking = Sequence[tuple[Id, float]]  # (id, score), best first: chunk ids in search, article keys in eval


def reciprocal_rank_fusion(
    rankings: Sequence[Ranking[Id]], weights: Sequence[float], *, k: float
) -> dict[Id, float]:
    """Σ w / (k + rank) over the lists each id appears in (rank from 1)."""
    if len(rankings) != len(weights):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings; give one per ranking")
    if not k > 0 or not math.isfinite(k):
        raise ValueError(f"rrf k={k} must be a positive finite number (60 is the usual value)")
    scores: dict[Id, float] = defaultdict(float)
    for hits, w in zip(rankings, weights):
        for rank, (i, _) in enumerate(hits, start=1):
            scores[i] += w / (k + rank)
    return scores


def weighted_fusion(rankings: Sequence[Ranking[Id]], weights: Sequence[float]) -> dict[Id, float]:
    """Σ w · min-max-normalised score; a list whose scores are all equal gives each of its ids ``w``."""
    if len(rankings) != len(weights):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings; give one per ranking")
    scores: dict[Id, float] = defaultdict(float)
    for hits, w in zip(rankings, weights):
        if not hits:
            continue
        top, low = hits[0][1], hits[-1][1]
        # Halves: top − low overflows to inf for scores near ±1.8e308, and inf/inf is NaN.
        span = top / 2 - low / 2
        for i, s in hits:
            scores[i] += w * ((s / 2 - low / 2) / span if span > 0 else 1.0)
    return scores
