"""Score a service's completeness from its extracted elements, and aggregate the scores per authority.

Each element is ``present`` (stated, with an amount, a duration or a named act where that applies),
``vague`` (mentioned without them: "in the amount set by law"), ``missing`` or ``contradictory`` (the
description and its regulation state different fees or time limits). A service scores the mean of its
elements' weights: present 1, vague 0.5, missing and contradictory 0 (wrong information is worse than a
gap, never better).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from ingest.completeness import ELEMENTS, UNSPECIFIED, Extraction
from ingest.completeness_values import values_agree
from ingest.normalize import normalize_key

__all__ = [
    "ELEMENT_LABELS", "STATUS_WEIGHTS", "AuthorityScore", "ElementScore", "ServiceScore", "Status", "aggregate", "score_service",
]

logger = logging.getLogger(__name__)

Status = Literal["present", "vague", "missing", "contradictory"]
STATUS_WEIGHTS: dict[str, float] = {"present": 1.0, "vague": 0.5, "missing": 0.0, "contradictory": 0.0}

ELEMENT_LABELS: dict[str, str] = {
    "eligibility": "who may apply", "documents": "the documents needed", "fee": "the fee",
    "time_limit": "the time limit", "result": "the result", "channels": "where to apply",
    "legal_act": "the governing act", "appeal": "how to appeal",
}
_VAGUE = {
    "fee": "mentions the fee but gives no amount and does not say it is free",
    "time_limit": "mentions the time limit but gives no number of days",
    "legal_act": "names no act and cites no article",
}


@dataclass(frozen=True)
class ElementScore:
    """One element's status, why, and the passages behind it."""

    element: str
    status: Status
    explanation: str
    description: Extraction
    regulation: Extraction | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "element": self.element, "status": self.status, "explanation": self.explanation,
            "description": self.description.as_dict(),
            "regulation": self.regulation.as_dict() if self.regulation else None,
        }


@dataclass(frozen=True)
class ServiceScore:
    """A service's score (0 to 1) and its eight elements."""

    service_id: str
    work_id: str
    title: str
    lang: str
    authority: str
    score: float
    elements: tuple[ElementScore, ...]

    def status(self, element: str) -> Status:
        return next(e.status for e in self.elements if e.element == element)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.service_id, "work_id": self.work_id, "title": self.title, "lang": self.lang,
            "authority": self.authority, "score": round(self.score, 4),
            "elements": {e.element: e.as_dict() for e in self.elements},
        }


@dataclass(frozen=True)
class AuthorityScore:
    """An authority's services: how many, their mean score, and the element missing most often."""

    authority: str
    services: int
    mean_score: float
    most_missing: str | None
    missing: tuple[tuple[str, int], ...]
    vague: tuple[tuple[str, int], ...]
    contradictory: tuple[tuple[str, int], ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "authority": self.authority, "services": self.services, "mean_score": round(self.mean_score, 4),
            "most_missing": self.most_missing, "missing": dict(self.missing), "vague": dict(self.vague),
            "contradictory": dict(self.contradictory),
        }


def _quote(extraction: Extraction) -> str:
    if not extraction.evidence:
        return ""
    ev = extraction.evidence[0]
    return f" ({ev.ref}: “{ev.quote}”)"


def _concrete(extraction: Extraction | None) -> tuple[str, ...]:
    if extraction is None:
        return ()
    return tuple(v for v in extraction.values if v != UNSPECIFIED)


def _disagree(description: Extraction, regulation: Extraction | None) -> bool:
    """Both state concrete values and none of the description's agrees with any of the regulation's."""
    ours, theirs = _concrete(description), _concrete(regulation)
    return bool(ours and theirs) and not any(values_agree(a, b) for a in ours for b in theirs)


def _score_element(element: str, description: Extraction, regulation: Extraction | None) -> ElementScore:
    label = ELEMENT_LABELS[element]
    reg_note = ""
    if regulation is not None and regulation.found:
        stated = ", ".join(_concrete(regulation))
        reg_note = (f"; the regulation states {stated}{_quote(regulation)}" if stated
                    else f"; the regulation mentions it, with no figure{_quote(regulation)}")
    if not description.found:
        return ElementScore(element, "missing", f"the description says nothing about {label}{reg_note}",
                            description, regulation)
    if element in ("fee", "time_limit") and _disagree(description, regulation):
        assert regulation is not None
        text = (f"the description gives {', '.join(_concrete(description))}{_quote(description)} but the "
                f"regulation gives {', '.join(_concrete(regulation))}{_quote(regulation)}")
        return ElementScore(element, "contradictory", text, description, regulation)
    where = "its own field" if description.source == "field" else "another field, not its own"
    if not description.specific:
        return ElementScore(element, "vague", f"the description {_VAGUE[element]}{_quote(description)}{reg_note}",
                            description, regulation)
    stated = f" {', '.join(description.values)}" if element in ("fee", "time_limit") else ""
    text = f"{label} is stated{stated} in {where}{_quote(description)}"
    if element == "legal_act" and description.values:
        text += f"; cited articles: {', '.join(description.values)}"
    return ElementScore(element, "present", text, description, regulation)


def score_service(
    *, service_id: str, work_id: str, title: str, lang: str, authority: str,
    description: Mapping[str, Extraction], regulation: Mapping[str, Extraction],
) -> ServiceScore:
    """Score the eight elements of one service against its regulation's documents, fees and time limits."""
    elements = tuple(_score_element(e, description[e], regulation.get(e)) for e in ELEMENTS)
    score = sum(STATUS_WEIGHTS[e.status] for e in elements) / len(elements)
    return ServiceScore(service_id, work_id, title, lang, authority, score, elements)


def _authority_key(name: str) -> str:
    return normalize_key(name, lang="uz") if name.strip() else ""


def aggregate(scores: Iterable[ServiceScore]) -> tuple[AuthorityScore, ...]:
    """Per authority (spellings and Uzbek scripts folded together), worst mean score first."""
    groups: dict[str, list[ServiceScore]] = {}
    for score in scores:
        groups.setdefault(_authority_key(score.authority), []).append(score)
    result = []
    for members in groups.values():
        name = Counter(m.authority for m in members).most_common(1)[0][0] or "(no authority)"
        counts = {status: Counter(e.element for m in members for e in m.elements if e.status == status)
                  for status in ("missing", "vague", "contradictory")}
        missing = counts["missing"]
        most = max(ELEMENTS, key=lambda e: (missing[e], -ELEMENTS.index(e))) if missing else None
        result.append(AuthorityScore(
            authority=name, services=len(members), mean_score=sum(m.score for m in members) / len(members),
            most_missing=most,
            missing=tuple((e, counts["missing"][e]) for e in ELEMENTS if counts["missing"][e]),
            vague=tuple((e, counts["vague"][e]) for e in ELEMENTS if counts["vague"][e]),
            contradictory=tuple((e, counts["contradictory"][e]) for e in ELEMENTS if counts["contradictory"][e]),
        ))
    return tuple(sorted(result, key=lambda a: (a.mean_score, a.authority)))

