"""Language-aware analysis shared by indexing and querying: text in, index tokens out.

A document has a known language tag and is analysed once in that language; Uzbek Cyrillic is
analysed in its Latin form so that both scripts meet on the same tokens. A query's language is
unknown (and short queries defeat language detection), so `analyze_query` analyses a Cyrillic query
both as Russian and as Uzbek, and a Latin one both as Uzbek and as English, and unites the tokens.

Uzbek tokens lose their apostrophes (oʻzbekiston, o'zbekiston, ozbekiston are one token) and the
informal chat spellings ``w`` for *sh* and ``c`` for *ch* are undone, then a stemmer runs. Which
stemmer: measured on the development set in docs/lexical-analysis.md (``eval/lexical_dev.py``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version as _package_version
from pathlib import Path
from typing import Literal, get_args

import Stemmer

from ingest.normalize import normalize_key

__all__ = [
    "DEFAULT_ANALYZER",
    "LANGUAGES",
    "STOPWORDS",
    "UZ_STEMMERS",
    "Analyzer",
    "Language",
    "UzStemmer",
    "analyze",
    "analyze_query",
    "stem_uzbek",
]

logger = logging.getLogger(__name__)

Language = Literal["uz-Latn", "uz-Cyrl", "ru", "en"]
UzStemmer = Literal[
    "none", "lemmauz", "suffix", "prefix5", "prefix6", "prefix7", "suffix+prefix6", "lemmauz+prefix6",
    "keep+lemmauz", "keep+suffix", "keep+prefix6", "keep+prefix7",
]
LANGUAGES: tuple[str, ...] = get_args(Language)
UZ_STEMMERS: tuple[str, ...] = get_args(UzStemmer)

# A number (with its decimal or sub-article dots: 128.3) or a run of letters with inner apostrophes.
_TOKEN = re.compile(r"\d+(?:\.\d+)*|[^\W\d_]+(?:'[^\W\d_]+)*")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_INFORMAL_CH = re.compile(r"c(?!h)")

# The light Uzbek stripper: suffixes stack in slots (stem + derivation/verb form + plural +
# possessive + case + particle); each slot is peeled at most once, right to left, longest match
# first, and only while three letters of stem remain. Apostrophe-free, as the analyser sees them.
def _slot(*suffixes: str) -> tuple[str, ...]:
    return tuple(sorted(suffixes, key=len, reverse=True))


_UZ_SLOTS: tuple[tuple[str, ...], ...] = (
    _slot("mi", "chi", "ku", "da"),  # question and emphasis particles (ishdami, pulimchi)
    _slot(  # person and tense endings of verbs
        "yapti", "yapman", "yapmiz", "yapsiz", "yaptilar", "moqda", "moqdaman", "moqchi", "moqchiman",
        "moqchimiz", "adi", "aydi", "ydi", "adilar", "aman", "ayman", "amiz", "aymiz", "asiz", "madi",
        "maydi", "mayapti", "dim", "ding", "dik", "dilar", "di", "man", "miz", "siz", "sa", "sin",
        "ingiz", "gan", "kan", "qan", "ganmiz", "ganman",
    ),
    _slot("ning", "ni", "ga", "ka", "qa", "da", "ta", "dan", "tan", "dagi", "tagi", "gacha", "dek"),
    _slot("imiz", "ingiz", "im", "ing", "i", "si", "miz", "ngiz", "lari"),  # possessive
    _slot("lar",),
    _slot(  # derivation and non-finite verb forms
        "lik", "lig", "chilik", "chi", "gan", "kan", "qan", "ilgan", "ingan", "digan", "adigan",
        "ydigan", "moq", "ish", "ib", "gach", "guncha", "masdan", "may", "ilish", "inish", "lash",
    ),
)
_UZ_MIN_STEM = 3

# Stop words, written as the analyser sees them (casefolded, Uzbek without apostrophes, ё as е).
# Uzbek: conjunctions, postpositions, pronouns, question words and the fillers of chat questions.
_STOP_UZ = """
va bilan uchun ham bu u shu yoki deb esa emas ekan edi hamda lekin ammo biroq balki agar chunki
kabi qadar sari orqali tomonidan boyicha haqida keyin oldin avval ichida uchun yana hali endi
men sen biz siz ular uning ularning meni menga mening bizning sizning ozim ozi oz osha ushbu
bir har hech hamma barcha nima nega qanday qancha qachon qayer qayerga qayerda qaysi kim kimga
necha nma aka opa iltimos kerak kerakmi mumkin mumkinmi bormi yoq xa ha
"""
_STOP_RU = """
и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне
было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до
вас нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя
их чем была сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого
какой совсем ним здесь этом один почти мой тем чтобы нее сейчас были куда зачем всех никогда
можно при наконец два об другой хоть после над больше тот через эти нас про всего них какая
много разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им
более всегда конечно всю между это как также либо который которые которых
"""
_STOP_EN = """
a an the and or but if of at by for with about against between into through during before after
above below to from up down in out on off over under again further then once here there when
where why how all any both each few more most other some such no nor not only own same so than
too very can will just should now is are was were be been being have has had having do does did
i me my we our you your he him his she her it its they them their what which who whom this that
these those am would could shall may might must
"""
STOPWORDS: dict[str, frozenset[str]] = {
    "uz": frozenset(_STOP_UZ.split()),
    "ru": frozenset(_STOP_RU.split()),
    "en": frozenset(_STOP_EN.split()),
}


@lru_cache(maxsize=1)
def _lemmatizer() -> object:
    import lemmauz

    return lemmauz.fsm_lemmatize


@lru_cache(maxsize=4)
def _snowball(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


def _strip_suffixes(word: str) -> str:
    """Peel Uzbek suffixes slot by slot from the right while three letters of stem remain."""
    for slot in _UZ_SLOTS:
        for suffix in slot:
            if word.endswith(suffix) and len(word) - len(suffix) >= _UZ_MIN_STEM:
                word = word[: -len(suffix)]
                break
    return word


@lru_cache(maxsize=500_000)
def stem_uzbek(word: str, *, stemmer: UzStemmer) -> str:
    """Stem one normalised Uzbek Latin word (apostrophes already removed) with the named method."""
    if word.isdigit() or "." in word:
        return word
    if stemmer == "none":
        return word
    base, _, cut = stemmer.removeprefix("keep+").partition("+")
    if base == "lemmauz":
        word = _lemmatizer()(word) or word  # type: ignore[operator]
    elif base == "suffix":
        word = _strip_suffixes(word)
    else:
        cut = base
    if cut:
        word = word[: int(cut.removeprefix("prefix"))]
    return word


# The modules and packages whose code decides the tokens of a text; their bytes and versions make up
# `Analyzer.version`, so an edit to any of them invalidates cached analyses and rebuilds the index.
_ANALYSIS_MODULES = ("index.analysis", "ingest.normalize", "ingest.transliterate", "ingest.langid")
_ANALYSIS_PACKAGES = ("lemmauz", "PyStemmer")


@lru_cache(maxsize=8)
def _code_digest(
    modules: tuple[str, ...] = _ANALYSIS_MODULES, packages: tuple[str, ...] = _ANALYSIS_PACKAGES
) -> str:
    """blake2b-64 of the named modules' files and the named packages' versions."""
    digest = hashlib.blake2b(digest_size=8)
    for name in modules:
        __import__(name)
        digest.update(Path(str(sys.modules[name].__file__)).read_bytes())
    for package in packages:
        digest.update(f"\x00{package}={_package_version(package)}".encode())
    return digest.hexdigest()


def _tokens(normalized: str) -> list[str]:
    return [t for t in _TOKEN.findall(normalized) if len(t) > 1 or t.isdigit()]


@dataclass(frozen=True)
class Analyzer:
    """An analysis configuration: the Uzbek stemmer and whether informal spellings are undone."""

    uz_stemmer: UzStemmer = "keep+lemmauz"
    informal: bool = True
    query_english: bool = True

    def __post_init__(self) -> None:
        if self.uz_stemmer not in UZ_STEMMERS:
            raise ValueError(f"uz_stemmer={self.uz_stemmer!r} is unknown; choose one of {UZ_STEMMERS}")

    @property
    def name(self) -> str:
        """A stable name saved beside an index, so a query is analysed the way the index was."""
        return f"uz={self.uz_stemmer};informal={int(self.informal)};query_en={int(self.query_english)}"

    @property
    def version(self) -> str:
        """``name`` plus a digest of the analysis code: equal versions analyse every text alike."""
        return f"{self.name};code={_code_digest()}"

    def analyze(self, text: str, *, lang: str) -> list[str]:
        """Tokens of a text whose language tag is known (``uz-Latn``, ``uz-Cyrl``, ``ru``, ``en``)."""
        if lang == "uz-Latn" or lang == "uz-Cyrl":
            return self._uzbek(text, lang)
        if lang == "ru":
            return self._snowball(text, "ru", "russian")
        if lang == "en":
            return self._snowball(text, "en", "english")
        raise ValueError(f"lang={lang!r} is not supported; use one of {LANGUAGES}")

    def analyze_query(self, text: str) -> list[str]:
        """Tokens of a query in an unknown language: the union of its plausible analyses, in order."""
        analyses: list[list[str]] = []
        if _CYRILLIC.search(text):
            analyses += [self._snowball(text, "ru", "russian"), self._uzbek(text, "uz-Cyrl")]
        if _LATIN.search(text):
            analyses.append(self._uzbek(text, "uz-Latn"))
            if self.query_english:
                analyses.append(self._snowball(text, "en", "english"))
        if not analyses:  # digits and punctuation only
            analyses.append(self._uzbek(text, "uz-Latn"))
        return list(dict.fromkeys(t for tokens in analyses for t in tokens))

    def _uzbek(self, text: str, lang: str) -> list[str]:
        out = []
        # normalize_key writes Uzbek Cyrillic in Latin, so both scripts meet on one token.
        for token in _tokens(normalize_key(text, lang=lang)):
            token = token.replace("'", "")
            if self.informal and not token.isdigit():
                token = _INFORMAL_CH.sub("ch", token.replace("w", "sh"))
            if token in STOPWORDS["uz"]:
                continue
            stem = stem_uzbek(token, stemmer=self.uz_stemmer)
            # "keep+" variants index the word itself beside its stem: exact forms score higher.
            if stem != token and self.uz_stemmer.startswith("keep+"):
                out.append(token)
            out.append(stem)
        return out

    def _snowball(self, text: str, lang: str, algorithm: str) -> list[str]:
        # Only the script of the language is analysed: Latin words in a Russian text are not Russian.
        pattern = _CYRILLIC if lang == "ru" else _LATIN
        words = [
            t.replace("'", "")
            for t in _tokens(normalize_key(text, lang=lang))
            if t.isdigit() or "." in t or pattern.match(t)
        ]
        words = [w for w in words if w and w not in STOPWORDS[lang]]
        return [w if w[0].isdigit() else s for w, s in zip(words, _snowball(algorithm).stemWords(words))]


DEFAULT_ANALYZER = Analyzer()


def analyze(text: str, *, lang: str) -> list[str]:
    """Index tokens of a text in a known language, with the default analyser."""
    return DEFAULT_ANALYZER.analyze(text, lang=lang)


def analyze_query(text: str) -> list[str]:
    """Query tokens of a text in an unknown language, with the default analyser."""
    return DEFAULT_ANALYZER.analyze_query(text)
