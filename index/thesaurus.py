"""A small legal thesaurus: everyday words (oylik, зарплата) expand a query into statutory terms
(ish haqi, заработная плата) that the codes use, at a lower weight than the user's own words.

The rules live in ``index/data/thesaurus_uz.tsv``; each side is analysed with the same `Analyzer` as
the index, so a rule fires on any inflection or spelling of its words that analyses alike. A word of a
rule's left side written with a final ``*`` is a prefix: it matches any query word that begins with it
(normalised, unstemmed), for the verb forms the lemmatiser leaves alone (qamashadimi, haydamoqchi).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

from index.analysis import DEFAULT_ANALYZER, Analyzer, UzStemmer

__all__ = ["DEFAULT_THESAURUS_PATH", "Thesaurus", "ThesaurusRule", "load_thesaurus"]

logger = logging.getLogger(__name__)

DEFAULT_THESAURUS_PATH = Path(__file__).parent / "data" / "thesaurus_uz.tsv"
_LANG_TAGS = {"uz": "uz-Latn", "ru": "ru", "en": "en"}


@dataclass(frozen=True)
class ThesaurusRule:
    """When every token of ``when`` is in a query and every prefix begins a query token, add ``add``."""

    when: frozenset[str]
    add: tuple[str, ...]
    prefixes: tuple[str, ...] = ()

    def fires(self, present: set[str]) -> bool:
        return self.when <= present and all(any(t.startswith(p) for t in present) for p in self.prefixes)


@dataclass(frozen=True)
class Thesaurus:
    """Analysed expansion rules."""

    rules: tuple[ThesaurusRule, ...]

    def expand(self, tokens: Sequence[str], *, weight: float = 0.5) -> tuple[list[str], list[float]]:
        """The query tokens (weight 1) followed by the new tokens the rules add (``weight``)."""
        present = set(tokens)
        added: dict[str, None] = {}
        for rule in self.rules:
            if rule.fires(present):
                added.update((t, None) for t in rule.add if t not in present)
        out = list(dict.fromkeys(tokens))
        return out + list(added), [1.0] * len(out) + [weight] * len(added)


def _analyse(phrase: str, lang: str, analyzer: Analyzer, *, where: str) -> tuple[str, ...]:
    if lang not in _LANG_TAGS:
        raise ValueError(f"{where}: language {lang!r} is not one of {sorted(_LANG_TAGS)}")
    return tuple(dict.fromkeys(analyzer.analyze(phrase, lang=_LANG_TAGS[lang])))


MIN_PREFIX = 3


def _split_prefixes(
    phrase: str, lang: str, analyzer: Analyzer, *, where: str
) -> tuple[str, tuple[str, ...]]:
    """The words of a phrase without a final ``*``, and the normalised, unstemmed ``*`` words."""
    words, prefixes = [], []
    plain = replace(analyzer, uz_stemmer="none")
    for word in phrase.split():
        if not word.endswith("*"):
            words.append(word)
            continue
        tokens = _analyse(word.rstrip("*"), lang, plain, where=where)
        if len(tokens) != 1 or len(tokens[0]) < MIN_PREFIX:
            raise ValueError(f"{where}: prefix {word!r} must be one word of {MIN_PREFIX}+ letters after analysis")
        prefixes.append(tokens[0])
    return " ".join(words), tuple(prefixes)


def load_thesaurus(path: str | Path | None = None, *, analyzer: Analyzer = DEFAULT_ANALYZER) -> Thesaurus:
    """Read and analyse a thesaurus TSV (``lang, phrase, -> or <->, phrase, lang``; # comments)."""
    path = Path(path) if path is not None else DEFAULT_THESAURUS_PATH
    rules: list[ThesaurusRule] = []
    # A rule fires on stems alone: with "keep+" analysers the query also holds surface forms, and
    # requiring those would stop "ishdan boʻshatish" from matching "ishdan boʻshatishi".
    matcher = replace(analyzer, uz_stemmer=cast(UzStemmer, analyzer.uz_stemmer.removeprefix("keep+")))
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        where = f"{path}:{number}"
        fields = line.split("\t")
        if len(fields) != 5 or fields[2] not in ("->", "<->"):
            raise ValueError(f"{where}: expected 5 tab-separated fields with -> or <-> in the third: {line!r}")
        left_lang, left, relation, right, right_lang = fields
        if "*" in right or (relation == "<->" and "*" in left):
            raise ValueError(f"{where}: only the left side of a -> rule may hold prefixes (word*)")
        left, prefixes = _split_prefixes(left, left_lang, analyzer, where=where)
        left_add = _analyse(left, left_lang, analyzer, where=where) if left else ()
        right_add = _analyse(right, right_lang, analyzer, where=where)
        if not (left_add or prefixes) or not right_add:
            logger.warning("%s: a side analyses to no tokens (stop words only?); rule skipped", where)
            continue
        when = frozenset(_analyse(left, left_lang, matcher, where=where)) if left else frozenset()
        rules.append(ThesaurusRule(when, right_add, prefixes))
        if relation == "<->":
            rules.append(ThesaurusRule(frozenset(_analyse(right, right_lang, matcher, where=where)), left_add))
    return Thesaurus(tuple(rules))
