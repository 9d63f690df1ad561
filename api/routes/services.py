"""``GET /v1/services/{id}``: one public service as a card of cited fields.

The service and its citations come from the served index (the ids search returns); the fields' whole
text comes from the store. Legal-basis references are kept only when the index holds them.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.deps import SearcherDep, StoreDep
from api.errors import NotFoundError
from index.search import HybridSearcher
from ingest.errors import ConfigError
from ingest.records import SERVICE_FIELDS, Chunk, make_ref
from ingest.structure import normalize_article_number

__all__ = ["ServiceOut", "router"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["services"])


class ServiceFieldOut(BaseModel):
    """One field of the service: its name in the service's language, its text and its citation."""

    name: str
    text: str
    citation: str
    ref: str


class TranslationOut(BaseModel):
    """The same service in another language."""

    id: str
    lang: str
    title: str


class LegalBasisOut(BaseModel):
    """An article the service rests on, found in the index; GET /v1/documents/{doc_id}/articles/{article_id}."""

    ref: str
    doc_id: str
    article_id: str
    citation: str


_EXAMPLE: dict[str, Any] = {
    "id": "svc-id-card", "work_id": "svc-id-card", "title": "ID-karta olish yoki almashtirish", "lang": "uz-Latn",
    "authority": "Oʻzbekiston Respublikasi Ichki ishlar vazirligi", "category": "Shaxsni tasdiqlovchi hujjatlar",
    "url": "https://my.gov.uz/", "status": "in_force",
    "fields": {"fee": {
        "name": "Davlat boji / Toʻlov",
        "text": "Qonunchilikda belgilangan miqdorda davlat boji (bazaviy hisoblash miqdoriga nisbatan).",
        "citation": "ID-karta olish yoki almashtirish, Davlat boji / Toʻlov", "ref": "svc-id-card::fee",
    }},
    "missing": [],
    "translations": [{"id": "svc-id-card.ru", "lang": "ru", "title": "Получение или замена ID-карты"}],
    "legal_basis_refs": [{"ref": "reg-passport-id::5", "doc_id": "reg-passport-id.uz-latn", "article_id": "5",
                          "citation": "Pasport nizomi, 5-band"}],
    "unresolved_refs": [],
}


class ServiceOut(BaseModel):
    """A service card: the fields present (keyed as in ``missing``), translations and the verified legal basis.

    Field keys: summary, who_may_apply, documents, fee, time_limit, result, channels, authority,
    legal_basis, appeal. ``unresolved_refs`` lists legal-basis references the index does not hold.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: str
    work_id: str
    title: str
    lang: str
    authority: str
    category: str
    url: str
    status: str
    fields: dict[str, ServiceFieldOut]
    missing: list[str]
    translations: list[TranslationOut]
    legal_basis_refs: list[LegalBasisOut]
    unresolved_refs: list[str]


def _chunks_of(searcher: HybridSearcher, ref: str, doc_id: str) -> list[Chunk]:
    return [searcher.chunks[i] for i in searcher.by_ref.get(ref, ()) if searcher.chunks[i].doc_id == doc_id]


def _resolve(searcher: HybridSearcher, ref: str, lang: str) -> dict[str, str] | None:
    """The indexed article a ``work::article`` reference names, shown in ``lang`` when it exists in it."""
    ids = searcher.by_ref.get(ref)
    if not ids:
        work, _, article = ref.partition("::")
        try:
            ids = searcher.by_ref.get(make_ref(work, normalize_article_number(article)))
        except ConfigError:
            ids = None
    if not ids:
        return None
    chunks = [searcher.chunks[i] for i in ids]
    same = [c for c in chunks if c.lang.split("-")[0] == lang.split("-")[0]] or chunks
    chunk = next((c for c in same if not c.point), same[0])
    return {"ref": chunk.ref, "doc_id": chunk.doc_id, "article_id": chunk.article_id, "citation": chunk.citation}


def _legal_basis_refs(doc: dict[str, Any], others: list[dict[str, Any]]) -> list[str]:
    """The refs in the service's ``extra``; a translation without any borrows its work's (the law is the same)."""
    for candidate in (doc, *others):
        raw = str((candidate.get("extra") or {}).get("legal_basis_refs", ""))
        if raw.strip():
            return [r.strip() for r in raw.split(",") if r.strip()]
    return []


@router.get(
    "/services/{service_id}",
    response_model=ServiceOut,
    summary="A public service with its fields, each cited, its translations and its legal basis",
    responses={404: {"description": "service_not_found"}, 503: {"description": "index_not_ready"}},
)
async def get_service(service_id: str, searcher: SearcherDep, store: StoreDep) -> Any:
    """The card of a service id taken from search or suggest results."""
    doc = searcher.documents.get(service_id)
    if doc is None or doc["kind"] != "service":
        raise NotFoundError(
            f"no service {service_id!r}; take service ids from /v1/suggest or /v1/search results "
            "(groups of kind `service`)",
            code="service_not_found",
        )
    texts = {a.article_id: a.text for a in store.articles(service_id)}
    fields: dict[str, dict[str, str]] = {}
    for key in SERVICE_FIELDS:
        ref = make_ref(doc["work_id"], key)
        chunks = _chunks_of(searcher, ref, service_id)
        if not chunks:
            continue
        first = chunks[0]
        # The store holds the field whole; the chunks are the fallback when the store is behind the index.
        text = texts.get(key) or "\n".join(c.text for c in chunks)
        fields[key] = {"name": first.path.article or key, "text": text, "citation": first.citation, "ref": ref}
    others = [d for d in searcher.documents.values() if d["work_id"] == doc["work_id"] and d["id"] != service_id]
    resolved, unresolved = [], []
    for ref in _legal_basis_refs(doc, others):
        found = _resolve(searcher, ref, doc["lang"])
        if found is None:
            logger.warning("service %s cites %s, which the index does not hold", service_id, ref)
            unresolved.append(ref)
        else:
            resolved.append(found)
    return {
        **{k: doc[k] for k in ("id", "work_id", "title", "lang", "authority", "category", "url", "status")},
        "fields": fields,
        "missing": [key for key in SERVICE_FIELDS if key not in fields],
        "translations": [{"id": d["id"], "lang": d["lang"], "title": d["title"]}
                         for d in sorted(others, key=lambda d: d["id"])],
        "legal_basis_refs": resolved,
        "unresolved_refs": unresolved,
    }
