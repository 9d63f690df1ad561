"""Service descriptions: headings in four language forms become SERVICE_FIELDS; fields become articles."""

from __future__ import annotations

import pytest

from ingest.errors import ConfigError
from ingest.records import SERVICE_FIELDS
from ingest.services import parse_service_text, service_articles

UZ_LATN = """\
Biometrik pasport olish. Xizmat 16 yoshga toʻlgan fuqarolarga pasport beradi.

Kimlar murojaat qilishi mumkin:
16 yoshga toʻlgan Oʻzbekiston Respublikasi fuqarolari.
Kerakli hujjatlar:
- ariza;
- tugʻilganlik haqidagi guvohnoma.
Davlat boji / To‘lov: BHMning 40 foizi
Muddati: 10 ish kuni
Natija: biometrik pasport
Murojaat qilish usullari: Davlat xizmatlari markazi, my.gov.uz
Vakolatli organ: Ichki ishlar vazirligi
Huquqiy asos: Vazirlar Mahkamasining 2011-yil 5-yanvardagi 4-son qarori
Shikoyat qilish tartibi: yuqori turuvchi organga yoki sudga
"""

UZ_CYRL = """\
Биометрик паспорт олиш.
Кимлар мурожаат қилиши мумкин: 16 ёшга тўлган фуқаролар
Керакли ҳужжатлар:
ариза;
туғилганлик ҳақидаги гувоҳнома.
Давлат божи: БҲМнинг 40 фоизи
Муддати: 10 иш куни
Натижа: биометрик паспорт
Мурожаат қилиш усуллари: Давлат хизматлари маркази
Ваколатли орган: Ички ишлар вазирлиги
Ҳуқуқий асос: Вазирлар Маҳкамасининг 4-сон қарори
Шикоят қилиш тартиби: судга
"""

RU = """\
Получение биометрического паспорта.
## Кто может обратиться
Граждане Республики Узбекистан, достигшие 16 лет.
**Необходимые документы:**
1) заявление;
2) свидетельство о рождении.
Стоимость/Госпошлина: 40 процентов БРВ
Срок: 10 рабочих дней
Результат: биометрический паспорт
Способы подачи: Центр государственных услуг, my.gov.uz
Орган: Министерство внутренних дел
Правовая основа: постановление Кабинета Министров № 4
Порядок обжалования: в вышестоящий орган или в суд
"""

EN = """\
Getting a biometric passport.
Who may apply: citizens of Uzbekistan aged 16 or over
Documents:
- an application;
- a birth certificate.
Fee (UZS): 40% of the base calculation amount
Time limit: 10 working days
Result: a biometric passport
Channels: Public Service Centres, my.gov.uz
Authority: Ministry of Internal Affairs
Legal basis: Cabinet of Ministers Resolution No. 4
Appeal: to a higher authority or to court
"""


@pytest.mark.parametrize(("text", "lang"), [(UZ_LATN, "uz-Latn"), (UZ_CYRL, "uz-Cyrl"), (RU, "ru"), (EN, "en")])
def test_every_field_is_found(text: str, lang: str) -> None:
    fields = parse_service_text(text, lang=lang)
    assert list(fields) == list(SERVICE_FIELDS)
    assert all(fields[key] for key in SERVICE_FIELDS), {k: v for k, v in fields.items() if not v}


def test_field_values_keep_their_lines() -> None:
    fields = parse_service_text(UZ_LATN, lang="uz-Latn")
    assert fields["summary"] == "Biometrik pasport olish. Xizmat 16 yoshga toʻlgan fuqarolarga pasport beradi."
    assert fields["documents"] == "- ariza;\n- tugʻilganlik haqidagi guvohnoma."
    assert fields["fee"] == "BHMning 40 foizi"
    assert fields["appeal"] == "yuqori turuvchi organga yoki sudga"


def test_markdown_headings_and_bold() -> None:
    fields = parse_service_text(RU, lang="ru")
    assert fields["who_may_apply"] == "Граждане Республики Узбекистан, достигшие 16 лет."
    assert fields["documents"] == "1) заявление;\n2) свидетельство о рождении."
    assert fields["fee"] == "40 процентов БРВ"


def test_headings_in_another_language_than_lang() -> None:
    assert parse_service_text(RU, lang="uz-Latn") == parse_service_text(RU, lang="ru")


def test_text_without_headings_is_a_summary() -> None:
    fields = parse_service_text("Faqat tavsif.\nIkkinchi qator.", lang="uz-Latn")
    assert fields["summary"] == "Faqat tavsif.\nIkkinchi qator."
    assert not any(fields[key] for key in SERVICE_FIELDS if key != "summary")


def test_a_sentence_with_a_colon_is_not_a_heading() -> None:
    fields = parse_service_text("Muddati: 5 kun\nEslatma: hujjatlar asl nusxada.", lang="uz-Latn")
    assert fields["time_limit"] == "5 kun\nEslatma: hujjatlar asl nusxada."


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("uz-Latn", "Kerakli hujjatlar"), ("uz-Cyrl", "Керакли ҳужжатлар"), ("ru", "Необходимые документы"),
     ("en", "Documents")],
)
def test_service_articles_are_named_in_the_language(lang: str, expected: str) -> None:
    articles = service_articles(parse_service_text(EN, lang="en"), lang=lang)
    documents = next(a for a in articles if a.article_id == "documents")
    assert documents.display == documents.title == expected
    assert [a.article_id for a in articles] == list(SERVICE_FIELDS)


def test_empty_fields_make_no_articles() -> None:
    articles = service_articles({"summary": "Tavsif", "fee": "  "}, lang="uz-Latn")
    assert [a.article_id for a in articles] == ["summary"]


def test_unknown_field_and_lang_are_refused() -> None:
    with pytest.raises(ConfigError, match="price"):
        service_articles({"price": "1"}, lang="en")
    with pytest.raises(ConfigError, match="lang='de'"):
        parse_service_text("x", lang="de")
