"""Normalised fee and time-limit values read from one sentence's matching key.

The key is ``normalize_key`` output: casefolded, apostrophes folded to ``'``, Uzbek Cyrillic already
in Latin, Russian ``ё`` as ``е``. Values are short strings so that they compare and serialise plainly:

fee          ``free`` · ``bhm:1`` (multiples of the base calculation amount, BHM / БРВ) · ``uzs:150000``
time limit   ``same_day`` · ``hours:N`` · ``days:N`` (calendar) · ``wdays:N`` (working days) · ``months:N``

A sentence that speaks of the element without a figure yields ``unspecified`` from the caller, not here.
"""

from __future__ import annotations

import logging
import re

__all__ = ["approx_days", "parse_fee", "parse_number", "parse_time_limit", "values_agree"]

logger = logging.getLogger(__name__)

# Number words written out in acts: Uzbek (Latin key), Russian (every case we meet), English.
_UNITS: dict[str, int] = {
    "bir": 1, "ikki": 2, "uch": 3, "to'rt": 4, "besh": 5, "olti": 6, "yetti": 7, "sakkiz": 8, "to'qqiz": 9,
    "o'n": 10, "yigirma": 20, "o'ttiz": 30, "qirq": 40, "ellik": 50, "oltmish": 60, "to'qson": 90,
    "один": 1, "одного": 1, "одной": 1, "одну": 1, "одна": 1, "два": 2, "двух": 2, "две": 2, "три": 3,
    "трех": 3, "четыре": 4, "четырех": 4, "пять": 5, "пяти": 5, "шесть": 6, "шести": 6, "семь": 7,
    "семи": 7, "десять": 10, "десяти": 10, "пятнадцать": 15, "пятнадцати": 15, "двадцать": 20,
    "двадцати": 20, "тридцать": 30, "тридцати": 30, "шестьдесят": 60, "шестидесяти": 60, "девяносто": 90,
    "девяноста": 90,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10, "fifteen": 15,
    "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90, "a": 1, "an": 1,
}
_TENS_UZ = {"o'n": 10, "yigirma": 20, "o'ttiz": 30, "qirq": 40, "ellik": 50}
_WORD_NUM = "|".join(sorted((re.escape(w) for w in _UNITS if w not in ("a", "an")), key=len, reverse=True))
# A number as digits ("10", "1,5") or words ("o'n besh", "пятнадцати", "one"); the longest words first.
NUM = rf"(?<![\w'])(\d+(?:[.,]\d+)?|(?:{_WORD_NUM})(?:\s+(?:{_WORD_NUM}))?)"

_FREE = re.compile(
    r"(?<!\w)(?:bepul|tekin|haq olinmaydi|to'lov (?:olinmaydi|undirilmaydi)|to'lovsiz|бесплатн\w*|"
    r"безвозмездн\w*|плата не взимается|без взимания (?:платы|пошлины)|free of charge|is free|"
    r"free(?=[.;,]?$)|no fee is charged|no charge)"
)
_BHM = r"(?:bhm|brv|брв|бхм|bazaviy hisoblash miqdor\w*|базов\w* расчетн\w* величин\w*|base calculation amounts?)"
_BHM_AFTER = re.compile(rf"{NUM}\s*(?:-?\s*(?:baravar\w*|кратн\w*|times|x))?\s*{_BHM}")
_BHM_BEFORE = re.compile(
    rf"{_BHM}(?:ning|ining)?\s+(?:в размере\s+|in the amount of\s+)?{NUM}\s*(?:-?\s*baravar\w*|кратн\w*|times)"
)
_BHM_PERCENT = re.compile(rf"{NUM}\s*(?:%|foiz\w*|процент\w*|per ?cent)\s*(?:mi\w*\s+)?{_BHM}")
_BHM_PERCENT_BEFORE = re.compile(rf"{_BHM}(?:ning|ining)?\s+{NUM}\s*(?:%|foiz\w*|процент\w*|per ?cent)")
_UZS = re.compile(r"(\d[\d  ]*\d|\d)\s*(?:so'm|сум\w*|sum|uzs)(?!\w)")

_SAME_DAY = re.compile(
    r"(?<!\w)(?:murojaat kunida|ariza berilgan kunda|shu kunning o'zida|o'sha kuni|darhol|"
    r"в день (?:обращения|подачи)|в тот же день|сразу|немедленно|"
    r"on the (?:same )?day of (?:application|the application)|the same day|immediately)(?!\w)"
)
_HOURS = re.compile(rf"{NUM}\s*(?:soat|час\w*|hours?)(?!\w)")
_WDAYS = re.compile(rf"{NUM}\s*(?:ish kun\w*|рабоч\w* (?:дн\w*|день)|working days?|business days?)")
_DAYS = re.compile(rf"{NUM}\s*(?:kun\w*|дн(?:ей|я)|день|суток|календарн\w* дн\w*|calendar days?|days?)(?!\w)")
_MONTHS = re.compile(rf"{NUM}\s*(?:oy(?:gacha|ga|lik|dan)?|месяц\w*|months?)(?!\w)")
_MONTH_ALONE = re.compile(r"(?<!\w)(?:месячн\w* срок|в течение месяца|within a month|a month)(?!\w)")


def parse_number(text: str) -> float | None:
    """A number written as digits or words: "10" → 10, "o'n besh" → 15, "пятнадцати" → 15, "1,5" → 1.5."""
    text = text.strip()
    if not text:
        return None
    if text[0].isdigit():
        try:
            return float(text.replace(",", ".").replace(" ", "").replace("\u00a0", ""))
        except ValueError:
            return None
    words = text.split()
    if len(words) == 2 and words[0] in _TENS_UZ and _UNITS.get(words[1], 99) < 10:
        return float(_TENS_UZ[words[0]] + _UNITS[words[1]])
    if len(words) == 2 and _UNITS.get(words[0], 0) >= 20 and _UNITS.get(words[1], 99) < 10:
        return float(_UNITS[words[0]] + _UNITS[words[1]])
    value = _UNITS.get(words[-1]) if len(words) == 2 and words[0] not in _UNITS else _UNITS.get(words[0])
    return None if value is None else float(value)


def _fmt(number: float) -> str:
    return str(int(number)) if number == int(number) else f"{number:g}"


def _numbers(pattern: re.Pattern[str], key: str) -> list[float]:
    found = []
    for match in pattern.finditer(key):
        number = parse_number(match.group(1))
        if number is not None and number > 0:
            found.append(number)
    return found


def parse_fee(key: str) -> tuple[str, ...]:
    """The fee values a sentence states: ``free``, ``bhm:N`` (N may be a fraction), ``uzs:N``."""
    values: list[str] = []
    if _FREE.search(key):
        values.append("free")
    for number in _numbers(_BHM_PERCENT, key) + _numbers(_BHM_PERCENT_BEFORE, key):
        values.append(f"bhm:{_fmt(round(number / 100, 4))}")
    if not any(v.startswith("bhm:") for v in values):
        for pattern in (_BHM_AFTER, _BHM_BEFORE):
            values.extend(f"bhm:{_fmt(n)}" for n in _numbers(pattern, key))
    for match in _UZS.finditer(key):
        digits = re.sub(r"\D", "", match.group(1))
        if digits and int(digits) > 0:
            values.append(f"uzs:{int(digits)}")
    return tuple(dict.fromkeys(values))


def parse_time_limit(key: str) -> tuple[str, ...]:
    """The time limits a sentence states: ``same_day``, ``hours:N``, ``days:N``, ``wdays:N``, ``months:N``."""
    values: list[str] = []
    if _SAME_DAY.search(key):
        values.append("same_day")
    values.extend(f"hours:{_fmt(n)}" for n in _numbers(_HOURS, key))
    working = _numbers(_WDAYS, key)
    values.extend(f"wdays:{_fmt(n)}" for n in working)
    values.extend(f"days:{_fmt(n)}" for n in _numbers(_DAYS, key) if n not in working)
    months = _numbers(_MONTHS, key)
    if not months and _MONTH_ALONE.search(key):
        months = [1.0]
    values.extend(f"months:{_fmt(n)}" for n in months)
    return tuple(dict.fromkeys(values))


def approx_days(value: str) -> float | None:
    """A time-limit value in calendar days, roughly (a working week is 5 of 7 days, a month 30 days)."""
    unit, _, number = value.partition(":")
    if unit == "same_day":
        return 0.0
    try:
        n = float(number)
    except ValueError:
        return None
    return {"hours": n / 24, "days": n, "wdays": n * 7 / 5, "months": n * 30}.get(unit)


def values_agree(a: str, b: str) -> bool:
    """Whether two normalised values can describe the same rule.

    Equal strings agree; a count of days agrees with the same count of working days (texts use both for one
    rule), and with a month when it is 30 or 31; hours within the same day agree with ``same_day``.
    """
    if a == b:
        return True
    ua, _, na = a.partition(":")
    ub, _, nb = b.partition(":")
    if {ua, ub} == {"days", "wdays"}:
        return na == nb
    if {ua, ub} == {"days", "months"}:
        days, months = (na, nb) if ua == "days" else (nb, na)
        return float(months) * 30 <= float(days) <= float(months) * 31
    if {ua, ub} == {"hours", "same_day"}:
        hours = na if ua == "hours" else nb
        return float(hours) <= 24
    return False
