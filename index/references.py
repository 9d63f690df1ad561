"""Exact legal references in a query: "253-modda", "статья 253", "Mehnat kodeksi 131", "ТК ст. 77".

References are resolved against the catalogue of acts in the index *before* semantic ranking, so an
existing article is returned exactly and a nonexistent one is recognised as such (never replaced by
a near match). An abbreviation matching several acts yields the candidates instead of a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ingest.normalize import normalize_key
from ingest.structure import normalize_article_number

__all__ = ["ActCatalog", "LegalReference", "Resolution", "WorkInfo", "find_references"]

_SUP = "¹²³⁴⁵⁶⁷⁸⁹⁰"
_NUM = rf"(\d+(?:[.-]\d+|[{_SUP}]+)?)"
_ARTICLE_PATTERNS = (
    re.compile(rf"(?<![\w.]){_NUM}\s*-?\s*(?:modda|модда)\w*"),
    re.compile(rf"(?:стать[яиеюй]\w*|ст\.)\s*{_NUM}(?![\w])"),
    re.compile(rf"(?:article|art\.)\s*{_NUM}(?![\w])"),
)
_POINT_PATTERNS = (
    re.compile(r"(?<![\w.])(\d+)\s*-?\s*(?:band|банд)\w*"),
    re.compile(r"(?:пункт\w*|п\.)\s*(\d+)(?![\w])"),
    re.compile(r"(?:paragraph|para\.)\s*(\d+)(?![\w])"),
)
_UNKNOWN_ACT = (
    re.compile(r"(?<!\w)([a-z'ʻ-]{3,})\s+kodeks(?:i|ida|iga|ining|idagi)?(?!\w)"),
    re.compile(r"(?<!\w)([а-яё-]{4,}(?:ый|ий|ой))\s+кодекс\w*"),
    re.compile(r"(?<!\w)([a-z-]{3,})\s+code(?!\w)"),
)

ResolutionStatus = Literal["found", "no_such_article", "no_such_act", "ambiguous", "act_only", "unscoped"]


@dataclass(frozen=True)
class LegalReference:
    """A reference found in a query: the act(s) it names (if any), the article and point (if any)."""

    work_ids: tuple[str, ...] = ()
    act_text: str = ""
    article_id: str = ""
    point: str = ""
    unknown_act: str = ""


@dataclass(frozen=True)
class WorkInfo:
    """What the index holds of one act: its names and its article ids in order."""

    work_id: str
    title: str
    article_ids: tuple[str, ...]
    names: tuple[str, ...] = ()

    @property
    def last_article(self) -> str:
        return self.article_ids[-1] if self.article_ids else ""


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving a reference against the catalogue."""

    status: ResolutionStatus
    refs: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    message: str = ""
    reference: LegalReference = field(default_factory=LegalReference)


def _load_aliases() -> dict[str, tuple[str, ...]]:
    text = (Path(__file__).parent / "data" / "act_aliases.tsv").read_text(encoding="utf-8")
    aliases: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        alias, works = line.split("\t")
        aliases[normalize_key(alias)] = tuple(w.strip() for w in works.split(",") if w.strip())
    return aliases


def _number_key(article_id: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in article_id.split("."))


class ActCatalog:
    """Acts by name (titles, short titles, common abbreviations) with the articles each holds."""

    def __init__(self, works: Mapping[str, WorkInfo], *, extra_aliases: Mapping[str, tuple[str, ...]] | None = None):
        self.works = dict(works)
        aliases = {k: v for k, v in (extra_aliases if extra_aliases is not None else _load_aliases()).items()}
        for info in self.works.values():
            for name in info.names:
                key = normalize_key(name)
                if key and len(key) >= 4:
                    aliases.setdefault(key, (info.work_id,))
        # Keep aliases whose acts are actually present (an alias to an absent act is not "no such act").
        self.aliases = {
            a: tuple(w for w in works_ if w in self.works) for a, works_ in aliases.items()
        }
        self.aliases = {a: w for a, w in self.aliases.items() if w}
        ordered = sorted(self.aliases, key=len, reverse=True)
        parts = [re.escape(a) + (r"\w*" if len(a) >= 6 else r"(?!\w)") for a in ordered]
        self._alias_re = re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")") if parts else None
        self._alias_lookup = [(re.compile(p), a) for p, a in zip(parts, ordered, strict=True)]

    @classmethod
    def from_articles(cls, rows: Iterable[tuple[str, str, str]], titles: Mapping[str, Iterable[str]]) -> ActCatalog:
        """Build from ``(work_id, article_id, title)`` rows and each work's names."""
        by_work: dict[str, set[str]] = {}
        for work_id, article_id, _ in rows:
            by_work.setdefault(work_id, set()).add(article_id)
        works = {}
        for work_id, ids in by_work.items():
            names = tuple(titles.get(work_id, ()))
            works[work_id] = WorkInfo(
                work_id=work_id, title=names[0] if names else work_id,
                article_ids=tuple(sorted(ids, key=_number_key)), names=names,
            )
        return cls(works)

    def _match_alias(self, text: str) -> tuple[str, tuple[str, ...], int] | None:
        if self._alias_re is None:
            return None
        match = self._alias_re.search(text)
        if not match:
            return None
        found = match.group(0)
        for pattern, alias in self._alias_lookup:
            if pattern.fullmatch(found):
                return found, self.aliases[alias], match.end()
        return None

    def find(self, query: str) -> LegalReference | None:
        """The reference a query makes, or None when it names neither an act nor an article."""
        text = normalize_key(query)
        act = self._match_alias(text)
        article = ""
        for pattern in _ARTICLE_PATTERNS:
            m = pattern.search(text)
            if m:
                article = normalize_article_number(m.group(1))
                break
        if not article and act:
            m = re.match(r"\s*,?\s*(\d+(?:\.\d+)?)(?![\w.])", text[act[2]:])
            if m:
                article = m.group(1)
        point = ""
        for pattern in _POINT_PATTERNS:
            m = pattern.search(text)
            if m:
                point = m.group(1)
                break
        unknown = ""
        if act is None:
            for pattern in _UNKNOWN_ACT:
                m = pattern.search(text)
                if m:
                    unknown = m.group(0)
                    break
        if not act and not article and not unknown:
            return None
        return LegalReference(
            work_ids=act[1] if act else (), act_text=act[0] if act else "", article_id=article,
            point=point, unknown_act=unknown,
        )

    def resolve(self, ref: LegalReference) -> Resolution:
        """Decide deterministically what a reference points at."""
        if ref.unknown_act and not ref.work_ids:
            known = ", ".join(sorted(w.title for w in self.works.values())[:8])
            return Resolution(
                "no_such_act", reference=ref,
                message=f"no act called “{ref.unknown_act}” is in the index; acts include: {known}",
            )
        if not ref.work_ids:
            return Resolution("unscoped", reference=ref)
        if len(ref.work_ids) > 1:
            if ref.article_id:
                holding = tuple(w for w in ref.work_ids if ref.article_id in self.works[w].article_ids)
                if len(holding) == 1:
                    return Resolution("found", refs=(f"{holding[0]}::{ref.article_id}",), reference=ref)
            names = "; ".join(self.works[w].title for w in ref.work_ids)
            return Resolution(
                "ambiguous", candidates=ref.work_ids, reference=ref,
                message=f"“{ref.act_text}” may mean several acts: {names}; name the act in full",
            )
        work = self.works[ref.work_ids[0]]
        if not ref.article_id:
            return Resolution("act_only", candidates=(work.work_id,), reference=ref)
        if ref.article_id in work.article_ids:
            return Resolution("found", refs=(f"{work.work_id}::{ref.article_id}",), reference=ref)
        return Resolution(
            "no_such_article", candidates=(work.work_id,), reference=ref,
            message=(
                f"{work.title} has no article {ref.article_id}; its articles run from "
                f"{work.article_ids[0]} to {work.last_article}"
            ),
        )


def find_references(query: str, catalog: ActCatalog) -> Resolution | None:
    """Find and resolve the legal reference a query makes (None when it makes none)."""
    ref = catalog.find(query)
    return catalog.resolve(ref) if ref else None
