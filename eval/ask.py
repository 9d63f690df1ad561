"""Answer evaluation for ``/v1/ask``: citation correctness, answer rate and abstention quality.

A question is *in scope* when it has a positive judgement and no ``out_of_scope`` tag; the others should
be abstained on. Over one run of ``index.answer.answer`` per question:

- citation correctness = answered in-scope questions whose answer cites a gold ref / answered in-scope;
- citation to the same document = the same, counting a cited ref of a gold ref's document (lenient);
- answer rate = answered in-scope / in-scope;
- abstention precision = TP / (TP + FP) and recall = TP / (TP + FN), the positive class being "should
  abstain": TP abstained out of scope, FP abstained in scope, FN answered out of scope.

Intervals are 95% percentile bootstraps over questions (Efron & Tibshirani 1993), each resample
recomputing the ratio, so the interval of a ratio reflects how many questions its denominator holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from ir_measures import Qrel

from eval.formats import Query
from eval.metrics import latency_percentiles
from index.answer import AnswerParams, answer
from index.search import HybridSearcher, SearchFilters

__all__ = ["AskOutcome", "ask_metrics", "evaluate_answers", "run_answers"]

logger = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class AskOutcome:
    """What ``answer`` did with one question, beside what it should have done."""

    id: str
    text: str
    lang: str
    in_scope: bool
    abstained: bool
    reason: str
    confidence: float
    cited: tuple[str, ...]
    gold: tuple[str, ...]
    latency_ms: float

    @property
    def cites_gold(self) -> bool:
        return bool(set(self.cited) & set(self.gold))

    @property
    def cites_gold_document(self) -> bool:
        """Cites another article or field of a document that holds a gold ref (a lenient reading)."""
        return bool({r.split("::")[0] for r in self.cited} & {r.split("::")[0] for r in self.gold})


def run_answers(
    searcher: HybridSearcher, queries: Sequence[Query], qrels: Sequence[Qrel], *,
    params: AnswerParams | None = None,
) -> list[AskOutcome]:
    """Ask every question once; gold refs are those judged ≥ 1."""
    gold: dict[str, list[str]] = {}
    for judgement in qrels:
        if judgement.relevance > 0:
            gold.setdefault(judgement.query_id, []).append(judgement.doc_id)
    outcomes = []
    for q in queries:
        filters = SearchFilters.from_mapping(q.filters) if q.filters else None
        t0 = time.perf_counter()
        result = answer(searcher, q.text, filters=filters, params=params)
        latency = (time.perf_counter() - t0) * 1000
        refs = tuple(dict.fromkeys(item.ref for item in result.answer))
        outcomes.append(AskOutcome(
            id=q.id, text=q.text, lang=q.lang, in_scope=OUT_OF_SCOPE not in q.tags and q.id in gold,
            abstained=result.no_answer, reason=result.reason or "", confidence=round(result.confidence, 4),
            cited=refs, gold=tuple(gold.get(q.id, ())), latency_ms=round(latency, 2),
        ))
    return outcomes


def _ratios(rows: np.ndarray) -> dict[str, float]:
    """The ratios of a table with columns in_scope, abstained, cites_gold, cites_gold_document (booleans)."""
    ins, abst, gold, doc = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    answered_in = ins & ~abst
    tp, fp, fn = int((abst & ~ins).sum()), int((abst & ins).sum()), int((~abst & ~ins).sum())
    nan = float("nan")
    return {
        "citation_correctness": float((answered_in & gold).sum() / answered_in.sum()) if answered_in.any() else nan,
        "citation_same_document": float((answered_in & doc).sum() / answered_in.sum()) if answered_in.any() else nan,
        "answer_rate": float(answered_in.sum() / ins.sum()) if ins.any() else nan,
        "abstain_precision": tp / (tp + fp) if tp + fp else nan,
        "abstain_recall": tp / (tp + fn) if tp + fn else nan,
    }


def _bootstrap(
    rows: np.ndarray, stat: Callable[[np.ndarray], dict[str, float]], *, resamples: int, seed: int
) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {}
    for _ in range(resamples):
        for name, value in stat(rows[rng.integers(0, len(rows), size=len(rows))]).items():
            samples.setdefault(name, []).append(value)
    out = {}
    for name, values in samples.items():
        finite = np.asarray([v for v in values if v == v])  # a resample may leave a denominator empty
        low, high = np.percentile(finite, [2.5, 97.5]) if finite.size else (float("nan"), float("nan"))
        out[name] = [round(float(low), 4), round(float(high), 4)]
    return out


def ask_metrics(outcomes: Sequence[AskOutcome], *, resamples: int = 1000, seed: int = 7) -> dict[str, Any]:
    """Counts, the four ratios with 95% intervals, and the wrong answers and wrong abstentions."""
    if not outcomes:
        return {"n": 0, "metrics": {}, "ci95": {}, "counts": {}, "wrong_answers": [], "wrong_abstentions": []}
    rows = np.asarray([(o.in_scope, o.abstained, o.cites_gold, o.cites_gold_document) for o in outcomes],
                      dtype=bool)
    metrics = {k: round(v, 4) if v == v else None for k, v in _ratios(rows).items()}
    in_scope = [o for o in outcomes if o.in_scope]
    counts = {
        "in_scope": len(in_scope), "out_of_scope": len(outcomes) - len(in_scope),
        "answered_in_scope": sum(not o.abstained for o in in_scope),
        "answered_with_gold": sum(not o.abstained and o.cites_gold for o in in_scope),
        "abstained_out_of_scope": sum(o.abstained for o in outcomes if not o.in_scope),
        "abstained_in_scope": sum(o.abstained for o in in_scope),
    }
    keep = ("id", "text", "lang", "confidence", "cited", "gold")
    wrong_answers = [
        {**{k: v for k, v in asdict(o).items() if k in keep},
         "why": "cites no gold ref" if o.in_scope else "out of scope, should have abstained"}
        for o in outcomes if not o.abstained and not (o.in_scope and o.cites_gold)
    ]
    wrong_abstentions = [
        {**{k: v for k, v in asdict(o).items() if k in keep}, "reason": o.reason}
        for o in in_scope if o.abstained
    ]
    return {
        "n": len(outcomes), "metrics": metrics, "ci95": _bootstrap(rows, _ratios, resamples=resamples, seed=seed),
        "counts": counts, "wrong_answers": wrong_answers, "wrong_abstentions": wrong_abstentions,
    }


def evaluate_answers(
    searcher: HybridSearcher, queries: Sequence[Query], qrels: Sequence[Qrel], *,
    params: AnswerParams | None = None, resamples: int = 1000,
) -> dict[str, Any]:
    """``ask_metrics`` of one pass of ``answer`` over the questions, with per-question outcomes."""
    outcomes = run_answers(searcher, queries, qrels, params=params)
    result = ask_metrics(outcomes, resamples=resamples)
    result["by_lang"] = {
        lang: {k: v for k, v in ask_metrics(group, resamples=resamples).items() if k in ("n", "metrics", "counts")}
        for lang, group in sorted(_by_lang(outcomes).items())
    }
    result["params"] = asdict(params or AnswerParams())
    result["generation"] = searcher.generation.id
    result["latency_ms"] = latency_percentiles([o.latency_ms for o in outcomes])
    result["per_question"] = [
        {k: v for k, v in asdict(o).items() if k not in ("text", "gold", "latency_ms")} | {"cites_gold": o.cites_gold}
        for o in outcomes
    ]
    return result


def _by_lang(outcomes: Sequence[AskOutcome]) -> dict[str, list[AskOutcome]]:
    groups: dict[str, list[AskOutcome]] = {}
    for o in outcomes:
        groups.setdefault(o.lang or "und", []).append(o)
    return groups
