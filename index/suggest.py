"""Search-as-you-type over the titles of services and acts of one loaded generation.

Titles are matched on their loose key (``strip_apostrophes_key``: casefolded, every apostrophe variant
dropped, Uzbek Cyrillic written in Latin, Russian left in Cyrillic). A Cyrillic query is tried both as
typed (for Russian titles) and transliterated to Latin (Uzbek typed in Cyrillic). Tiers, best first:

    0  the title (or the act's short title) starts with the query
    1  every query word starts a word of the title, anywhere
    2  as 1, but one query word (the last or the longest) is one edit away from a title-word prefix

then shorter titles first. Everything is precomputed: a word-prefix → entries map and a SymSpell
deletion index (`index.lexical.TypoVocabulary`) over word prefixes, so a keystroke costs a few set
operations, not a scan of the titles.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from index.lexical import TypoVocabulary
from index.search import QueryError
from ingest.normalize import clean_text, strip_apostrophes_key
from ingest.transliterate import cyrillic_to_latin

__all__ = ["MAX_K", "MAX_QUERY_CHARS", "Suggester", "Suggestion"]

logger = logging.getLogger(__name__)

MAX_K = 20
MAX_QUERY_CHARS = 200
# Shorter prefixes than this are not typo-corrected: "pas" is one edit from too many words.
_FUZZY_MIN = 4
# Longer prefixes are cut to this length before fuzzy lookup, which keeps the deletion index small.
_FUZZY_MAX = 7
_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@dataclass(frozen=True)
class Suggestion:
    """A service or act whose title matches what has been typed so far."""

    id: str
    kind: str
    title: str
    lang: str
    url: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class _Entry:
    suggestion: Suggestion
    keys: tuple[str, ...]  # loose keys of the title and of the short title
    words: frozenset[str]
    length: int


def _key(text: str, lang: str | None) -> str:
    return " ".join(_WORD.findall(strip_apostrophes_key(text, lang=lang)))


class Suggester:
    """Title completion for one generation's documents; build once, then query concurrently."""

    def __init__(self, documents: Iterable[Mapping[str, Any]]) -> None:
        self._entries: list[_Entry] = []
        self._by_prefix: dict[str, set[int]] = defaultdict(set)
        for doc in documents:
            title = str(doc.get("title") or "")
            if not title:
                continue
            lang = str(doc.get("lang") or "") or None
            names = [title] + ([str(doc["short_title"])] if doc.get("short_title") else [])
            keys = tuple(dict.fromkeys(k for k in (_key(n, lang if lang != "und" else None) for n in names) if k))
            words = frozenset(w for k in keys for w in k.split())
            n = len(self._entries)
            self._entries.append(_Entry(
                Suggestion(id=str(doc["id"]), kind=str(doc.get("kind", "")), title=title, lang=str(doc.get("lang", "")),
                           url=str(doc.get("url", ""))),
                keys, words, len(title),
            ))
            for word in words:
                for end in range(1, len(word) + 1):
                    self._by_prefix[word[:end]].add(n)
        prefixes: dict[str, int] = {}
        for p, ids in self._by_prefix.items():
            if _FUZZY_MIN <= len(p) <= _FUZZY_MAX:
                prefixes[p] = len(ids)
        self._typos = TypoVocabulary(prefixes)
        logger.info("suggester: %d titles, %d word prefixes", len(self._entries), len(self._by_prefix))

    def __len__(self) -> int:
        return len(self._entries)

    def suggest(self, query: str, *, k: int = 8) -> list[Suggestion]:
        """Up to ``k`` titles for a typed prefix, best first (see the module docstring for the order)."""
        if not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise QueryError(f"k={k} is out of range; ask for 1 to {MAX_K} suggestions", code="invalid_k")
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(
                f"the query has {len(query)} characters, above the limit of {MAX_QUERY_CHARS} for suggestions",
                code="query_too_long",
            )
        if not clean_text(query).strip():
            raise QueryError("the query is empty; type the first letters of a service or law", code="empty_query")
        best: dict[int, int] = {}
        for qkey in self._query_keys(query):
            for n, tier in self._match(qkey).items():
                if tier < best.get(n, 99):
                    best[n] = tier
        ranked = sorted(best, key=lambda n: (best[n], self._entries[n].length, self._entries[n].suggestion.title))
        return [self._entries[n].suggestion for n in ranked[:k]]

    @staticmethod
    def _query_keys(query: str) -> list[str]:
        keys = [_key(query, "ru" if _CYRILLIC.search(query) else "uz-Latn")]
        if _CYRILLIC.search(query):
            keys.append(_key(cyrillic_to_latin(query), "uz-Latn"))
        return [k for k in dict.fromkeys(keys) if k]

    def _match(self, qkey: str) -> dict[int, int]:
        words = qkey.split()
        exact = self._words_match(words)
        out = {n: (0 if any(k.startswith(qkey) for k in self._entries[n].keys) else 1) for n in exact}
        if len(out) >= MAX_K:
            return out
        # One typo: in the last word (still being typed) or, failing that, in the longest.
        order = [len(words) - 1] + sorted(range(len(words) - 1), key=lambda i: -len(words[i]))
        for i in order:
            word = words[i]
            if len(word) < _FUZZY_MIN:
                continue
            probe = word[:_FUZZY_MAX]
            # A long word whose first letters are right has its typo further on: those letters will do.
            near = [probe] if probe in self._typos else self._typos.corrections(probe, limit=5)
            if not near:
                continue
            ids: set[int] = set()
            for p in near:
                ids |= self._by_prefix[p]
            for j, other in enumerate(words):
                if j != i:
                    ids &= self._by_prefix.get(other, set())
            for n in ids:
                out.setdefault(n, 2)
            if ids:
                break
        return out

    def _words_match(self, words: list[str]) -> set[int]:
        """Entries in which every query word starts some title word."""
        ids: set[int] | None = None
        for word in sorted(words, key=len, reverse=True):
            found = self._by_prefix.get(word)
            if not found:
                return set()
            ids = set(found) if ids is None else ids & found
            if not ids:
                return set()
        return ids or set()
