"""Mask personal data typed into the search box before a query is stored.

``mask_personal_data`` replaces, in this order, e-mail addresses (``[EMAIL]``), payment card numbers
(13-19 digits passing the Luhn check, ``[CARD]``), PINFL personal numbers (14 digits, ``[PINFL]``),
phone numbers (+998 forms and 9-digit local forms with an Uzbek operator code, ``[PHONE]``) and
Uzbek passport / ID-card numbers (two Latin or Cyrillic capital letters and 7 digits, ``[PASSPORT]``).
Digit groups may be separated by spaces, dashes or dots. Legal numbers stay untouched: article
references ("253-modda"), years, dates, decree numbers ("PF-5963", "ПП-4000") are too short or do not
have the shape of any pattern. See docs/insights.md.
"""

from __future__ import annotations

import logging
import re

__all__ = ["PLACEHOLDERS", "mask_personal_data"]

logger = logging.getLogger(__name__)

PLACEHOLDERS = ("[EMAIL]", "[CARD]", "[PINFL]", "[PHONE]", "[PASSPORT]")

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?!\w)")
# A run of 13-19 digits, possibly grouped by single spaces, dashes or dots ("8600 1234 5678 9012").
_DIGIT_RUN = re.compile(r"(?<![\w+])\d(?:[ \-.]?\d){12,18}(?!\w)")
# Uzbek mobile and fixed operator codes (the two digits after +998).
_OPERATORS = r"(?:33|50|55|61|62|65|66|67|69|70|71|72|73|74|75|76|77|78|79|88|90|91|93|94|95|97|98|99)"
_SEP = r"[ \-.]?"
_PHONE_INTL = re.compile(
    r"(?<![\w+])(?:\+|00)?998" + _SEP + r"\(?\d{2}\)?" + _SEP + r"\d{3}" + _SEP + r"\d{2}" + _SEP + r"\d{2}(?!\w)"
)
# A 9-digit local number ("90 123 45 67", "(90) 123-45-67", "901234567"), its operator code first.
_PHONE_LOCAL = re.compile(
    r"(?<![\w+\-./])\(?" + _OPERATORS + r"\)?" + _SEP + r"\d{3}" + _SEP + r"\d{2}" + _SEP + r"\d{2}(?![\w\-/]|\.\d)"
)
# Passport/ID series: two capital letters (Latin, or Cyrillic as typed on a Russian keyboard), 7 digits.
_PASSPORT = re.compile(r"(?<![\w\-])[A-Za-zА-ЯЁЎҚҒҲа-яёўқғҳ]{2}[ №#-]?\d{7}(?!\w)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digit_run(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if len(digits) == 14:
        return "[PINFL]"
    if _luhn_ok(digits):
        return "[CARD]"
    return match.group(0)


def mask_personal_data(text: str) -> str:
    """``text`` with e-mails, card numbers, PINFL, phone and passport numbers replaced by placeholders."""
    masked = _EMAIL.sub("[EMAIL]", text)
    masked = _DIGIT_RUN.sub(_digit_run, masked)
    masked = _PHONE_INTL.sub("[PHONE]", masked)
    masked = _PHONE_LOCAL.sub("[PHONE]", masked)
    masked = _PASSPORT.sub("[PASSPORT]", masked)
    if masked != text:
        logger.debug("personal data masked in a query")
    return masked
