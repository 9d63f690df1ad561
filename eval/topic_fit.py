"""Fit the topic model of ``index.topic``: a logistic regression that tells the language of laws and public
services from everyday questions, over the query embeddings of the configured embedder.

In-domain examples are real, non-test text: the headings of each indexed corpus (article titles,
chapters, sections, service titles) and, optionally, catalogues of service names (``name_uz``, ``name_ru``
of each JSONL record, e.g. ../shared/corpus/mygov-services/services.jsonl). Out-of-domain examples are
the everyday questions of eval/sets/ask_out_of_scope_train.jsonl, written for this fit on other topics
than eval/sets/ask_out_of_scope.jsonl, which stays an evaluation set. Each class weighs half of the loss
(the headings outnumber the questions fifty to one); the L2 penalty keeps the weights small.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from index.embed import Embedder
from index.search import HybridSearcher

__all__ = ["embed_questions", "everyday_questions", "fit_logistic", "headings", "out_of_fold_logits",
           "service_names"]

logger = logging.getLogger(__name__)


def headings(searcher: HybridSearcher) -> list[str]:
    """Distinct article titles, chapter and section headings, and service titles of a loaded index."""
    out: dict[str, None] = {}
    for chunk in searcher.chunks.values():
        # "Act, 12-modda. Title": the part before ". " is the citation (the chunk's may add a point).
        heading = chunk.heading or ""
        cited, _, title = heading.partition(". ")
        if not chunk.citation.startswith(cited):
            title = heading  # a heading that is not "citation. title"
        out.update((t.strip(), None) for t in (title, chunk.path.chapter, chunk.path.section) if t.strip())
    out.update((d["title"], None) for d in searcher.documents.values() if d["kind"] == "service" and d["title"])
    return list(out)


def service_names(path: Path) -> list[str]:
    """The Uzbek and Russian names of a service catalogue (JSONL with ``name_uz`` and ``name_ru``)."""
    names: dict[str, None] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            row = json.loads(line)
            found = [row[k] for k in ("name_uz", "name_ru") if row.get(k)]
            if not found:
                raise ValueError(f"{path}:{number}: a service record needs name_uz or name_ru")
            names.update((n, None) for n in found)
    return list(names)


def everyday_questions(path: Path) -> list[tuple[str, str]]:
    """``(id, question)`` of a question set whose rows are all out of scope."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    inside = [r["id"] for r in rows if r.get("in_scope", False)]
    if inside:
        raise ValueError(f"{path}: {inside[:3]} are marked in scope; the topic fit takes everyday questions only")
    return [(r["id"], r["query"]) for r in rows]


def embed_questions(embedder: Embedder, texts: Sequence[str], *, batch: int = 256) -> np.ndarray:
    """Query vectors of ``texts`` exactly as the search embeds a query (``HybridSearcher.query_form``)."""
    forms = [HybridSearcher.query_form(t) for t in texts]
    parts = [np.asarray(embedder.embed_queries(forms[i:i + batch]), dtype=np.float32)
             for i in range(0, len(forms), batch)]
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)


def fit_logistic(inside: np.ndarray, outside: np.ndarray, *, l2: float) -> tuple[np.ndarray, float]:
    """Weights and bias minimising the class-balanced logistic loss + ``l2 · |w|²`` (L-BFGS; label 1 =
    everyday), so that ``w · v + b`` is the log-odds of an everyday question at equal priors."""
    from scipy.optimize import minimize

    x = np.concatenate([inside, outside]).astype(np.float64)
    y = np.concatenate([np.zeros(len(inside)), np.ones(len(outside))])
    weight = np.where(y == 1, 0.5 / len(outside), 0.5 / len(inside))

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        z = x @ w + b
        value = float(np.sum(weight * (np.logaddexp(0.0, z) - y * z)) + l2 * w @ w)
        g = weight * (1.0 / (1.0 + np.exp(-z)) - y)
        return value, np.concatenate([x.T @ g + 2 * l2 * w, [g.sum()]])

    result = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B")
    if not result.success:
        logger.warning("the topic fit stopped early: %s", result.message)
    return result.x[:-1].astype(np.float32), float(result.x[-1])


def out_of_fold_logits(
    inside: np.ndarray, outside: np.ndarray, groups: Iterable[str], *, l2: float, folds: int = 5
) -> np.ndarray:
    """Each everyday question's logit from a model fitted without its group (its topic in every language),
    so that the questions the model learnt from can calibrate its threshold without flattering it."""
    keys = list(groups)
    order = sorted(set(keys))
    fold = np.asarray([order.index(k) % folds for k in keys])
    logits = np.zeros(len(outside), dtype=np.float64)
    for f in range(folds):
        held = fold == f
        if held.any():
            w, b = fit_logistic(inside, outside[~held], l2=l2)
            logits[held] = outside[held] @ w + b
    return logits
