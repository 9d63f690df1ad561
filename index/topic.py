"""The topic signal of ``/v1/ask``: does a question look like one about laws and public services, or like
an everyday question (baking, weather, sport) that merely shares words with some article?

A linear model over the question's query embedding (the vector the dense search already computes) gives
a logit ``z = w · v + b``, above 0 on the everyday side. It was fitted by ``eval/calibrate_ask.py
--fit-topic`` as a class-balanced, L2-regularised logistic regression: in-domain examples are the headings
of the indexed legal corpora (article titles, chapters, sections) and the titles of public services;
out-of-domain examples are the everyday questions of ``eval/sets/ask_out_of_scope_train.jsonl``.
A question with ``z >= threshold`` reads as an everyday one and ``answer`` abstains on it whatever its
evidence; the threshold is fitted with the weights. Both depend on the embedder: an embedder without a
fitted model gets no topic signal (``load_topic_model`` returns None) and the rule falls back to its
evidence alone.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DEFAULT_TOPIC_PATH", "TopicModel", "load_topic_model", "save_topic_model"]

logger = logging.getLogger(__name__)

DEFAULT_TOPIC_PATH = Path(__file__).parent / "data" / "topic_model.json"
FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class TopicModel:
    """Weights of one embedder's topic logit and the logit from which a question counts as everyday."""

    embedder_id: str
    weights: np.ndarray
    bias: float
    threshold: float
    meta: dict[str, Any]

    def __post_init__(self) -> None:
        if self.weights.ndim != 1 or not np.all(np.isfinite(self.weights)) or not np.isfinite(self.bias):
            raise ValueError(f"topic model for {self.embedder_id}: weights must be one finite vector")
        if not np.isfinite(self.threshold):
            raise ValueError(f"topic model for {self.embedder_id}: threshold={self.threshold} is not finite")

    @property
    def dim(self) -> int:
        return int(self.weights.shape[0])

    def logit(self, vector: np.ndarray) -> float:
        """``w · v + b`` for one query vector: above 0 reads as an everyday question."""
        return float(np.dot(self.weights, np.asarray(vector, dtype=np.float32)) + self.bias)

    def everyday(self, logit: float) -> bool:
        """Whether a question with this logit reads as an everyday one (outside the domain)."""
        return logit >= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {
            "embedder": self.embedder_id, "dim": self.dim, "bias": round(self.bias, 7),
            "threshold": round(self.threshold, 4), "meta": self.meta,
            "weights": [round(float(x), 7) for x in self.weights],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TopicModel:
        weights = np.asarray(data["weights"], dtype=np.float32)
        if weights.shape != (int(data["dim"]),):
            raise ValueError(f"topic model for {data['embedder']}: {weights.shape[0]} weights, dim {data['dim']}")
        return cls(embedder_id=str(data["embedder"]), weights=weights, bias=float(data["bias"]),
                   threshold=float(data["threshold"]), meta=dict(data.get("meta", {})))


def _read(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: format_version {data.get('format_version')!r}, expected {FORMAT_VERSION}; "
                         "refit it with eval/calibrate_ask.py --fit-topic")
    return data


@lru_cache(maxsize=8)
def _load(path: Path, embedder_id: str) -> TopicModel | None:
    if not path.exists():
        logger.warning("no topic model file at %s; answers abstain on evidence alone", path)
        return None
    for entry in _read(path)["models"]:
        if entry["embedder"] == embedder_id:
            return TopicModel.from_json(entry)
    logger.warning("no topic model for embedder %s in %s; answers abstain on evidence alone", embedder_id, path)
    return None


def load_topic_model(embedder_id: str, dim: int, *, path: Path | None = None) -> TopicModel | None:
    """The fitted model of this embedder, or None when none was fitted for it (read once per file)."""
    model = _load(Path(path or DEFAULT_TOPIC_PATH), embedder_id)
    if model is not None and model.dim != dim:
        logger.warning("topic model for %s has dim %d, the embedder %d; not used", embedder_id, model.dim, dim)
        return None
    return model


def save_topic_model(model: TopicModel, *, path: Path | None = None) -> Path:
    """Write ``model`` into the models file, replacing the entry of the same embedder."""
    path = Path(path or DEFAULT_TOPIC_PATH)
    models = [m for m in _read(path)["models"] if m["embedder"] != model.embedder_id] if path.exists() else []
    models.append(model.to_json())
    models.sort(key=lambda m: m["embedder"])
    payload = {"format_version": FORMAT_VERSION, "models": models}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    _load.cache_clear()
    return path
