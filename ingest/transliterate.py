"""Uzbek Cyrillic <-> Latin transliteration by the 1995 orthography rules, as lex.uz writes them.

Rules (Cyrillic -> Latin): е is ``ye`` at the start of a word and after a vowel, ъ or ь, else ``e``;
ц is ``ts`` between vowels, else ``s``; ё ю я are ``yo yu ya``; ў қ ғ ҳ are ``oʻ q gʻ h``;
ъ is the tutuq ``ʼ`` (dropped before е ё ю я: объект -> obyekt); ь is dropped. Digraphs keep the
case of the word: Ш -> ``Sh``, but ``SH`` inside an all-caps word. oʻ/gʻ use U+02BB, the tutuq U+02BC.

Latin -> Cyrillic inverts these rules; what the rules cannot recover (ц written as s, a lost ь,
budjet for бюджет) comes from a small lexicon of loanwords common in legal text. Why our own code
and not alifbo/alifbe/UzTransliterator: see docs/text-normalisation.md (measured there).
"""

from __future__ import annotations

import logging
import re

__all__ = ["cyrillic_to_latin", "latin_to_cyrillic"]

logger = logging.getLogger(__name__)

_OKINA = "\u02bb"  # ʻ in oʻ gʻ
_TUTUQ = "\u02bc"  # ʼ the tutuq belgisi (Cyrillic ъ)
_APOSTROPHES = "'\u2018\u2019`\u00b4\u02bb\u02bc\u02bd\u02b9\u2032"

_CYR_VOWELS = frozenset("аеёиоуўэюяы")
_LAT_VOWELS = frozenset("aeiou")
_YI_VOWELS = frozenset("aeiouy")

_C2L = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ж": "j", "з": "z", "и": "i", "й": "y",
    "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "x", "ч": "ch", "ш": "sh", "щ": "shch", "ы": "i", "э": "e",
    "ё": "yo", "ю": "yu", "я": "ya", "ў": "o" + _OKINA, "қ": "q", "ғ": "g" + _OKINA, "ҳ": "h",
}

# Loanword stems whose spelling the rules cannot derive in one direction or the other.
# (Cyrillic stem, Latin stem, Cyrillic ending used when the stem is the whole word.)
_LEXICON: tuple[tuple[str, str, str], ...] = (
    ("бюджет", "budjet", ""), ("сентябр", "sentabr", "ь"), ("октябр", "oktabr", "ь"),
    ("ноябр", "noyabr", "ь"), ("декабр", "dekabr", "ь"), ("январ", "yanvar", "ь"),
    ("феврал", "fevral", "ь"), ("апрел", "aprel", "ь"), ("июн", "iyun", "ь"), ("июл", "iyul", "ь"),
    ("цирк", "sirk", ""), ("цех", "sex", ""), ("цемент", "sement", ""), ("концерт", "konsert", ""),
    ("концессия", "konsessiya", ""), ("акция", "aksiya", ""), ("акциз", "aksiz", ""),
    ("станция", "stansiya", ""), ("функция", "funksiya", ""), ("квитанция", "kvitansiya", ""),
    ("инспекция", "inspeksiya", ""), ("коллекция", "kolleksiya", ""), ("лекция", "leksiya", ""),
    ("секция", "seksiya", ""), ("санкция", "sanksiya", ""), ("инструкция", "instruksiya", ""),
    ("конструкция", "konstruksiya", ""), ("продукция", "produksiya", ""), ("компьютер", "kompyuter", ""),
    ("судья", "sudya", ""), ("пьеса", "pyesa", ""), ("медал", "medal", "ь"), ("област", "oblast", "ь"),
    ("мебел", "mebel", "ь"), ("модел", "model", "ь"), ("фельдшер", "feldsher", ""),
    ("бюллетен", "byulleten", "ь"),
)
_C2L_STEMS = tuple(sorted(((c, lat) for c, lat, _ in _LEXICON), key=lambda p: -len(p[0])))
_L2C_STEMS = tuple(sorted(((lat, c) for c, lat, _ in _LEXICON), key=lambda p: -len(p[0])))
_L2C_WHOLE = {lat: c + ending for c, lat, ending in _LEXICON}

_CYR_WORD = re.compile(r"[а-яёўқғҳА-ЯЁЎҚҒҲ]+")
# An apostrophe belongs to a word inside it, or at its end after o/g (bogʻ); a closing quote does not.
_LAT_WORD = re.compile(rf"[A-Za-z]+(?:[{_APOSTROPHES}][A-Za-z]+)*(?:(?<=[oOgG])[{_APOSTROPHES}])?")


def _case_like(source: str, lower: str, *, all_caps: bool) -> str:
    """Give ``lower`` the case of the single source letter it replaces."""
    if not source.isupper():
        return lower
    return lower.upper() if all_caps else lower[:1].upper() + lower[1:]


def _word_c2l(word: str) -> str:
    lower = word.lower()
    all_caps = len([c for c in word if c.isalpha()]) > 1 and word.isupper()
    prefix = ""
    start = 0
    for stem, latin in _C2L_STEMS:
        if lower.startswith(stem):
            prefix = _restore_case(word[: len(stem)], latin, all_caps=all_caps)
            start = len(stem)
            break
    out = [prefix]
    for i in range(start, len(word)):
        ch, low = word[i], lower[i]
        prev = lower[i - 1] if i > 0 else ""
        nxt = lower[i + 1] if i + 1 < len(lower) else ""
        if low == "е":
            lat = "ye" if (i == 0 or prev in _CYR_VOWELS or prev in "ъь") else "e"
        elif low == "ц":
            lat = "ts" if (prev in _CYR_VOWELS and nxt in _CYR_VOWELS) else "s"
        elif low == "ъ":
            lat = "" if nxt and nxt in "еёюя" else _TUTUQ
        elif low == "ь":
            lat = ""
        elif low == "ҳ" and prev == "с":
            lat = _TUTUQ + "h"  # Исҳоқ -> Isʼhoq: the tutuq keeps s+h from reading as sh
        else:
            lat = _C2L.get(low, ch)
        out.append(_case_like(ch, lat, all_caps=all_caps) if lat != ch else ch)
    return "".join(out)


def _restore_case(source: str, target: str, *, all_caps: bool) -> str:
    if all_caps:
        return target.upper()
    if source[:1].isupper():
        return target[:1].upper() + target[1:]
    return target


def cyrillic_to_latin(text: str) -> str:
    """Transliterate Uzbek Cyrillic to Uzbek Latin (oʻ gʻ with U+02BB, tutuq U+02BC); Latin passes through."""
    return _CYR_WORD.sub(lambda m: _word_c2l(m.group(0)), text)


def _word_l2c(word: str) -> str:
    lower = word.lower()
    for ap in _APOSTROPHES:
        lower = lower.replace(ap, "'")
    all_caps = sum(c.isalpha() for c in word) > 1 and word.isupper()
    out: list[str] = []
    i = 0
    n = len(lower)
    if lower in _L2C_WHOLE:
        return _restore_case(word, _L2C_WHOLE[lower], all_caps=all_caps)
    for stem, cyr_stem in _L2C_STEMS:
        if lower.startswith(stem):
            out.append(_restore_case(word, cyr_stem, all_caps=all_caps))
            i = len(stem)
            break
    while i < n:
        ch = lower[i]
        nxt = lower[i + 1] if i + 1 < n else ""
        prev = lower[i - 1] if i > 0 else ""
        upper = word[i].isupper()
        step = 1
        if ch in "og" and nxt == "'":
            cyr, step = ("ў" if ch == "o" else "ғ"), 2
        elif ch == "'" and prev == "s" and nxt == "h":
            cyr = ""  # Isʼhoq -> Исҳоқ
        elif ch == "'":
            cyr = "ъ" if prev.isalpha() else ""
        elif ch == "s" and nxt == "h":
            cyr, step = "ш", 2
        elif ch == "c" and nxt == "h":
            cyr, step = "ч", 2
        elif ch == "t" and nxt == "s" and prev in _LAT_VOWELS and (
            lower[i + 2 : i + 3] == "e" or (lower[i + 2 : i + 3] == "i" and lower[i + 3 : i + 4] in _YI_VOWELS)
        ):
            # ц between vowels is written ts; the native t+s of ketsa/ketsin stays тс.
            cyr, step = "ц", 2
        elif ch == "y" and nxt in ("e", "o", "u", "a") and nxt and lower[i + 1 : i + 3] != "o'":
            cyr = {"e": "е", "o": "ё", "u": "ю", "a": "я"}[nxt]
            step = 2
            if nxt == "e" and prev and prev not in _LAT_VOWELS and prev != "'" and prev.isalpha():
                cyr = "ъе"  # obyekt -> объект: a consonant then ye needs the hard sign
        elif ch == "e":
            cyr = "э" if (i == 0 or prev in _LAT_VOWELS) else "е"
        else:
            # Standard Uzbek Latin has no lone c or w; in typed questions they are chat spellings of ch
            # and sh ("iwxonada", "qacon"), as index.analysis also reads them.
            cyr = {
                "a": "а", "b": "б", "c": "ч", "d": "д", "f": "ф", "g": "г", "h": "ҳ", "i": "и",
                "j": "ж", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "қ",
                "r": "р", "s": "с", "t": "т", "u": "у", "v": "в", "w": "ш", "x": "х", "y": "й", "z": "з",
            }.get(ch, word[i])
        if upper and cyr:
            cyr = cyr.upper() if (all_caps or len(cyr) == 1) else cyr[:1].upper() + cyr[1:]
        out.append(cyr)
        i += step
    return "".join(out)


def latin_to_cyrillic(text: str) -> str:
    """Transliterate Uzbek Latin (any apostrophe variant) to Uzbek Cyrillic; Cyrillic passes through."""
    return _LAT_WORD.sub(lambda m: _word_l2c(m.group(0)), text)
