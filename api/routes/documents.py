"""Documents with their structure, whole articles, and chunks with their neighbours.

The handlers are ``async``: each does a few sub-millisecond SQLite reads, and running them on the
event loop keeps the one read-only connection on one thread.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel

from api.deps import StoreDep
from api.errors import NotFoundError
from ingest.chunking import CHUNK_ID_MAX
from ingest.errors import ConfigError
from ingest.records import Chunk, make_ref
from ingest.structure import normalize_article_number

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["documents"])

_META = ("id", "work_id", "title", "short_title", "kind", "number", "adopted", "authority", "category",
         "lang", "script", "url", "status", "status_date", "version", "updated_at")


class ArticleEntry(BaseModel):
    id: str
    display: str
    title: str


class ChapterEntry(BaseModel):
    title: str
    articles: list[ArticleEntry]


class SectionEntry(BaseModel):
    title: str
    chapters: list[ChapterEntry]


class DocumentOut(BaseModel):
    """A document's metadata and its section › chapter › article tree (empty titles: no such level)."""

    id: str
    work_id: str
    title: str
    short_title: str
    kind: str
    number: str
    adopted: str
    authority: str
    category: str
    lang: str
    script: str
    url: str
    status: str
    status_date: str
    version: int
    updated_at: str
    preamble: str
    articles: int
    sections: list[SectionEntry]


class PointOut(BaseModel):
    number: str
    text: str


class ArticleOut(BaseModel):
    """The whole text of one article with its points and its citation."""

    doc_id: str
    ref: str
    id: str
    display: str
    title: str
    section: str
    chapter: str
    citation: str
    text: str
    points: list[PointOut]


class ChunkOut(BaseModel):
    id: int
    doc_id: str
    ref: str
    article_id: str
    point: str
    seq: int
    text: str
    heading: str
    citation: str
    path: dict[str, str]
    lang: str
    script: str


class ChunkContext(BaseModel):
    """A chunk with the chunks before and after it in the same document (null at the edges)."""

    chunk: ChunkOut
    previous: ChunkOut | None
    next: ChunkOut | None


def _document(store: Any, doc_id: str) -> Any:
    doc = store.get_document(doc_id)
    if doc is None:
        raise NotFoundError(
            f"no document {doc_id!r}; take ids from search results", code="document_not_found"
        )
    return doc


@router.get(
    "/documents/{doc_id}", response_model=DocumentOut, responses={404: {"description": "document_not_found"}}
)
async def get_document(doc_id: str, store: StoreDep) -> Any:
    """Metadata and the table of contents of a document."""
    doc = _document(store, doc_id)
    sections: list[dict[str, Any]] = []
    articles = store.articles(doc_id)
    for article in articles:
        if not sections or sections[-1]["title"] != article.section:
            sections.append({"title": article.section, "chapters": []})
        chapters = sections[-1]["chapters"]
        if not chapters or chapters[-1]["title"] != article.chapter:
            chapters.append({"title": article.chapter, "articles": []})
        entry = {"id": article.article_id, "display": article.display, "title": article.title}
        chapters[-1]["articles"].append(entry)
    data = doc.as_dict()
    meta = {k: data[k] for k in _META}
    return {**meta, "preamble": data["preamble"], "articles": len(articles), "sections": sections}


@router.get(
    "/documents/{doc_id}/articles/{article_id}",
    response_model=ArticleOut,
    responses={404: {"description": "document_not_found, article_not_found"}},
)
async def get_article(doc_id: str, article_id: str, store: StoreDep) -> Any:
    """One article in full; ``article_id`` as in the tree ("15.1") or as written ("15¹", "15-1")."""
    doc = _document(store, doc_id)
    article = store.article(doc_id, article_id)
    if article is None:
        try:
            article = store.article(doc_id, normalize_article_number(article_id))
        except ConfigError:
            article = None
    if article is None:
        raise NotFoundError(
            f"document {doc_id!r} has no article {article_id!r}; see /v1/documents/{doc_id} for its articles",
            code="article_not_found",
        )
    chunks = [c for c in store.chunks(doc_id=doc_id) if c.article_id == article.article_id]
    whole = [c for c in chunks if not c.point]
    fallback = f"{doc.short_title or doc.title}, {article.display}"
    citation = (whole or chunks)[0].citation if chunks else fallback
    return {
        "doc_id": doc_id, "ref": make_ref(doc.work_id, article.article_id), "id": article.article_id,
        "display": article.display, "title": article.title, "section": article.section,
        "chapter": article.chapter, "citation": citation, "text": article.text,
        "points": [{"number": p.number, "text": p.text} for p in article.points],
    }


def _chunk_out(chunk: Chunk | None) -> dict[str, Any] | None:
    if chunk is None:
        return None
    return {
        "id": chunk.id, "doc_id": chunk.doc_id, "ref": chunk.ref, "article_id": chunk.article_id,
        "point": chunk.point, "seq": chunk.seq, "text": chunk.text, "heading": chunk.heading,
        "citation": chunk.citation, "path": chunk.path.as_dict(), "lang": chunk.lang, "script": chunk.script,
    }


@router.get(
    "/chunks/{chunk_id}",
    response_model=ChunkContext,
    responses={404: {"description": "chunk_not_found"}, 422: {"description": "invalid_chunk_id"}},
)
async def get_chunk(chunk_id: Annotated[int, Path(ge=1, le=CHUNK_ID_MAX)], store: StoreDep) -> Any:
    """A passage with its neighbours, to read it in context."""
    chunk = store.chunk(chunk_id)
    if chunk is None:
        raise NotFoundError(f"no chunk {chunk_id}; the index may have been rebuilt, search again",
                            code="chunk_not_found")
    siblings = list(store.chunks(doc_id=chunk.doc_id))
    at = next(i for i, c in enumerate(siblings) if c.id == chunk.id)
    return {
        "chunk": _chunk_out(chunk),
        "previous": _chunk_out(siblings[at - 1] if at > 0 else None),
        "next": _chunk_out(siblings[at + 1] if at + 1 < len(siblings) else None),
    }
