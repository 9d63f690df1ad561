"""Read a public-service description into the fields of ``SERVICE_FIELDS``.

A description is plain text or Markdown whose sections open with a known heading in Uzbek (Latin or
Cyrillic), Russian or English: "Kerakli hujjatlar:", "Необходимые документы", "## Fee". Text before
the first heading is the summary. Each non-empty field becomes one citable ``Article`` whose id is the
field key ("documents"), so a chunk cites "Pasport olish, Kerakli hujjatlar".
"""

from __future__ import annotations

import logging
import re

from ingest.errors import ConfigError
from ingest.records import SERVICE_FIELDS, Article

__all__ = ["FIELD_NAMES", "parse_service_text", "service_articles"]

logger = logging.getLogger(__name__)

# The name each language gives a field; the first alias of each language is how we display it.
FIELD_NAMES: dict[str, dict[str, str]] = {
    "uz-Latn": {
        "summary": "Qisqacha tavsif",
        "who_may_apply": "Kimlar murojaat qilishi mumkin",
        "documents": "Kerakli hujjatlar",
        "fee": "Davlat boji / Toʻlov",
        "time_limit": "Muddati",
        "result": "Natija",
        "channels": "Murojaat qilish usullari",
        "authority": "Vakolatli organ",
        "legal_basis": "Huquqiy asos",
        "appeal": "Shikoyat qilish tartibi",
    },
    "uz-Cyrl": {
        "summary": "Қисқача тавсиф",
        "who_may_apply": "Кимлар мурожаат қилиши мумкин",
        "documents": "Керакли ҳужжатлар",
        "fee": "Давлат божи / Тўлов",
        "time_limit": "Муддати",
        "result": "Натижа",
        "channels": "Мурожаат қилиш усуллари",
        "authority": "Ваколатли орган",
        "legal_basis": "Ҳуқуқий асос",
        "appeal": "Шикоят қилиш тартиби",
    },
    "ru": {
        "summary": "Краткое описание",
        "who_may_apply": "Кто может обратиться",
        "documents": "Необходимые документы",
        "fee": "Стоимость / Госпошлина",
        "time_limit": "Срок",
        "result": "Результат",
        "channels": "Способы подачи",
        "authority": "Орган",
        "legal_basis": "Правовая основа",
        "appeal": "Порядок обжалования",
    },
    "en": {
        "summary": "Summary",
        "who_may_apply": "Who may apply",
        "documents": "Documents",
        "fee": "Fee",
        "time_limit": "Time limit",
        "result": "Result",
        "channels": "Channels",
        "authority": "Authority",
        "legal_basis": "Legal basis",
        "appeal": "Appeal",
    },
}

# Other ways the same headings are written; all languages are accepted whatever ``lang`` says.
_ALIASES: dict[str, tuple[str, ...]] = {
    "summary": (
        "qisqacha", "tavsif", "xizmat haqida", "қисқача", "тавсиф", "хизмат ҳақида", "описание", "об услуге",
        "description", "about", "overview",
    ),
    "who_may_apply": (
        "murojaat qiluvchilar", "ariza beruvchilar", "xizmat oluvchilar", "мурожаат қилувчилар",
        "ариза берувчилар", "заявители", "получатели услуги", "кто может подать заявление", "who can apply",
        "eligibility", "applicants",
    ),
    "documents": (
        "zarur hujjatlar", "talab qilinadigan hujjatlar", "hujjatlar", "зарур ҳужжатлар", "ҳужжатлар",
        "документы", "перечень документов", "перечень необходимых документов", "required documents",
    ),
    "fee": (
        "davlat boji", "toʻlov", "xizmat narxi", "narxi", "давлат божи", "тўлов", "хизмат нархи", "нархи",
        "стоимость", "госпошлина", "государственная пошлина", "оплата", "fees", "cost", "state duty",
    ),
    "time_limit": (
        "koʻrib chiqish muddati", "xizmat koʻrsatish muddati", "muddat", "кўриб чиқиш муддати", "муддат",
        "сроки", "срок оказания услуги", "срок рассмотрения", "processing time", "deadline", "duration",
    ),
    "result": (
        "natijasi", "xizmat natijasi", "натижаси", "результат услуги", "outcome",
    ),
    "channels": (
        "murojaat usullari", "ariza berish usullari", "мурожаат усуллари", "ариза бериш усуллари",
        "способы обращения", "способы подачи заявления", "how to apply", "where to apply",
    ),
    "authority": (
        "xizmat koʻrsatuvchi organ", "masʼul organ", "хизмат кўрсатувчи орган", "масъул орган",
        "уполномоченный орган", "ответственный орган", "responsible authority", "competent authority",
    ),
    "legal_basis": (
        "huquqiy asoslar", "normativ-huquqiy asos", "ҳуқуқий асослар", "правовое основание",
        "правовые основания", "нормативно-правовая база",
    ),
    "appeal": (
        "shikoyat berish tartibi", "shikoyat qilish", "шикоят бериш тартиби", "обжалование", "appeals",
        "how to appeal",
    ),
}

_APOSTROPHES = str.maketrans({c: "'" for c in "ʻʼ‘’`´"})
_JOINERS = re.compile(r"\s*/\s*|\s*,\s*|\s+(?:va|yoki|и|или|ва|ёки|and|or)\s+")
_PAREN = re.compile(r"\s*\([^()]{0,60}\)\s*$")


def _undecorate(line: str) -> str:
    """Drop Markdown heading marks and bold around a line: "## **Muddati:**" → "Muddati:"."""
    return line.strip().lstrip("#").strip().strip("*_").strip()


def _norm(label: str) -> str:
    return " ".join(label.translate(_APOSTROPHES).casefold().replace("ё", "е").split())


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for names in FIELD_NAMES.values():
        for key, name in names.items():
            for part in name.split(" / "):
                lookup[_norm(part)] = key
    for key, aliases in _ALIASES.items():
        lookup.update({_norm(alias): key for alias in aliases})
    return lookup


_LOOKUP = _build_lookup()


def _check_lang(lang: str) -> None:
    if lang not in FIELD_NAMES:
        raise ConfigError(f"lang={lang!r} is not supported; use one of {', '.join(FIELD_NAMES)}")


def _field_of(label: str) -> str | None:
    """The field a heading label names: "Davlat boji / To‘lov" → "fee"; None for anything else."""
    if len(label) > 120:
        return None
    label = _PAREN.sub("", _undecorate(label))
    if not label:
        return None
    keys = {_LOOKUP.get(_norm(part)) for part in _JOINERS.split(label)}
    if len(keys) == 1 and None not in keys:
        return keys.pop()
    return _LOOKUP.get(_norm(label))


def _heading(line: str) -> tuple[str, str] | None:
    """(field, text after the colon) when the line opens a section."""
    label, _, rest = line.partition(":")
    key = _field_of(label)
    return None if key is None else (key, _undecorate(rest))


def parse_service_text(text: str, *, lang: str) -> dict[str, str]:
    """Split a service description into ``SERVICE_FIELDS``; missing fields are empty strings."""
    _check_lang(lang)
    parts: dict[str, list[str]] = {key: [] for key in SERVICE_FIELDS}
    current = "summary"
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        heading = _heading(line)
        if heading:
            current, rest = heading
            if rest:
                parts[current].append(rest)
            continue
        parts[current].append(line.rstrip())
    fields = {key: "\n".join(lines).strip() for key, lines in parts.items()}
    logger.debug("service fields found: %s", [key for key, value in fields.items() if value])
    return fields


def service_articles(fields: dict[str, str], *, lang: str) -> tuple[Article, ...]:
    """One citable Article per non-empty field, in ``SERVICE_FIELDS`` order, named in ``lang``."""
    _check_lang(lang)
    unknown = sorted(set(fields) - set(SERVICE_FIELDS))
    if unknown:
        raise ConfigError(
            f"unknown service fields {unknown}; use the keys of SERVICE_FIELDS: {', '.join(SERVICE_FIELDS)}"
        )
    names = FIELD_NAMES[lang]
    return tuple(
        Article(article_id=key, display=names[key], title=names[key], text=fields[key].strip())
        for key in SERVICE_FIELDS
        if fields.get(key, "").strip()
    )
