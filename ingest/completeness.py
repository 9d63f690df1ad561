"""Find the eight elements a citizen needs in a service description and in the regulation it cites.

The elements: who may apply (``eligibility``), ``documents``, ``fee``, ``time_limit``, ``result``,
``channels``, the governing act (``legal_act``) and ``appeal``. A description's own field for an element
(``fee`` for the fee) is read first; when it is empty, the other fields are searched sentence by sentence
with multilingual cue lexicons, so a fee stated in the summary still counts. A regulation article is
searched with the same cues for documents, fees and time limits.

Every match keeps its passage: document id, ``ref`` (``svc-id-card::fee``, ``reg-civil-status::14``),
character offsets into that article's text, and the quoted sentence. Matching runs on ``normalize_key``
of each sentence (Uzbek Cyrillic folded to Latin, apostrophes folded), offsets on the original text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ingest.completeness_values import parse_fee, parse_time_limit
from ingest.errors import ConfigError
from ingest.normalize import normalize_key
from ingest.records import Article, make_ref

__all__ = [
    "ELEMENTS", "ELEMENT_FIELDS", "REGULATION_ELEMENTS", "UNSPECIFIED", "Evidence", "Extraction",
    "extract_description", "extract_regulation", "names_an_act", "split_sentences",
]

logger = logging.getLogger(__name__)

ELEMENTS: tuple[str, ...] = (
    "eligibility", "documents", "fee", "time_limit", "result", "channels", "legal_act", "appeal",
)
# The description field (ingest.records.SERVICE_FIELDS) that is meant to hold each element.
ELEMENT_FIELDS: dict[str, str] = {
    "eligibility": "who_may_apply", "documents": "documents", "fee": "fee", "time_limit": "time_limit",
    "result": "result", "channels": "channels", "legal_act": "legal_basis", "appeal": "appeal",
}
REGULATION_ELEMENTS: tuple[str, ...] = ("documents", "fee", "time_limit")
UNSPECIFIED = "unspecified"

# Cues that show a sentence outside the element's own field speaks of it. Keys are normalize_key forms:
# Uzbek in Latin (both scripts), Russian in Cyrillic with е for ё, English lower case. Kept strict, since a
# loose cue ("hujjat", "срок") turns up in almost every sentence of a description.
_CUES: dict[str, tuple[str, ...]] = {
    "eligibility": (
        r"murojaat qilish(?:i)? (?:huquqiga ega|mumkin)", r"ariza berish huquqi", r"yoshga to'lgan",
        r"вправе обратиться", r"может обратиться", r"имеют право на получение", r"достигш\w+ \d+ лет",
        r"(?:is|are) eligible", r"may apply", r"entitled to apply", r"aged \d+ or over",
    ),
    "documents": (
        r"taqdim etiladi", r"taqdim etadi", r"ilova qilinadi", r"quyidagi hujjatlar", r"hujjatlar talab qilinadi",
        r"представляются", r"представляет", r"прилагаются", r"необходимы\w* документ",
        r"documents? (?:is|are) required", r"must submit", r"(?:is|are) submitted", r"attaches",
    ),
    "fee": (
        r"davlat boji", r"\bboj\w*", r"to'lov\w*", r"yig'im\w*", r"bepul", r"narx\w*", r"bhm", r"bazaviy hisoblash",
        r"пошлин\w*", r"плат[аеуы]\w*", r"бесплатн\w*", r"стоимост\w*", r"сбор\w*", r"брв",
        r"\bfees?\b", r"state duty", r"free of charge", r"\bcharge\w*", r"\bcosts?\b",
    ),
    "time_limit": (
        r"muddat\w* ichida", r"kun ichida", r"ish kuni ichida", r"murojaat kunida", r"muddatda (?:ko'rib|amalga|beriladi)",
        r"в течение", r"в срок", r"в день обращения", r"срок рассмотрения", r"по истечении",
        r"\bwithin\b", r"time limit", r"on the day of", r"processing time",
    ),
    "result": (
        r"natija\w*", r"beriladi", r"taqdim qilinadi", r"результат\w*", r"выдается", r"выдаются",
        r"(?:is|are) issued", r"receives?", r"\bresult\w*",
    ),
    "channels": (
        r"my\.gov\.uz", r"yagona (?:interaktiv davlat xizmatlari )?portal\w*", r"davlat xizmatlari markaz\w*",
        r"единый портал", r"центр\w* государственных услуг", r"public services? cent\w*", r"single portal",
        r"online", r"in person", r"shaxsan",
    ),
    "legal_act": (),  # found by names_an_act
    "appeal": (
        r"shikoyat\w*", r"sudga", r"yuqori turuvchi", r"обжал\w*", r"жалоб\w*", r"в суд\b", r"вышестоящ\w*",
        r"appeal\w*", r"a court", r"complain\w*",
    ),
}
_CUE_RES = {e: re.compile("(?<!\\w)(?:" + "|".join(c) + ")") for e, c in _CUES.items() if c}
# An act named by its kind ("Nizom", "Oila kodeksi", "Закон «О ...»", "Regulation on ..."); "qonunchilik" and
# "законодательство" (legislation in general) name no act.
_ACT = re.compile(
    r"(?<!\w)(?:qonun(?!chilik)\w*|kodeks\w*|nizom\w*|qaror\w*|farmon\w*|низом\w*|закон(?!одател)\w*|"
    r"кодекс\w*|положени\w*|постановлени\w*|указ\w*|law\b|code\b|regulation\b|decree\b|resolution\b)"
)
_VALIDITY = re.compile(
    r"(?:amal qilish muddat|muddatga beriladi|yil muddatga|срок действия|сроком на|выдается на \d+|valid for|"
    r"is issued for \d+)"
)
# A line break inside a sentence (PDF and DOCX text wrap lines) does not end it; a blank line or a line that
# opens a numbered point ("2)", "3.", "а)") or a bullet does. A stop not followed by a space ("my.gov.uz",
# "1.5") does not end a sentence either.
_SENTENCE = re.compile(
    r"(?:[^.;!?\n]|[.;!?](?!\s|$)|\n(?!\s*\n|\s*(?:\d+[.)]|\w\)|[-•*—])))+(?:[.;!?]+(?=\s|$)|$)",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Evidence:
    """The passage an element was read from: ``text[start:end]`` of article ``ref`` is ``quote``."""

    doc_id: str
    ref: str
    start: int
    end: int
    quote: str


@dataclass(frozen=True)
class Extraction:
    """One element as a text states it.

    ``found`` says the text speaks of the element; ``specific`` that it gives something a citizen can act
    on (an amount or "free", a number of days, a named act); ``values`` are normalised (see
    ``ingest.completeness_values``); ``source`` is ``field`` (its own field), ``cue`` (another field) or
    ``regulation``.
    """

    element: str
    found: bool
    specific: bool
    values: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    source: str

    def as_dict(self) -> dict[str, object]:
        return {
            "element": self.element, "found": self.found, "specific": self.specific, "values": list(self.values),
            "source": self.source,
            "evidence": [{"doc_id": e.doc_id, "ref": e.ref, "start": e.start, "end": e.end, "quote": e.quote}
                         for e in self.evidence],
        }


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the sentences (and ``;``-separated clauses) of ``text``, whitespace trimmed.

    """
    spans: list[tuple[int, int]] = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def names_an_act(key: str) -> bool:
    """Whether a matching key names an act by its kind (law, code, regulation, ...), not legislation at large."""
    return _ACT.search(key) is not None


def _check_lang(lang: str) -> None:
    if lang not in ("uz-Latn", "uz-Cyrl", "ru", "en"):
        raise ConfigError(f"lang={lang!r} is not a service language; use uz-Latn, uz-Cyrl, ru or en")


def _sentences(doc_id: str, ref: str, text: str, lang: str) -> list[tuple[Evidence, str]]:
    return [
        (Evidence(doc_id=doc_id, ref=ref, start=s, end=e, quote=text[s:e]), normalize_key(text[s:e], lang=lang))
        for s, e in split_sentences(text)
    ]


def _values(element: str, keys: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for key in keys:
        if element == "fee":
            found.extend(parse_fee(key))
        elif element == "time_limit" and not _VALIDITY.search(key):
            found.extend(parse_time_limit(key))
    return tuple(dict.fromkeys(found))


def _from_sentences(
    element: str, sentences: list[tuple[Evidence, str]], *, source: str, whole_field: bool
) -> Extraction:
    """An element read from sentences; ``whole_field`` when they are the element's own field."""
    if element == "legal_act":
        cited = [(ev, key) for ev, key in sentences if names_an_act(key)]
        chosen = cited or (sentences if whole_field else [])
        return Extraction(element, bool(chosen), bool(cited), (), tuple(ev for ev, _ in chosen[:2]), source)
    cue = _CUE_RES[element]
    hits = sentences if whole_field else [(ev, key) for ev, key in sentences if cue.search(key)]
    if element in ("fee", "time_limit"):
        values = _values(element, (key for _, key in hits))
        if values:
            with_value = [(ev, key) for ev, key in hits if _values(element, [key])]
            return Extraction(element, True, True, values, tuple(ev for ev, _ in with_value), source)
        if hits:
            return Extraction(element, True, False, (UNSPECIFIED,), (hits[0][0],), source)
        return Extraction(element, False, False, (), (), source)
    return Extraction(element, bool(hits), bool(hits), (), tuple(ev for ev, _ in hits[:1]), source)


def extract_description(
    fields: Mapping[str, str], *, lang: str, doc_id: str, work_id: str, legal_basis_refs: Iterable[str] = ()
) -> dict[str, Extraction]:
    """The eight elements of one service description (``fields`` keyed as ``SERVICE_FIELDS``)."""
    _check_lang(lang)
    per_field = {
        name: _sentences(doc_id, make_ref(work_id, name), text, lang)
        for name, text in fields.items() if text and text.strip()
    }
    refs = tuple(legal_basis_refs)
    result: dict[str, Extraction] = {}
    for element in ELEMENTS:
        own = ELEMENT_FIELDS[element]
        if own in per_field:
            found = _from_sentences(element, per_field[own], source="field", whole_field=True)
        else:
            others = [s for name, items in per_field.items() if name != "authority" for s in items]
            found = _from_sentences(element, others, source="cue", whole_field=False)
        if element == "legal_act" and refs:
            found = Extraction(element, True, True, refs, found.evidence, found.source)
        result[element] = found
    logger.debug("%s: elements found %s", doc_id, [e for e, x in result.items() if x.found])
    return result


def extract_regulation(articles: Iterable[tuple[str, str, str, Article]]) -> dict[str, Extraction]:
    """Documents, fees and time limits in the cited articles: ``(doc_id, work_id, lang, article)`` tuples."""
    sentences: list[tuple[Evidence, str]] = []
    for doc_id, work_id, lang, article in articles:
        _check_lang(lang)
        sentences.extend(_sentences(doc_id, make_ref(work_id, article.article_id), article.text, lang))
    return {
        element: _from_sentences(element, sentences, source="regulation", whole_field=False)
        for element in REGULATION_ELEMENTS
    }
