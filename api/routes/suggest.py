"""``GET /v1/suggest``: search-as-you-type over service and act titles."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from api.deps import SuggesterDep
from index.suggest import MAX_K

__all__ = ["SuggestResponse", "router"]

router = APIRouter(prefix="/v1", tags=["suggest"])


class SuggestionOut(BaseModel):
    """A service (``kind`` = service) or an act whose title matches what was typed."""

    id: str
    kind: str
    title: str
    lang: str
    url: str


class SuggestResponse(BaseModel):
    """Suggestions best first: title prefix, then word prefix, then one typo; shorter titles first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "q": "haydovchilik g",
        "suggestions": [
            {"id": "svc-driving-licence", "kind": "service", "title": "Haydovchilik guvohnomasini olish",
             "lang": "uz-Latn", "url": "https://my.gov.uz/"},
            {"id": "svc-driving-licence-replacement", "kind": "service",
             "title": "Haydovchilik guvohnomasini almashtirish yoki yoʻqolgani oʻrniga yangisini olish",
             "lang": "uz-Latn", "url": "https://my.gov.uz/"},
        ],
    }]})

    q: str
    suggestions: list[SuggestionOut]


@router.get(
    "/suggest",
    response_model=SuggestResponse,
    summary="Complete a service or act title as it is typed (any script, any apostrophe, one typo)",
    responses={422: {"description": "empty_query, query_too_long, invalid_k"},
               503: {"description": "index_not_ready"}},
)
async def suggest(
    suggester: SuggesterDep,
    q: str = Query("", description="What has been typed so far, e.g. `roʻyx`, `рўйх`, `регистр`, `pasprt`"),
    k: int = Query(8, ge=1, le=MAX_K, description=f"Suggestions to return (1-{MAX_K})"),
) -> Any:
    """Titles of services and acts matching the typed prefix (on the event loop: about a millisecond)."""
    return {"q": q, "suggestions": [s.as_dict() for s in suggester.suggest(q, k=k)]}
