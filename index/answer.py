"""Extractive answers for agents: the sentences or points that answer a question, each with a verified
citation, or an explicit ``no_answer`` with its reason.

Order of decisions:
1. A legal reference in the question is resolved first (index.references): an article that does not
   exist, an unknown act or an ambiguous abbreviation is a deterministic ``no_answer``; an existing
   article is answered from that article.
2. Otherwise the hybrid ranking's top articles are split into sentences and points; a sentence scores
   ``coverage(sentence) + ARTICLE_WEIGHT · fused(article) / fused(top article)``, where coverage is the
   share of the question's content words the sentence contains (after analysis, typo and synonym
   expansion).
3. The answer's confidence combines two signals of evidence that are absent for out-of-scope questions:
       confidence = W · coverage(top articles) + (1 - W) · clip((cos - COS_LOW) / (COS_HIGH - COS_LOW))
   with cos the best dense cosine of the question to any chunk; it is 0 when the topic model of
   index.topic reads the question as an everyday one (a question about bread that shares words with
   some article). Below ``threshold`` the answer is ``no_answer`` with reason ``low_confidence``.
   Calibrated on the sample corpus and the shared legal corpus together (see docs/answers.md); every
   citation is checked against the index before it is returned.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Literal

from index.analysis import DEFAULT_ANALYZER, STOPWORDS
from index.search import HybridSearcher, Passage, SearchFilters
from ingest.langid import detect_language
from ingest.normalize import fold_apostrophes
from ingest.records import Chunk

__all__ = ["Answer", "AnswerParams", "AnswerPassage", "ActCandidate", "NoAnswerReason", "RelatedService", "answer"]

logger = logging.getLogger(__name__)

NoAnswerReason = Literal["no_such_article", "no_such_act", "ambiguous_act", "low_confidence"]
ARTICLE_WEIGHT = 0.5
SERVICE_SHARE = 0.8
RELATED_GROUPS = 3
MAX_SERVICES = 3
_WORDS = re.compile(r"[^\W_]+(?:['ʻʼ’‘`´][^\W_]+)*")
# A sentence ends at . ! ? ; before a capital, a digit or an opening quote; points are lines.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"«(“0-9A-ZА-ЯЁЎҚҒҲOʻ])")


@dataclass(frozen=True)
class AnswerParams:
    """The abstention rule's knobs, fitted on two corpora at once (docs/answers.md): the sample corpus with
    eval/sets/ask_calibration.jsonl, and the shared legal corpus with the dev questions and
    eval/sets/ask_out_of_scope.jsonl."""

    threshold: float = 0.31
    coverage_weight: float = 0.6
    cos_low: float = 0.82
    cos_high: float = 0.92
    top_articles: int = 3
    # Abstain on questions the searcher's topic model (index.topic) reads as everyday ones.
    use_topic: bool = True


@dataclass(frozen=True)
class AnswerPassage:
    """One answering sentence or point; ``doc_id`` + ``article_id`` fetch the whole article."""

    text: str
    citation: str
    ref: str
    chunk_id: int
    doc_id: str
    article_id: str


@dataclass(frozen=True)
class RelatedService:
    """A public service among the top results."""

    id: str
    title: str
    url: str
    authority: str


@dataclass(frozen=True)
class ActCandidate:
    """An act the question may mean, with the range of its articles."""

    id: str
    title: str
    first_article: str
    last_article: str


@dataclass(frozen=True)
class Answer:
    """The outcome of ``answer``: passages with citations, or ``no_answer`` with a reason."""

    query_id: str
    no_answer: bool
    reason: NoAnswerReason | None
    message: str
    confidence: float
    answer: list[AnswerPassage] = field(default_factory=list)
    services: list[RelatedService] = field(default_factory=list)
    candidates: list[ActCandidate] = field(default_factory=list)
    signals: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``POST /v1/ask`` and ``xizmat ask --json``."""
        data = asdict(self)
        data.pop("signals")
        return data


_ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())


@lru_cache(maxsize=50_000)
def _word_variants(word: str) -> frozenset[str]:
    """The tokens a query word may stand for; none for a stop word of any of the languages, because
    the analyser of another language would keep it ("how" is no Uzbek stop word, "nima" no English one)."""
    if fold_apostrophes(word).replace("'", "").replace("ё", "е") in _ALL_STOPWORDS:
        return frozenset()
    return frozenset(DEFAULT_ANALYZER.analyze_query(word))


@lru_cache(maxsize=50_000)
def _sentence_tokens(text: str, lang: str) -> frozenset[str]:
    return frozenset(DEFAULT_ANALYZER.analyze(text, lang=lang))


def _content_words(searcher: HybridSearcher, question: str) -> list[frozenset[str]]:
    """Each content word of the question as the set of index tokens that would count as a match."""
    typos = searcher.lexical.typo_vocabulary
    words = []
    for word in dict.fromkeys(w.casefold() for w in _WORDS.findall(question)):
        tokens = set(_word_variants(word))
        if not tokens:
            continue  # a stop word
        for token in list(tokens):
            # Four-letter words are one edit from too many others ("bake" → "bank") to count as evidence.
            if len(token) >= 5 and token not in typos:
                tokens.update(typos.corrections(token, limit=2))
        expanded, _ = searcher.thesaurus.expand(sorted(tokens))
        words.append(frozenset(expanded))
    return words


def _coverage(words: list[frozenset[str]], tokens: frozenset[str]) -> float:
    return sum(1 for w in words if w & tokens) / len(words) if words else 0.0


def _split(chunk: Chunk) -> list[str]:
    """Sentences and points of a chunk, without a bare heading line."""
    parts = []
    for line in chunk.text.split("\n"):
        parts += [s.strip() for s in _SENTENCE_END.split(line) if s.strip()]
    return [p for p in parts if len(_WORDS.findall(p)) >= 3 and p != chunk.heading]


def _candidate(searcher: HybridSearcher, work_id: str, lang: str) -> ActCandidate:
    """An act with its article range, named in the question's language when a version in it exists."""
    work = searcher.catalog.works.get(work_id)
    if work is None:
        return ActCandidate(id=work_id, title=work_id, first_article="", last_article="")
    versions = [d for d in searcher.documents.values() if d["work_id"] == work_id]
    same = [d for d in versions if d["lang"].split("-")[0] == lang.split("-")[0]]
    title = next((d["short_title"] or d["title"] for d in same), work.title)
    first = work.article_ids[0] if work.article_ids else ""
    return ActCandidate(id=work_id, title=title, first_article=first, last_article=work.last_article)


def _verified(searcher: HybridSearcher, item: AnswerPassage) -> bool:
    chunk = searcher.chunks.get(item.chunk_id)
    ok = item.ref in searcher.by_ref and chunk is not None and chunk.ref == item.ref and chunk.doc_id == item.doc_id
    if not ok:
        logger.warning("dropped an answer citing %s (chunk %s): not in the index", item.ref, item.chunk_id)
    return ok


def _article_chunks(searcher: HybridSearcher, passage: Passage) -> list[Chunk]:
    return [searcher.chunks[i] for i in searcher.by_ref[passage.ref] if searcher.chunks[i].doc_id == passage.doc_id]


def _pick(
    searcher: HybridSearcher, passages: list[Passage], words: list[frozenset[str]], max_sentences: int,
    *, top_score: float,
) -> list[AnswerPassage]:
    scored: list[tuple[float, int, AnswerPassage]] = []
    order = 0
    for passage in passages:
        weight = ARTICLE_WEIGHT * (passage.score / top_score if top_score > 0 else 0.0)
        for chunk in _article_chunks(searcher, passage):
            for text in _split(chunk) or [chunk.text.strip()]:
                score = _coverage(words, _sentence_tokens(text, chunk.lang)) + weight
                item = AnswerPassage(text=text, citation=chunk.citation, ref=chunk.ref, chunk_id=chunk.id,
                                     doc_id=chunk.doc_id, article_id=chunk.article_id)
                scored.append((score, order, item))
                order += 1
    scored.sort(key=lambda t: (-t[0], t[1]))
    if not scored:
        return []
    best = scored[0][0]
    # The best sentence always; further ones only while they are nearly as good.
    return [item for score, _, item in scored[:max_sentences] if score >= 0.8 * best]


def answer(
    searcher: HybridSearcher,
    question: str,
    *,
    filters: SearchFilters | None = None,
    max_sentences: int = 3,
    max_query_chars: int = 1000,
    params: AnswerParams | None = None,
) -> Answer:
    """An extractive, cited answer to ``question``, or ``no_answer`` with a reason."""
    p = params or AnswerParams()
    if not 1 <= max_sentences <= 10:
        raise ValueError(f"max_sentences={max_sentences} is out of range; use 1 to 10")
    result = searcher.search(question, k=10, filters=filters, passages_per_group=3, max_query_chars=max_query_chars)
    query_id = result.query_id
    reference = result.reference or {}
    status = reference.get("status", "")
    if status in ("no_such_article", "no_such_act", "ambiguous"):
        reason: NoAnswerReason = "ambiguous_act" if status == "ambiguous" else status  # type: ignore[assignment]
        candidates = [_candidate(searcher, w, result.lang) for w in reference["candidates"]]
        message = reference["message"]
        if status == "no_such_article" and len(candidates) == 1:
            act = candidates[0]
            message = (f"{act.title} has no article {reference['article']}; its articles run from "
                       f"{act.first_article} to {act.last_article}")
        return Answer(query_id=query_id, no_answer=True, reason=reason, message=message, confidence=1.0,
                      candidates=candidates)
    passages = sorted((ps for g in result.groups for ps in g.passages), key=lambda ps: -ps.score)
    # Related services: the services among the top unpinned groups (a pinned reference scores above 1),
    # those scoring near the best of them. Not near the best group: heading re-scoring lifts a law article
    # met by the question's words well above the service that carries it out.
    near_top = [g for g in result.groups if g.score < 1.0][:RELATED_GROUPS]
    offered = [g for g in near_top if g.kind == "service"]
    floor = SERVICE_SHARE * max((g.score for g in offered), default=0.0)
    services = [RelatedService(id=g.id, title=g.title, url=g.url, authority=g.authority)
                for g in offered if g.score >= floor][:MAX_SERVICES]
    # In the form the search embeds and ranks (Uzbek Cyrillic in Latin), so that a Cyrillic question's
    # stop words ("учун", "қандай") are recognised as the Latin ones are, and both score alike.
    words = _content_words(searcher, searcher.query_form(question))
    if status == "found":
        pinned = [ps for ps in passages if ps.ref in reference["refs"]]
        # Words that only name the act and the article say nothing about which sentence answers.
        named = {t for w in _content_words(searcher, reference.get("act", "")) for t in w} | {reference["article"]}
        asked = [w for w in words if not (w & named) and not any(t.isdigit() for t in w)]
        items = _pick(searcher, pinned[:1], asked, max_sentences, top_score=1.0) if pinned else []
        items = [i for i in items if _verified(searcher, i)]
        if items:
            return Answer(query_id=query_id, no_answer=False, reason=None, message="", confidence=1.0,
                          answer=items, services=services)
    top = passages[: p.top_articles]
    article_tokens: frozenset[str] = frozenset()
    for passage in top:
        for chunk in _article_chunks(searcher, passage):
            article_tokens |= _sentence_tokens(chunk.text, chunk.lang)
    coverage = _coverage(words, article_tokens)
    dense = searcher.dense_hits(question, k=1)
    cosine = dense[0][1] if dense else 0.0
    dense_part = min(1.0, max(0.0, (cosine - p.cos_low) / (p.cos_high - p.cos_low)))
    evidence = p.coverage_weight * coverage + (1 - p.coverage_weight) * dense_part
    signals = {"coverage": round(coverage, 4), "cosine": round(cosine, 4), "words": float(len(words))}
    everyday = False
    if p.use_topic and searcher.topic is not None:
        logit = searcher.topic.logit(searcher.query_vector(question))  # the vector dense_hits just cached
        everyday = searcher.topic.everyday(logit)
        signals["topic"] = round(logit, 4)
    confidence = 0.0 if everyday else round(evidence, 4)
    if not top or confidence < p.threshold:
        lang = detect_language(question).tag
        logger.info("no answer (confidence %.3f, %s) for a %s question", confidence, signals, lang)
        message = "the indexed laws and services do not answer this question with enough evidence"
        if top and everyday:
            message = "the question reads as an everyday one, outside the topics of the indexed laws and services"
        return Answer(query_id=query_id, no_answer=True, reason="low_confidence", confidence=confidence,
                      message=message, signals=signals)
    items = [i for i in _pick(searcher, top, words, max_sentences, top_score=top[0].score) if _verified(searcher, i)]
    if not items:
        return Answer(query_id=query_id, no_answer=True, reason="low_confidence", confidence=0.0,
                      message="no passage of the top results could be verified in the index", signals=signals)
    return Answer(query_id=query_id, no_answer=False, reason=None, message="", confidence=confidence,
                  answer=items, services=services, signals=signals)
