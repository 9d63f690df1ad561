"""The one text normalisation shared by documents and queries: display cleaning and matching keys.

``clean_text`` keeps text displayable (apostrophes untouched); ``normalize_key`` builds the matching key
(case, apostrophes, ё and Uzbek script folded); ``strip_apostrophes_key`` is the loose key that also lets
"ozbekiston" meet "oʻzbekiston". See docs/text-normalisation.md.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from ingest.errors import ConfigError
from ingest.langid import LANGUAGE_TAGS, detect_language
from ingest.transliterate import cyrillic_to_latin

__all__ = ["APOSTROPHES", "clean_text", "fix_lookalikes", "fold_apostrophes", "normalize_key", "strip_apostrophes_key"]

logger = logging.getLogger(__name__)

# Every glyph real Uzbek text uses for the oʻ/gʻ mark and the tutuq belgisi.
APOSTROPHES = (
    "'"  # U+0027 ASCII apostrophe
    "\u2018\u2019"  # ‘ ’ typographic quotes (portal text: o‘, o’)
    "`\u00b4"  # ` ´ grave and acute accents (o`)
    "\u02bb\u02bc\u02bd"  # ʻ ʼ ʽ modifier letters (the official oʻ and tutuq)
    "\u02b9\u02c8\u2032"  # ʹ ˈ ′ prime-like marks from keyboards and OCR
    "\uff07"  # ＇ fullwidth apostrophe
)
_FOLD = str.maketrans({c: "'" for c in APOSTROPHES})

_NEWLINES = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# C0/C1 controls except \t and \n, lone surrogates, and every format character (Unicode category Cf):
# zero-width and bidi controls, soft hyphen, Arabic letter mark, invisible operators, tag characters.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]+"
)
_SPACES = re.compile("[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_CYR_TO_LAT_LOOKALIKE = str.maketrans("аеёорсухіјѕԁһԛԝ", "aeeopcyxijsdhqw")
_LAT_TO_CYR_LOOKALIKE = str.maketrans("aeopcyx", "аеорсух")
_UZ_CYRL_TAGS = frozenset({"uz-Cyrl"})
# The letters `_fix_mixed_word` counts: a text lacking either script has no word to fix.
_ANY_CYR = re.compile("[\u0400-\u052f]")
_ANY_LAT = re.compile("[a-z\u00c0-\u024f]")


def clean_text(text: str) -> str:
    """Display-safe text: NFC, \\n line ends, no control/zero-width/bidi characters, single spaces."""
    text = _NEWLINES.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", text)


def fold_apostrophes(text: str) -> str:
    """Write every apostrophe variant (ʻ ʼ ' ‘ ’ ` ´ ...) as the ASCII apostrophe."""
    return text.translate(_FOLD)


def _fix_mixed_word(match: re.Match[str]) -> str:
    # "аdliya" with a Cyrillic а (seen on my.gov.uz): a word takes the script of most of its letters.
    word = match.group(0)
    cyr = sum(1 for c in word if "\u0400" <= c <= "\u052f")
    if cyr == 0:
        return word
    lat = sum(1 for c in word if "a" <= c <= "z" or "\u00c0" <= c <= "\u024f")
    if lat > cyr:
        return word.translate(_CYR_TO_LAT_LOOKALIKE)
    if cyr > lat > 0:
        return word.translate(_LAT_TO_CYR_LOOKALIKE)
    return word


def fix_lookalikes(text: str) -> str:
    """Give each word with letters of both scripts the script of most of its letters ("oбpaщение")."""
    if not (_ANY_CYR.search(text) and _ANY_LAT.search(text)):
        return text  # the common case, and a million calls of `_fix_mixed_word` saved on a corpus
    return _WORD.sub(_fix_mixed_word, text)


def _check_lang(lang: str | None) -> str | None:
    if lang is None or lang in LANGUAGE_TAGS or lang == "uz":
        return lang
    raise ConfigError(
        f"lang={lang!r} is not a language tag we know; use one of {sorted(LANGUAGE_TAGS)}, 'uz' or None "
        "(None detects it)"
    )


def normalize_key(text: str, *, lang: str | None = None) -> str:
    """The matching key: cleaned, casefolded, apostrophes folded, Russian ё -> е, Uzbek Cyrillic -> Latin.

    ``lang`` is a tag ("uz-Latn", "uz-Cyrl", "uz", "ru", "en", "und"); None detects it. Russian stays in
    Cyrillic. Idempotent.
    """
    lang = _check_lang(lang)
    key = unicodedata.normalize("NFC", clean_text(text).casefold())
    key = " ".join(fold_apostrophes(key).split())
    key = fix_lookalikes(key)
    if lang is None:
        uz_cyrillic = detect_language(key).tag in _UZ_CYRL_TAGS
    else:
        uz_cyrillic = lang == "uz-Cyrl" or (lang == "uz" and detect_language(key).script == "Cyrl")
    if uz_cyrillic:
        # Letters the transliteration leaves (і, ј) may now sit in a Latin word: settle them again.
        key = fix_lookalikes(fold_apostrophes(cyrillic_to_latin(key)))
    else:
        key = key.replace("ё", "е")
    # Dropping ь or swapping a look-alike can bring a combining mark next to a new base letter.
    return unicodedata.normalize("NFC", " ".join(key.split()))


def strip_apostrophes_key(text: str, *, lang: str | None = None) -> str:
    """The loose key: ``normalize_key`` with apostrophes removed, so "ozbekiston" meets "oʻzbekiston"."""
    key = normalize_key(text, lang=lang).replace("'", "")
    return unicodedata.normalize("NFC", " ".join(key.split()))
