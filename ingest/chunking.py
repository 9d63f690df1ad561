"""Cut documents into retrievable chunks that never cross an article and fit the embedding budget.

An article within budget is one chunk. A longer one is cut on its points, then its lines, then its
sentences, then windows of words, and consecutive pieces are packed back up to the budget. The budget
counts what gets embedded: ``heading + "\\n" + text`` (heading "Mehnat kodeksi, 253-modda. Title").
A chunk is a slice of the article text, so its line breaks and punctuation are the act's own.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.errors import ConfigError
from ingest.records import Article, Chunk, CitationPath, Document, make_ref
from ingest.structure import LANGS, point_spans

__all__ = ["CHUNK_ID_MAX", "UNITS", "chunk_document", "chunk_id", "derive_short_title", "format_citation"]

logger = logging.getLogger(__name__)

UNITS: tuple[str, ...] = ("article", "point", "service")

# Chunk ids stay exact as JSON numbers in JavaScript (Number.MAX_SAFE_INTEGER).
CHUNK_ID_MAX = 2**53 - 1
_ARTICLE = {"uz-Latn": "{}-modda", "uz-Cyrl": "{}-модда", "ru": "статья {}", "en": "Article {}"}
_POINT = {"uz-Latn": "{}-band", "uz-Cyrl": "{}-банд", "ru": "пункт {}", "en": "paragraph {}"}
_SUBPOINT = {
    "uz-Latn": "{}-kichik band",
    "uz-Cyrl": "{}-кичик банд",
    "ru": "подпункт {}",
    "en": "subparagraph {}",
}
_PREAMBLE = {"uz-Latn": "Preambula", "uz-Cyrl": "Преамбула", "ru": "Преамбула", "en": "Preamble"}
_POINT_DISPLAY = re.compile(r"^(?:\d+-(?:band|банд)|пункт \d+|paragraph \d+)$")

_BOILERPLATE = re.compile(
    r"O[ʻʼ'‘’`]?zbekiston\s+Respublikasining|Ўзбекистон\s+Республикасининг|Республики\s+Узбекистан"
    r"|(?:of\s+)?the\s+Republic\s+of\s+Uzbekistan",
    re.I,
)
_QUOTES = re.compile(r"[\"“”„‟«»]")
_SENTENCE_END = re.compile(r"(?<=[.!?;:…])\s+")
_WORD = re.compile(r"\S+")
_NEWLINE = re.compile(r"\n")
# Longer spans are not sent to the tokenizer whole: no tokenizer packs 64 characters into one token.
_CHARS_PER_TOKEN_CAP = 64


def derive_short_title(title: str) -> str:
    """Drop "Oʻzbekiston Respublikasining" / "Республики Узбекистан" and quotes from an act's title."""
    short = _QUOTES.sub("", _BOILERPLATE.sub(" ", title))
    short = " ".join(short.split()).strip(" ,.")
    return short[:1].upper() + short[1:] if short else title.strip()


def _check(lang: str, unit: str) -> None:
    if lang not in LANGS:
        raise ConfigError(f"lang={lang!r} is not supported; use one of {', '.join(LANGS)}")
    if unit not in UNITS:
        raise ConfigError(f"unit={unit!r} is not a citation unit; use one of {', '.join(UNITS)}")


def format_citation(
    *, short_title: str, display: str, article_id: str, point: str, lang: str, unit: str
) -> str:
    """A human citation: "Mehnat kodeksi, 253-modda, 2-band", "Трудовой кодекс, статья 253, пункт 2"."""
    _check(lang, unit)
    parts = [short_title.strip()]
    if unit == "service":
        parts.append(display or article_id)
    elif unit == "point":
        parts.append(display or _POINT[lang].format(article_id))
        parts.append(_SUBPOINT[lang].format(point) if point else "")
    else:
        shown = display or _ARTICLE[lang].format(article_id)
        # Mid-citation Russian writes "статья 253" in lower case, whatever the heading's capital.
        parts.append(shown[:1].lower() + shown[1:] if lang == "ru" and shown.startswith("Статья") else shown)
        parts.append(_POINT[lang].format(point) if point else "")
    return ", ".join(p for p in parts if p)


def chunk_id(doc_id: str, article_id: str, part: int, text: str) -> int:
    """A positive 53-bit id from blake2b, stable across runs and processes (unlike ``hash``).

    53 bits, not 63: JSON readers that hold numbers as doubles (JavaScript's ``JSON.parse``, jq before
    1.7) keep integers up to 2**53 exact, and the website and agent desktops read these ids. The chance
    of two equal ids among a million chunks is about 5·10^-5."""
    data = "\x1f".join((doc_id, article_id, str(part), text)).encode("utf-8")
    value = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") & CHUNK_ID_MAX
    return value or 1


def _lang_of(doc: Document) -> str:
    if doc.lang in LANGS:
        return doc.lang
    if doc.lang.startswith("uz"):
        return "uz-Cyrl" if doc.script == "Cyrl" else "uz-Latn"
    return "ru" if doc.lang.startswith("ru") else "en"


def _unit_of(doc: Document) -> str:
    """Services cite fields; a document says ``extra=(("unit", "point"),)`` or shows "12-band" displays."""
    if doc.kind == "service":
        return "service"
    declared = dict(doc.extra).get("unit", "")
    if declared in UNITS:
        return declared
    if doc.articles and all(_POINT_DISPLAY.match(a.display) for a in doc.articles):
        return "point"
    return "article"


@dataclass
class _Budget:
    """Answers "does heading + text[start:end] fit?" for one article."""

    heading: str
    body: str
    count_tokens: Callable[[str], int]
    max_tokens: int

    def embedded(self, start: int, end: int) -> str:
        return f"{self.heading}\n{self.body[start:end]}"

    def fits(self, start: int, end: int) -> bool:
        if end - start > self.max_tokens * _CHARS_PER_TOKEN_CAP:
            return False
        return self.count_tokens(self.embedded(start, end)) <= self.max_tokens


def _trim(body: str, start: int, end: int) -> tuple[int, int]:
    while start < end and body[start].isspace():
        start += 1
    while end > start and body[end - 1].isspace():
        end -= 1
    return start, end


def _sub_spans(body: str, start: int, end: int, splitter: re.Pattern[str]) -> list[tuple[int, int]]:
    spans, pos = [], start
    for match in splitter.finditer(body, start, end):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, end))
    return [s for s in (_trim(body, a, b) for a, b in spans) if s[0] < s[1]]


def _word_windows(budget: _Budget, start: int, end: int) -> list[tuple[int, int]]:
    """Greedy windows of words, each the longest that fits (binary search); a lone word always goes."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(budget.body, start, end)]
    windows, i = [], 0
    while i < len(words):
        low, high = 1, min(len(words) - i, budget.max_tokens)
        while low < high:
            mid = (low + high + 1) // 2
            if budget.fits(words[i][0], words[i + mid - 1][1]):
                low = mid
            else:
                high = mid - 1
        windows.append((words[i][0], words[i + low - 1][1]))
        i += low
    return windows


def _atoms(budget: _Budget) -> list[tuple[str, int, int]]:
    """Pieces that each fit (or are one word): points, else lines, else sentences, else word windows."""
    body = budget.body
    atoms: list[tuple[str, int, int]] = []
    for number, p_start, p_end in point_spans(body):
        p_start, p_end = _trim(body, p_start, p_end)
        if p_start == p_end:
            continue
        if budget.fits(p_start, p_end):
            atoms.append((number, p_start, p_end))
            continue
        for l_start, l_end in _sub_spans(body, p_start, p_end, _NEWLINE):
            if budget.fits(l_start, l_end):
                atoms.append((number, l_start, l_end))
                continue
            for s_start, s_end in _sub_spans(body, l_start, l_end, _SENTENCE_END):
                if budget.fits(s_start, s_end):
                    atoms.append((number, s_start, s_end))
                else:
                    atoms.extend((number, a, b) for a, b in _word_windows(budget, s_start, s_end))
    return atoms


def _pack(budget: _Budget, atoms: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Join consecutive atoms while the joined slice fits; the chunk's point is its first atom's, or
    the only numbered point it holds."""
    packed: list[tuple[str, int, int]] = []
    group: list[tuple[str, int, int]] = []

    def flush() -> None:
        numbers = {n for n, _, _ in group if n}
        point = group[0][0] or (next(iter(numbers)) if len(numbers) == 1 else "")
        packed.append((point, group[0][1], group[-1][2]))

    for atom in atoms:
        if group and budget.fits(group[0][1], atom[2]):
            group.append(atom)
            continue
        if group:
            flush()
        group = [atom]
    if group:
        flush()
    return packed


def _fit_heading(heading: str, count_tokens: Callable[[str], int], max_tokens: int) -> str:
    """Shorten a heading that would take more than half the budget, word by word, ending in "…"."""
    if count_tokens(heading + "\n") <= max_tokens // 2:
        return heading
    words = heading.split()
    low, high = 0, len(words)
    while low < high:
        mid = (low + high + 1) // 2
        if count_tokens(" ".join(words[:mid]) + "…\n") <= max_tokens // 2:
            low = mid
        else:
            high = mid - 1
    return " ".join(words[:low]) + "…"


def chunk_document(
    doc: Document, *, count_tokens: Callable[[str], int], max_tokens: int = 256
) -> list[Chunk]:
    """Chunk every article of ``doc`` (its preamble only when it has no articles), in order."""
    if max_tokens < 16:
        raise ConfigError(f"max_tokens={max_tokens} is too small for a heading and a passage; use 16 or more")
    lang, unit = _lang_of(doc), _unit_of(doc)
    short = doc.short_title or derive_short_title(doc.title)
    articles = doc.articles
    if not articles and doc.preamble.strip():
        articles = (Article("preamble", _PREAMBLE[lang], "", doc.preamble),)
    chunks: list[Chunk] = []
    for article in articles:
        head = format_citation(
            short_title=short,
            display=article.display,
            article_id=article.article_id,
            point="",
            lang=lang,
            unit=unit,
        )
        if article.title and article.title != article.display:
            head = f"{head}. {article.title}"
        body = article.text if article.text.strip() else article.title  # a title-only (repealed) article
        budget = _Budget(_fit_heading(head, count_tokens, max_tokens), body,
                         count_tokens, max_tokens)
        for part, (point, start, end) in enumerate(_pack(budget, _atoms(budget))):
            text = budget.body[start:end]
            citation = format_citation(
                short_title=short, display=article.display, article_id=article.article_id, point=point,
                lang=lang, unit=unit,
            )
            chunks.append(
                Chunk(
                    id=chunk_id(doc.id, article.article_id, part, text),
                    doc_id=doc.id,
                    ref=make_ref(doc.work_id, article.article_id),
                    article_id=article.article_id,
                    point=point,
                    seq=len(chunks),
                    text=text,
                    heading=budget.heading,
                    citation=citation,
                    path=CitationPath(short, article.section, article.chapter, article.display, point),
                    lang=doc.lang,
                    script=doc.script,
                    tokens=count_tokens(budget.embedded(start, end)),
                )
            )
    logger.debug("%s: %d articles → %d chunks", doc.id, len(articles), len(chunks))
    return chunks
