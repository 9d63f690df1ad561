"""``GET /v1/search``: the same JSON as ``xizmat search --json``."""

from __future__ import annotations

import time
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from api.deps import SearcherDep, SettingsDep
from api.querylog import log_query, shown_results
from index.search import FILTER_FIELDS, QueryError, SearchFilters

__all__ = ["PassageOut", "GroupOut", "SearchResponse", "router"]

router = APIRouter(prefix="/v1", tags=["search"])

ALLOWED_PARAMS = ("q", "k", "page", "lang", *FILTER_FIELDS)


class CitationPathOut(BaseModel):
    """Where a passage sits: act › section › chapter › article › point."""

    act: str
    section: str
    chapter: str
    article: str
    point: str


class PassageOut(BaseModel):
    """A cited passage; ``highlights`` are [start, end) character offsets of matched words."""

    chunk_id: int
    ref: str
    doc_id: str
    text: str
    citation: str
    highlights: list[list[int]]
    score: float
    path: CitationPathOut


class GroupOut(BaseModel):
    """A document or service with its best passages."""

    id: str
    kind: str
    title: str
    url: str
    status: str
    score: float
    passages: list[PassageOut]
    lang: str
    authority: str


class ReferenceOut(BaseModel):
    """A legal reference found in the query ("15¹-modda", "статья 15") and how it resolved."""

    status: str
    refs: list[str]
    candidates: list[str]
    message: str
    article: str
    act: str


_EXAMPLE = {
    "query_id": "4eb52a1c9f75414cbdd7e77ff4434bc6", "lang": "uz-Latn", "script": "Latn", "total_groups": 1,
    "groups": [{
        "id": "law-appeals.uz-latn", "kind": "law",
        "title": "Jismoniy va yuridik shaxslarning murojaatlari toʻgʻrisida",
        "url": "", "status": "in_force", "score": 1.032, "lang": "uz-Latn",
        "authority": "Oʻzbekiston Respublikasi Oliy Majlisi",
        "passages": [{
            "chunk_id": 4495448152933876860, "ref": "law-appeals::15.1", "doc_id": "law-appeals.uz-latn",
            "text": "Arizachining iltimosiga koʻra shaxsiy qabul videokonferensaloqa rejimida oʻtkaziladi.",
            "citation": "Murojaatlar toʻgʻrisidagi qonun, 15¹-modda", "highlights": [[0, 12]], "score": 1.032,
            "path": {"act": "Murojaatlar toʻgʻrisidagi qonun", "section": "", "chapter": "",
                     "article": "15¹-modda", "point": ""},
        }],
    }],
    "reference": {"status": "found", "refs": ["law-appeals::15.1"], "candidates": [], "message": "",
                  "article": "15.1", "act": "murojaatlar to'g'risidagi qonun"},
}


class SearchResponse(BaseModel):
    """Groups best first, with what was understood of the query (language, script, reference)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    query_id: str
    lang: str
    script: str
    groups: list[GroupOut]
    total_groups: int
    reference: ReferenceOut | None


def search_filters(
    request: Request,
    lang: str = Query("", description="uz, uz-Latn, uz-Cyrl, ru or en"),
    kind: str = Query("", description="code, law, decree, resolution, regulation, service, other"),
    act: str = Query("", description="a document id or work id"),
    authority: str = Query("", description="part of the issuing authority's name"),
    category: str = Query("", description="a service category"),
    status: str = Query("", description="in_force, repealed, amended, unknown"),
    script: str = Query("", description="Latn or Cyrl"),
    date_from: str = Query("", description="adopted on or after (YYYY-MM-DD)"),
    date_to: str = Query("", description="adopted on or before (YYYY-MM-DD)"),
) -> SearchFilters:
    """The filters of a search; an unknown query parameter is 422 ``unknown_filter``."""
    unknown = sorted(set(request.query_params) - set(ALLOWED_PARAMS))
    if unknown:
        raise QueryError(
            f"unknown parameter {', '.join(unknown)}; allowed: {', '.join(ALLOWED_PARAMS)}",
            code="unknown_filter",
        )
    counts = Counter(name for name, _ in request.query_params.multi_items())
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        raise QueryError(
            f"parameter {', '.join(repeated)} is given more than once; give each at most once",
            code="invalid_filter",
        )
    values = {
        "lang": lang, "kind": kind, "act": act, "authority": authority, "category": category,
        "status": status, "script": script, "date_from": date_from, "date_to": date_to,
    }
    return SearchFilters.from_mapping({k: v.strip() for k, v in values.items() if v.strip()})


FiltersDep = Annotated[SearchFilters, Depends(search_filters)]


@router.get(
    "/search",
    response_model=SearchResponse,
    summary="Search laws and services in Uzbek (Latin or Cyrillic), Russian or English",
    responses={422: {"description": "empty_query, query_too_long, invalid_k, invalid_page, unknown_filter, "
                                    "invalid_filter"},
               503: {"description": "index_not_ready"}},
)
def search(
    request: Request,
    filters: FiltersDep,
    searcher: SearcherDep,
    settings: SettingsDep,
    q: str = Query("", description="The question or reference, e.g. `15¹-modda` or `статья 15`"),
    k: int = Query(10, description="Groups per page (1-100)"),
    page: int = Query(1, description="Page of groups (1-100)"),
) -> Any:
    """Ranked groups with cited, highlighted passages (the shape of `xizmat search --json`)."""
    started = time.perf_counter()
    result = searcher.search(q, k=k, page=page, filters=filters, max_query_chars=settings.max_query_chars)
    body = result.as_dict()
    log_query(
        request, query_id=result.query_id, query=q, latency_ms=(time.perf_counter() - started) * 1000,
        results=shown_results(body["groups"]), lang=result.lang, script=result.script,
        generation=searcher.generation.manifest.generation, no_answer=not result.groups,
        reason="" if result.groups else "no_results",
    )
    return body
