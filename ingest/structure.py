"""Split the text of a legal act into sections, chapters, articles and points.

Headings count only at the start of a line, so a cross-reference such as "…Kodeksning 161-moddasi…"
never opens an article. Every pattern is tried whatever ``lang`` says; ``lang`` only chooses how a
point-unit act writes its units ("12-band", "12-банд", "пункт 12", "paragraph 12").

Article ids are normalised: 480¹, 480-1 and a flattened "4801" seen between 480 and 481 all become
"480.1". Acts without articles (a Nizom, a Положение) are cited by their top-level points "12." and
get ``unit="point"``: article_id "12", display "12-band" / "12-банд" / "пункт 12" / "paragraph 12".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

from ingest.errors import ConfigError
from ingest.records import Article, Point

__all__ = [
    "LANGS",
    "ParsedAct",
    "Unit",
    "normalize_article_number",
    "parse_points",
    "parse_structure",
    "point_spans",
]

logger = logging.getLogger(__name__)

LANGS: tuple[str, ...] = ("uz-Latn", "uz-Cyrl", "ru", "en")
Unit = Literal["article", "point"]

_SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_TO_DIGIT = str.maketrans(_SUP, "0123456789")
_TO_SUP = str.maketrans("0123456789", _SUP)
_ROMAN = r"[IVXLC]{1,7}"
_SEP = r"(?:\s{0,3}-\s{0,3}|\s{1,3})"
# Article headings; the number allows superscripts (480¹) and a hyphenated insert (480-1).
_NUM = rf"\d{{1,6}}(?:[{_SUP}]{{1,3}})?"
_ART_UZ = re.compile(rf"(?P<num>{_NUM}(?:\s?-\s?\d{{1,3}})?)\s{{0,3}}-\s{{0,3}}(?P<kw>modda|модда)(?!\w)", re.I)
_ART_RU = re.compile(rf"(?P<kw>статья|article)\s{{1,3}}(?P<num>{_NUM}(?:[-.]\d{{1,3}}(?!\d))?)(?!\w)", re.I)
_SECTION = (
    re.compile(
        rf"(?:{_ROMAN}\d?|\d{{1,3}}|(?:O[ʻ'‘’`]?N\s|ЎН\s)?\w{{2,20}}(?:INCHI|ИНЧИ))"
        rf"{_SEP}(?:KICHIK\s|КИЧИК\s)?(?:BO[ʻ'‘’`]?LIM|БЎЛИМ)(?!\w)",
        re.I,
    ),
    re.compile(rf"(?:раздел|part)\s{{1,3}}(?:{_ROMAN}|\d{{1,3}})(?!\w)", re.I),
)
_CHAPTER = (
    re.compile(rf"(?:{_ROMAN}|\d{{1,3}}[{_SUP}]?){_SEP}(?:bob|боб)(?!\w)", re.I),
    re.compile(
        rf"(?:глава|chapter)\s{{1,3}}(?:\d{{1,3}}(?:[{_SUP}]|[-.]\d{{1,2}}(?!\d))?|{_ROMAN})(?!\w)", re.I
    ),
)
# "I. Общие положения": a chapter of a Положение; only used in acts that have no articles.
_ROMAN_CHAPTER = re.compile(rf"{_ROMAN}\.\s")
_TOP_POINT = re.compile(r"(?P<num>\d{1,4})\.\s")
_POINT = re.compile(r"\s{0,8}(?P<num>\d{1,3})(?P<delim>\)|\.(?!\d))")
_SUBPOINT = re.compile(r"\s{0,8}[a-zа-яёўқғҳ]\)", re.I)
_CONTINUATION = ("-", "—", "–", "•", "*", "·")
_POINT_DISPLAY = {"uz-Latn": "{}-band", "uz-Cyrl": "{}-банд", "ru": "пункт {}", "en": "paragraph {}"}


@dataclass(frozen=True)
class ParsedAct:
    """The structure of one act: its title, the text before the first unit, and its citation units."""

    title: str
    preamble: str
    articles: tuple[Article, ...]
    unit: Unit = "article"


def normalize_article_number(raw: str) -> str:
    """Normalise an article number as written: "480¹" → "480.1", "480-1" → "480.1", "253" → "253"."""
    text = re.sub(r"\s+", "", raw)
    sup = re.fullmatch(rf"(\d+)([{_SUP}]+)", text)
    if sup:
        return f"{int(sup[1])}.{int(sup[2].translate(_SUP_TO_DIGIT))}"
    parts = re.fullmatch(r"(\d+)(?:[-.](\d+))?", text)
    if not parts:
        raise ConfigError(f"article number {raw!r} is not a number like '253', '480¹' or '480-1'")
    return f"{int(parts[1])}.{int(parts[2])}" if parts[2] else str(int(parts[1]))


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ConfigError(f"lang={lang!r} is not supported; use one of {', '.join(LANGS)}")


def _accepts_rest(rest: str) -> bool:
    """A heading is followed by nothing, a full stop, or a capitalised title — never a running sentence."""
    rest = rest.lstrip()
    return not rest or rest[0] in ".:)" or not rest[0].islower()


def _heading(line: str) -> tuple[str, str, bool] | None:
    """(kind, heading text, untitled) when the line opens a section or a chapter."""
    for kind, patterns in (("section", _SECTION), ("chapter", _CHAPTER)):
        for pattern in patterns:
            match = pattern.match(line)
            if match and _accepts_rest(line[match.end() :]):
                return kind, line.strip(), not line[match.end() :].strip(" .:")
    return None


@dataclass
class _Candidate:
    line: int
    num: str
    kw: str
    russian_order: bool
    title: str
    strong: bool


def _article_candidate(index: int, line: str) -> _Candidate | None:
    for pattern, russian_order in ((_ART_UZ, False), (_ART_RU, True)):
        match = pattern.match(line)
        if not match:
            continue
        rest = line[match.end() :]
        stripped = rest.strip()
        if not _accepts_rest(rest):
            return None
        strong = not stripped or stripped[0] in ".:"
        title = stripped.lstrip(".:").strip()
        num = re.sub(r"\s+", "", match["num"])
        return _Candidate(index, num, match["kw"], russian_order, title, strong)
    return None


def _key(article_id: str) -> tuple[int, int]:
    major, _, minor = article_id.partition(".")
    return int(major), int(minor or 0)


def _unflatten(num: str, last: int, later: list[int]) -> tuple[str, str] | None:
    """Read a digit run that breaks the numbering as an insert whose superscript was lost.

    "4801" after 480 and before 481 is 480¹; "441" after 32 and before 45 is 44¹ (44 was repealed).
    Returns (article id, number as displayed) or None when the number fits the sequence as it is.
    """
    n = int(num)
    if len(num) < 2 or not last or n <= last + 1:
        return None
    following = later[0] if later else None
    if following is not None and n < min(following, 10 * last):  # a gap left by repealed articles
        return None
    ahead = [v for v in later if v > last]
    if ahead and n <= min(ahead) or not ahead and n <= last + 100:
        return None
    # Before the next article the base may be any skipped number; at the end only the last article.
    low, high = (last, min(ahead)) if ahead else (last, last + 1)
    for cut in (len(num) - 1, len(num) - 2):
        base, suffix = num[:cut], num[cut:]
        if cut > 0 and suffix[0] != "0" and low <= int(base) < high:
            return f"{int(base)}.{int(suffix)}", base + suffix.translate(_TO_SUP)
    return None


def _resolve(candidates: list[_Candidate]) -> list[tuple[_Candidate, str, str]]:
    """Keep the candidates that continue the numbering; returns (candidate, article_id, display)."""
    kept: list[tuple[_Candidate, str, str]] = []
    seen: set[str] = set()
    last = (0, 0)
    values = [_key(normalize_article_number(c.num))[0] for c in candidates]
    for i, cand in enumerate(candidates):
        article_id, shown = normalize_article_number(cand.num), cand.num
        if cand.num.isdecimal() and (flat := _unflatten(cand.num, last[0], values[i + 1 : i + 301])):
            article_id, shown = flat
        key = _key(article_id)
        if article_id in seen or (not cand.strong and key <= last):
            continue
        seen.add(article_id)
        last = key
        display = f"{cand.kw} {shown}" if cand.russian_order else f"{shown}-{cand.kw}"
        kept.append((cand, article_id, display))
    return kept


def point_spans(text: str) -> list[tuple[str, int, int]]:
    """Cut an article's text into consecutive line spans: (point number or "", start, end).

    A point opens at "1)" or "1." when it continues the numbering with the delimiter the first point
    used; lettered subpoints ("а)", "a)"), bullets and lower-case lines stay in the current point; a
    capitalised line after a line ending in "." closes it (an unnumbered paragraph, a "qism").
    """
    spans: list[tuple[str, int, int]] = []
    number, start, pos, last, delim, prev = "", 0, 0, 0, "", ""
    for line in text.split("\n"):
        end = pos + len(line)
        match = _POINT.match(line)
        stripped = line.strip()
        opens = bool(match) and int(match["num"]) == last + 1 and (not delim or match["delim"] == delim)
        closes = (
            bool(number)
            and bool(stripped)
            and not opens
            and not _SUBPOINT.match(line)
            and not stripped.startswith(_CONTINUATION)
            and not stripped[0].islower()
            and prev.endswith(".")
        )
        if (opens or closes) and pos > start:
            spans.append((number, start, pos - 1))
            start = pos
        if opens and match:
            number, last, delim = match["num"], int(match["num"]), match["delim"]
        elif closes:
            number = ""
        prev = stripped or prev
        pos = end + 1
    spans.append((number, start, len(text)))
    return [(num, s, e) for num, s, e in spans if text[s:e].strip()]


def parse_points(text: str) -> tuple[Point, ...]:
    """The numbered points of an article's text (subpoints stay inside their point)."""
    return tuple(Point(num, text[s:e].strip()) for num, s, e in point_spans(text) if num)


def _block(lines: list[str]) -> str:
    return "\n".join(lines).strip()


def _split_title(lines: list[str]) -> tuple[str, str]:
    """The leading short lines (not sentences) before the first blank line are the title."""
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    lines = lines[first:]
    head: list[str] = []
    for line in lines[:4]:
        if not line.strip() or len(line) > 300 or line.rstrip().endswith((".", ";", ":")):
            break
        head.append(line.strip())
    if not head or sum(map(len, head)) > 300:
        head = head[:1] if head and len(head[0]) <= 300 else []
    return " ".join(head), _block(lines[len(head) :])


def parse_structure(text: str, *, lang: str) -> ParsedAct:
    """Parse an act into its title, preamble and citation units (articles, or top-level points)."""
    _check_lang(lang)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    candidates = [c for i, line in enumerate(lines) if (c := _article_candidate(i, line.lstrip()))]
    units = [_Unit(c.line, aid, display, c.title, "") for c, aid, display in _resolve(candidates)]
    unit: Unit = "article"
    if not units:
        units = _top_points(lines, lang)
        unit = "point" if len(units) >= 2 else "article"
        units = units if unit == "point" else []
    starts = {u.line: u for u in units}
    articles: list[Article] = []
    preamble: list[str] = []
    section = chapter = ""
    current: _Unit | None = None
    body: list[str] = []
    pending: tuple[str, str, bool] | None = None  # a heading without a title, waiting for its title line

    def close() -> None:
        if current is None:
            return
        content = _block(body)
        if content or current.title:  # never an empty article
            points = parse_points(content)
            articles.append(
                Article(current.article_id, current.display, current.title, content, section, chapter, points)
            )

    for i, line in enumerate(lines):
        stripped = line.strip()
        if i in starts:
            close()
            current, pending = starts[i], None
            body = [current.first] if current.first else []
            continue
        heading = _heading(stripped) if stripped else None
        if heading is None and unit == "point" and _ROMAN_CHAPTER.match(stripped) and len(stripped) < 200:
            heading = ("chapter", stripped, False)
        if heading:
            close()
            current, body = None, []
            kind, name, untitled = heading
            section, chapter = (name, "") if kind == "section" else (section, name)
            pending = heading if untitled else None
            continue
        if pending and stripped and len(stripped) <= 200:
            kind, name, _ = pending
            joined = f"{name} {stripped}" if name.endswith(".") else f"{name}. {stripped}"
            section, chapter = (joined, chapter) if kind == "section" else (section, joined)
            pending = None
            continue
        pending = pending if not stripped else None
        if current is not None:
            body.append(line)
        elif articles and stripped:
            # Text after a heading but before the next unit: keep it, with the unit before it.
            articles[-1] = _extend(articles[-1], stripped)
        elif not articles:
            preamble.append(line)
    close()
    title, pre = _split_title(preamble)
    return ParsedAct(title=title, preamble=pre, articles=tuple(articles), unit=unit)


@dataclass(frozen=True)
class _Unit:
    line: int
    article_id: str
    display: str
    title: str
    first: str  # the text on the heading line that belongs to the body (a point's own words)


def _extend(article: Article, line: str) -> Article:
    text = f"{article.text}\n{line}".strip()
    return Article(
        article.article_id,
        article.display,
        article.title,
        text,
        article.section,
        article.chapter,
        parse_points(text),
    )


def _top_points(lines: list[str], lang: str) -> list[_Unit]:
    """Top-level points "12. …" that continue the numbering (gaps of up to 3 for repealed points)."""
    found: list[_Unit] = []
    last = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        match = _TOP_POINT.match(stripped)
        if match and last < int(match["num"]) <= last + 3:
            last = int(match["num"])
            display = _POINT_DISPLAY[lang].format(last)
            found.append(_Unit(i, str(last), display, "", stripped[match.end() :].strip()))
    return found
