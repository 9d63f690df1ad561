"""Immutable records that flow through ingest: documents, articles and chunks.

A *work* is an act independent of its language (the Labour Code); a *document* is one language
version of it (the Labour Code in Russian). References (`ref`) name the work, so the same article in
Uzbek and in Russian shares one `ref`: ``mehnat_kodeksi::253``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "DOCUMENT_KINDS",
    "DOCUMENT_STATUSES",
    "SERVICE_FIELDS",
    "Article",
    "Chunk",
    "CitationPath",
    "Document",
    "DocumentKind",
    "DocumentStatus",
    "Point",
    "make_ref",
]

DocumentKind = Literal["code", "law", "decree", "resolution", "regulation", "service", "other"]
DocumentStatus = Literal["in_force", "repealed", "amended", "unknown"]

DOCUMENT_KINDS: tuple[str, ...] = ("code", "law", "decree", "resolution", "regulation", "service", "other")
DOCUMENT_STATUSES: tuple[str, ...] = ("in_force", "repealed", "amended", "unknown")

# The elements of a complete public-service description, in the order a citizen needs them.
SERVICE_FIELDS: tuple[str, ...] = (
    "summary",
    "who_may_apply",
    "documents",
    "fee",
    "time_limit",
    "result",
    "channels",
    "authority",
    "legal_basis",
    "appeal",
)


def make_ref(work_id: str, article_id: str) -> str:
    """The stable citation key of an article (or service field): ``<work id>::<article id>``."""
    return f"{work_id}::{article_id}"


@dataclass(frozen=True)
class Point:
    """A numbered point (band, пункт, paragraph) inside an article."""

    number: str
    text: str


@dataclass(frozen=True)
class Article:
    """The unit of citation: an article (modda, статья), a top-level point of a regulation, or a
    field of a service description.

    ``article_id`` is normalised ("480.1" for article 480¹); ``display`` is how the act writes it.
    """

    article_id: str
    display: str
    title: str
    text: str
    section: str = ""
    chapter: str = ""
    points: tuple[Point, ...] = ()


@dataclass(frozen=True)
class Document:
    """One language version of an act or a service description, with its structure."""

    id: str
    work_id: str
    title: str
    kind: DocumentKind
    lang: str
    script: str
    source: str
    articles: tuple[Article, ...]
    number: str = ""
    adopted: str = ""
    authority: str = ""
    url: str = ""
    status: DocumentStatus = "in_force"
    status_date: str = ""
    short_title: str = ""
    category: str = ""
    preamble: str = ""
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """The whole text, articles joined, for hashing and language detection."""
        parts = [self.preamble] + [f"{a.display} {a.title}\n{a.text}" for a in self.articles]
        return "\n\n".join(p for p in parts if p)


@dataclass(frozen=True)
class CitationPath:
    """Where a chunk sits in its act: act title › section › chapter › article › point."""

    act: str
    section: str = ""
    chapter: str = ""
    article: str = ""
    point: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "act": self.act,
            "section": self.section,
            "chapter": self.chapter,
            "article": self.article,
            "point": self.point,
        }


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: never crosses an article boundary.

    ``id`` is a stable positive 63-bit integer (FAISS ``IndexIDMap2`` id) derived from the document,
    the article, the position and the text, so unchanged chunks keep their ids across re-ingests.
    """

    id: int
    doc_id: str
    ref: str
    article_id: str
    point: str
    seq: int
    text: str
    heading: str
    citation: str
    path: CitationPath
    lang: str
    script: str
    tokens: int
