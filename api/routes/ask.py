"""``POST /v1/ask``: an extractive, cited answer for agents (the JSON of ``xizmat ask --json``)."""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.deps import SearcherDep, SettingsDep
from api.querylog import log_query
from ingest.langid import detect_language
from index.answer import answer
from index.search import SearchFilters

__all__ = ["AskRequest", "AskResponse", "router"]

router = APIRouter(prefix="/v1", tags=["ask"])


class AskRequest(BaseModel):
    """A question in Uzbek (Latin or Cyrillic), Russian or English, with optional search filters."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [
            {"question": "Murojaat qancha muddatda koʻrib chiqiladi?", "filters": {}},
            {"question": "Закон об обращениях, статья 12", "filters": {"lang": "ru"}},
        ]},
    )

    question: str = Field(description="The caller's question, or a reference such as `15¹-modda`")
    filters: dict[str, str] = Field(
        default_factory=dict,
        description="lang, kind, act, authority, category, status, script, date_from, date_to (as in /v1/search)",
    )


class AnswerPassageOut(BaseModel):
    """A sentence or point that answers; GET /v1/documents/{doc_id}/articles/{article_id} gives the article."""

    text: str
    citation: str
    ref: str
    chunk_id: int
    doc_id: str
    article_id: str


class ServiceOut(BaseModel):
    """A related public service."""

    id: str
    title: str
    url: str
    authority: str


class CandidateOut(BaseModel):
    """An act the question may mean, with the range of its articles."""

    id: str
    title: str
    first_article: str
    last_article: str


_ANSWERED: dict[str, Any] = {
    "query_id": "0f1d2c3b4a5948e7a6b5c4d3e2f10a9b", "no_answer": False, "reason": None, "message": "",
    "confidence": 1.0,
    "answer": [{
        "text": "Ariza yoki shikoyat koʻrib chiqish uchun zarur boʻlgan qoʻshimcha oʻrganish talab etilmasa, "
                "oʻn besh kun ichida, qolgan hollarda bir oy ichida koʻrib chiqiladi.",
        "citation": "Murojaatlar toʻgʻrisidagi qonun, 12-modda", "ref": "law-appeals::12",
        "chunk_id": 6815931538165375512, "doc_id": "law-appeals.uz-latn", "article_id": "12",
    }],
    "services": [{"id": "svc-appeal-to-authority", "title": "Davlat organiga murojaat (ariza, taklif, shikoyat) yuborish",
                  "url": "https://my.gov.uz/", "authority": "Murojaat yuborilgan davlat organi"}],
    "candidates": [],
}
_NO_SUCH_ARTICLE: dict[str, Any] = {
    "query_id": "5b6a7c8d9e0f41a2b3c4d5e6f7a8b9c0", "no_answer": True, "reason": "no_such_article",
    "message": "Закон об обращениях has no article 99; its articles run from 1 to 22", "confidence": 1.0,
    "answer": [], "services": [],
    "candidates": [{"id": "law-appeals", "title": "Закон об обращениях", "first_article": "1", "last_article": "22"}],
}
_OUT_OF_SCOPE: dict[str, Any] = {
    "query_id": "9a8b7c6d5e4f43a2b1c0d9e8f7a6b5c4", "no_answer": True, "reason": "low_confidence",
    "message": "the indexed laws and services do not answer this question with enough evidence",
    "confidence": 0.0, "answer": [], "services": [], "candidates": [],
}


class AskResponse(BaseModel):
    """Either ``answer`` passages with citations, or ``no_answer`` with a ``reason``:
    ``no_such_article``, ``no_such_act``, ``ambiguous_act`` (see ``candidates``) or ``low_confidence``."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ANSWERED, _NO_SUCH_ARTICLE, _OUT_OF_SCOPE]})

    query_id: str
    no_answer: bool
    reason: Literal["no_such_article", "no_such_act", "ambiguous_act", "low_confidence"] | None
    message: str
    confidence: float = Field(ge=0.0, le=1.0)
    answer: list[AnswerPassageOut]
    services: list[ServiceOut]
    candidates: list[CandidateOut]


@router.post(
    "/ask",
    response_model=AskResponse,
    summary="Answer a question with cited sentences, or say why there is no answer",
    responses={422: {"description": "empty_query, query_too_long, unknown_filter, invalid_filter, invalid_request"},
               503: {"description": "index_not_ready"}},
)
def ask(request: Request, body: AskRequest, searcher: SearcherDep, settings: SettingsDep) -> Any:
    """The sentences or points that answer ``question``, each with a citation verified in the index."""
    started = time.perf_counter()
    filters = SearchFilters.from_mapping({k: v.strip() for k, v in body.filters.items() if v.strip()})
    result = answer(searcher, body.question, filters=filters, max_query_chars=settings.max_query_chars)
    guess = detect_language(body.question)
    # Logged like every search, so that "this answered the caller" feedback can refer to it.
    log_query(
        request, query_id=result.query_id, query=body.question, latency_ms=(time.perf_counter() - started) * 1000,
        results=[{"id": a.doc_id, "refs": [a.ref], "chunk_ids": [a.chunk_id]} for a in result.answer],
        lang=guess.tag, script=guess.script, generation=searcher.generation.manifest.generation,
        no_answer=result.no_answer, reason=result.reason or "",
    )
    return result.as_dict()
