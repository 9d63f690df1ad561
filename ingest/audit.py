"""The completeness audit of every stored service: extract, compare with the cited regulation, score.

A service's regulation is the set of articles its ``legal_basis_refs`` name (``reg-civil-status::14``),
read from the store in the service's language when that version exists, else in any language. A
translation without references of its own borrows its work's, as the service card does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from ingest.completeness import extract_description, extract_regulation
from ingest.completeness_score import AuthorityScore, ServiceScore, aggregate, score_service
from ingest.normalize import normalize_key
from ingest.records import Article
from ingest.store import Store, StoredDocument
from ingest.structure import normalize_article_number

__all__ = ["AuditReport", "audit_services"]

logger = logging.getLogger(__name__)

_LANGS = ("uz-Latn", "uz-Cyrl", "ru", "en")


@dataclass(frozen=True)
class AuditReport:
    """Scores per service (worst first) and per authority."""

    services: tuple[ServiceScore, ...]
    authorities: tuple[AuthorityScore, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "services": [s.as_dict() for s in self.services],
            "authorities": [a.as_dict() for a in self.authorities],
            "count": len(self.services),
        }


def _refs(doc: StoredDocument) -> list[str]:
    raw = str(json.loads(doc.extra or "{}").get("legal_basis_refs", ""))
    return [r.strip() for r in raw.split(",") if r.strip()]


def _article_id(raw: str) -> str:
    try:
        return normalize_article_number(raw)
    except Exception:  # a malformed ref is reported as unresolved, never fatal
        return raw


def _regulation_articles(
    store: Store, refs: Iterable[str], lang: str, by_work: dict[str, list[StoredDocument]]
) -> tuple[list[tuple[str, str, str, Article]], list[str]]:
    found: list[tuple[str, str, str, Article]] = []
    unresolved: list[str] = []
    for ref in refs:
        work_id, _, raw_article = ref.partition("::")
        versions = sorted(by_work.get(work_id, []), key=lambda d: (d.lang != lang, d.id))
        article = None
        for doc in versions:
            if doc.lang not in _LANGS:
                continue
            article = store.article(doc.id, raw_article) or store.article(doc.id, _article_id(raw_article))
            if article is not None:
                found.append((doc.id, work_id, doc.lang, article))
                break
        if article is None:
            unresolved.append(ref)
    return found, unresolved


def audit_services(store: Store, *, authority: str | None = None) -> AuditReport:
    """Score every live service in the store; ``authority`` keeps those whose authority contains it."""
    documents = store.documents()
    services = [d for d in documents if d.kind == "service"]
    by_work: dict[str, list[StoredDocument]] = {}
    for doc in documents:
        if doc.kind != "service":
            by_work.setdefault(doc.work_id, []).append(doc)
    work_refs: dict[str, list[str]] = {}
    for doc in services:
        if _refs(doc):
            work_refs.setdefault(doc.work_id, _refs(doc))
    wanted = normalize_key(authority, lang="uz") if authority else ""
    scores = []
    for doc in services:
        if wanted and wanted not in normalize_key(doc.authority or "", lang="uz"):
            continue
        lang = doc.lang if doc.lang in _LANGS else "en"
        refs = _refs(doc) or work_refs.get(doc.work_id, [])
        fields = {a.article_id: a.text for a in store.articles(doc.id)}
        description = extract_description(
            fields, lang=lang, doc_id=doc.id, work_id=doc.work_id, legal_basis_refs=refs
        )
        articles, unresolved = _regulation_articles(store, refs, lang, by_work)
        if unresolved:
            logger.info("service %s cites %s, which the store does not hold", doc.id, ", ".join(unresolved))
        regulation = extract_regulation(articles) if articles else {}
        scores.append(score_service(
            service_id=doc.id, work_id=doc.work_id, title=doc.title, lang=doc.lang, authority=doc.authority or "",
            description=description, regulation=regulation,
        ))
    scores.sort(key=lambda s: (s.score, s.service_id))
    return AuditReport(services=tuple(scores), authorities=aggregate(scores))
