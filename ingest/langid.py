"""Language and script of a text: Uzbek (Latin or Cyrillic), Russian, English, or undetermined.

langdetect has no Uzbek profile (Uzbek Latin comes out as id/et/tr) and raises on text without
letters, so the decision is made by cues that separate the pairs that matter — Uzbek-only letters
(ў қ ғ ҳ, oʻ gʻ), function words and suffixes against Russian or English ones — and langdetect only
breaks ties on longer texts. Scores are summed per word; the confidence grows with the margin.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

from ingest.transliterate import latin_to_cyrillic

__all__ = ["LANGUAGE_TAGS", "LanguageGuess", "detect_language", "detect_script"]

logger = logging.getLogger(__name__)

Lang = Literal["uz", "ru", "en", "und"]
Script = Literal["Latn", "Cyrl", "Zyyy"]
Tag = Literal["uz-Latn", "uz-Cyrl", "ru", "en", "und"]
LANGUAGE_TAGS: frozenset[str] = frozenset({"uz-Latn", "uz-Cyrl", "ru", "en", "und"})

_MAX_CHARS = 20_000  # a document's opening is enough, and keeps detection cheap on 5 MB texts
_LANGDETECT_MIN_WORDS = 3
# Kept equal to ingest.normalize.APOSTROPHES (a test checks); not imported, normalize imports us.
_APOSTROPHES = "'\u2018\u2019`\u00b4\u02bb\u02bc\u02bd\u02b9\u02c8\u2032\uff07"
_FOLD = str.maketrans({**{c: "'" for c in _APOSTROPHES}, "ё": "е"})
_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|\S+\.(?:uz|ru|com|org|gov|net)\b\S*")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_CYR = re.compile("[\u0400-\u052f]")
_LAT = re.compile("[A-Za-z\u00c0-\u024f]")
_INITIAL_YO = re.compile(r"(?<!\w)ё")


@dataclass(frozen=True)
class LanguageGuess:
    """A language guess: ``tag`` is ``lang`` plus the script for Uzbek ("uz-Latn", "uz-Cyrl")."""

    lang: Lang
    script: Script
    tag: Tag
    confidence: float


_UNDETERMINED = LanguageGuess("und", "Zyyy", "und", 0.0)

# Uzbek words frequent in legal text, service descriptions and citizens' questions (Latin spelling;
# the Cyrillic list is derived by transliteration, both are also matched without apostrophes).
_UZ_WORDS = """va bilan uchun bo'yicha emas kerak bu shu ushbu ular siz biz ham hamda yoki bor yo'q qanday
qayerda qayerdan qachon nima nega qancha necha nechta kim qaysi agar lekin ammo biroq yana faqat har bir
ikki uch endi hali edi ekan etib etish etadi etiladi qilish qiladi qilinadi bo'lsa bo'lgan bo'ladi bo'lib
bo'lishi olish olsa oladi berish beriladi beradi to'g'risida haqida orqali tomonidan asosida mumkin zarur
kabi ko'ra keyin oldin davomida ichida tartibi tartibda haqi ish oylik soliq ariza hujjat hujjatlar fuqaro
fuqarolar yer uy pul davlat xizmat xizmati xizmatlari mehnat shartnoma muddat muddati kun yil oy ota ona
bola bolalar nafaqa to'lov to'lash qonun modda ro'yxat ro'yxatdan o'tish o'zbekiston respublikasi vazirligi
hokimligi tuman shahar viloyat ruxsat guvohnoma ma'lumotnoma mumkinmi kerakmi qilib sifatida o'z o'rtasida
bo'lmagan ko'rsatilgan belgilangan nazarda tutilgan yuzasidan bo'yicha holda hollarda quyidagi yoxud shuningdek
jumladan tegishli boshqa ularning uning hisoblanadi iborat qo'llaniladi amalga oshiriladi xodim xodimlar ish
beruvchi kuni yili soni pasport""".split()
_UZ_SUFFIXES = ("lar", "larni", "larga", "lardan", "larning", "ning", "dagi", "dan", "ga", "da", "ni", "gan",
                "moq", "lik", "likni", "chi", "miz", "ngiz", "yapti", "adi", "ydi", "di", "tish", "rish",
                "ilgan", "ladi", "lari", "imiz", "ingiz", "mi", "ini", "idan", "iga", "ida", "sini", "siga")
_RU_WORDS = set("""и в на не что для по с к о об от из за до при или как это так же а но мне я мы вы он она они
его ее их где когда какие какой какая сколько можно нужно надо есть был была быть будет если то только также
который которые которого этот эта эти все после без под над через между статья статьи закон закона кодекс
кодекса получить получение справка справку зарплата заработная плата налог налога земля земельный работник
работника работодатель работодателя трудовой трудового договор договора срок день дней год года гражданин
граждан документ документы заявление услуга услуги порядок право права республики узбекистан министерство
выдача регистрация оформление ребенок ребенка детей семья отпуск увольнение пособие либо лица лицо случае
соответствии настоящего настоящим органы органа государственной государственного является являются""".split())
_RU_SUFFIXES = ("ость", "ости", "ение", "ения", "ании", "ания", "ого", "его", "ому", "ему", "ых", "их", "ый",
                "ая", "яя", "ое", "ее", "ые", "ую", "ться", "тся", "ется", "ются", "ать", "ить", "еть", "ов",
                "ам", "ями", "ами", "ях", "ии", "ей", "ет", "ут", "ют", "ешь")
_EN_WORDS = set("""the a an of to in on for and or is are was were be been do does did how what where when who
which why can could should must my your i you we it this that with from by at as not no get apply
application passport tax taxes salary pension land law code article service services certificate
registration employer employee work job late paid pay payment leave child benefit fee fees document
documents online office days many much need new renew lost card visa residence permit birth marriage
property vehicle driving licence license court appeal fine penalty rights citizen government ministry
public social insurance if there their they he she his her have has had will would about into than""".split())
_EN_SUFFIXES = ("tion", "tions", "sion", "ness", "ment", "ments", "ould", "ght", "ed", "ly", "ies", "ous",
                "ful", "able", "ance", "ence", "ings", "ship", "ity")


def _variants(words: list[str]) -> set[str]:
    return {w for word in words for w in (word, word.replace("'", ""))}


_UZ_LAT = _variants(_UZ_WORDS) - _EN_WORDS
_UZ_CYR = {latin_to_cyrillic(w).replace("ё", "е") for w in _UZ_WORDS}
_UZ_CYR_SUFFIXES = tuple(sorted({latin_to_cyrillic(s).replace("ё", "е") for s in _UZ_SUFFIXES}))
_EN_SHORT = re.compile(r"'(?:s|t|ll|re|ve|d|m)$")


def detect_script(text: str) -> Script:
    """The dominant script of the letters: "Cyrl", "Latn", or "Zyyy" when there are none."""
    sample = text[:_MAX_CHARS]
    cyr, lat = len(_CYR.findall(sample)), len(_LAT.findall(sample))
    if cyr == 0 and lat == 0:
        return "Zyyy"
    return "Cyrl" if cyr > lat else "Latn"


def _ends(word: str, suffixes: tuple[str, ...]) -> bool:
    return any(len(word) > len(s) + 1 and word.endswith(s) for s in suffixes)


def _score_cyrillic(words: list[str]) -> tuple[float, float]:
    uz = ru = 0.0
    for w in words:
        if any(c in "ўқғҳ" for c in w):
            uz += 3
        if any(c in "ыщ" for c in w):
            ru += 2
        if "ь" in w:
            ru += 1
        if re.search("ъ[^еюяь]|'", w):
            uz += 2  # the tutuq; Russian ъ only precedes е ё ю я
        if w in _UZ_CYR:
            uz += 2
        elif _ends(w, _UZ_CYR_SUFFIXES):
            uz += 1
        if w in _RU_WORDS:
            ru += 2
        elif _ends(w, _RU_SUFFIXES):
            ru += 1
    return uz, ru


def _score_latin(words: list[str]) -> tuple[float, float]:
    uz = en = 0.0
    for w in words:
        if "o'" in w or "g'" in w:
            uz += 3
        elif _EN_SHORT.search(w):
            en += 1.5
        elif "'" in w:
            uz += 1.5
        if "q" in w and "qu" not in w:
            uz += 1.5
        if "w" in w or "th" in w:
            en += 1.5
        if re.search("c(?!h)", w):
            en += 1
        if re.search("ee|oo|ea|ou|ai|ck|ph|y$", w) and not w.endswith("iy"):
            en += 0.7
        if w in _UZ_LAT:
            uz += 2
        elif _ends(w, _UZ_SUFFIXES):
            uz += 1
        if w in _EN_WORDS:
            en += 2
        elif _ends(w, _EN_SUFFIXES):
            en += 1
    return uz, en


def _langdetect_top(text: str) -> tuple[str, float] | None:
    """langdetect's best language and probability, or None when it cannot tell."""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # langdetect is random unless seeded
    try:
        best = detect_langs(text)[0]
    except LangDetectException:
        return None
    return str(best.lang), float(best.prob)


def _confidence(win: float, lose: float) -> float:
    return round(min(0.99, 0.5 + 0.5 * (win - lose) / (win + lose + 2)), 3)


def detect_language(text: str) -> LanguageGuess:
    """Guess uz (Latin or Cyrillic), ru or en; "und" for text without words (digits, URLs, empty)."""
    lowered = text[:_MAX_CHARS].lower()
    # A word-initial ё (ёки, ёш, ёрдам) is Uzbek; counted before ё is folded into е for the word lists.
    initial_yo = len(_INITIAL_YO.findall(lowered))
    sample = _URL.sub(" ", lowered.translate(_FOLD))
    script = detect_script(sample)
    if script == "Zyyy":
        return _UNDETERMINED
    words = _WORD.findall(sample)
    if script == "Cyrl":
        uz, other = _score_cyrillic([w for w in words if _CYR.match(w)])
        uz += 1.5 * initial_yo
        other_lang: Lang = "ru"
    else:
        uz, other = _score_latin([w for w in words if _LAT.match(w)])
        other_lang = "en"
    if uz == other and len(words) >= _LANGDETECT_MIN_WORDS:
        top = _langdetect_top(sample)
        if top is not None:
            wins_other = top[0] == other_lang
            logger.debug("tie broken by langdetect: %s %.2f", *top)
            uz, other = (0.0, 1.0) if wins_other else (1.0, 0.0)
    if uz > other:
        tag: Tag = "uz-Cyrl" if script == "Cyrl" else "uz-Latn"
        return LanguageGuess("uz", script, tag, _confidence(uz, other))
    # A tie without help: a Cyrillic query is more often Russian, a Latin one more often Uzbek.
    if uz == other:
        if script == "Cyrl":
            return LanguageGuess("ru", "Cyrl", "ru", 0.5)
        return LanguageGuess("uz", "Latn", "uz-Latn", 0.5)
    return LanguageGuess(other_lang, script, other_lang, _confidence(other, uz))
