"""Structure parser: headings, inserted articles, points, cross-references, speed, the shared corpus."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ingest.errors import ConfigError
from ingest.structure import normalize_article_number, parse_structure

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"

# Shaped like the Labour Code on lex.uz (texts from articles 14-16, 65 and 312), with an insert.
UZ_LATN = """\
OʻZBEKISTON RESPUBLIKASINING MEHNAT KODEKSI

I BOʻLIM. UMUMIY QOIDALAR
2-bob. Mehnat toʻgʻrisidagi qonunchilik va mehnat haqidagi boshqa huquqiy hujjatlar
14-modda. Jamoa kelishuvlarining oʻzaro nisbati va ichki hujjatlar bilan oʻzaro nisbati
Tarmoq va hududiy jamoa kelishuvlariga xodimlarning holatini bosh jamoa kelishuviga nisbatan yomonlashtiruvchi qoidalarni kiritish taqiqlanadi.
Ichki hujjatlarga xodimning holatini jamoa kelishuvlariga nisbatan yomonlashtiruvchi qoidalarni kiritish taqiqlanadi.
15-modda. Ichki hujjatlarning oʻzaro nisbati
Ish beruvchi yakka oʻzi qabul qilgan ichki hujjatlar xodimning holatini yomonlashtiruvchi qoidalarni oʻz ichiga olmasligi kerak.
46-moddasiga muvofiq zarur vakolatlar beriladi.
15¹-modda. Ichki hujjatlarni qabul qilish tartibi
Ish beruvchi ushbu Kodeksning 161-moddasi ikkinchi qismining 4 va 5-bandlarida nazarda tutilgan hollarda:
1) hayfsan;
2) oʻrtacha oylik ish haqining oʻttiz foizidan koʻp boʻlmagan miqdorda jarima;
3) mehnat shartnomasini bekor qilish.
Ushbu Kodeksda nazarda tutilmagan intizomiy jazo choralarini qoʻllashga yoʻl qoʻyilmaydi.
16- modda. Mehnat toʻgʻrisidagi qonunchilikning va mehnat shartnomasining oʻzaro nisbati
Mehnat shartnomasiga xodimning huquqiy holatini yomonlashtiruvchi shartlarni kiritish taqiqlanadi.
"""

UZ_CYRL = """\
I БЎЛИМ. УМУМИЙ ҚОИДАЛАР
1-боб. Асосий қоидалар
1-модда. Ушбу Кодекс билан тартибга солинадиган муносабатлар
Ушбу Кодекс ходимлар, иш берувчилар ва давлат манфаатларининг мувозанатини таъминлаш асосида меҳнатга оид муносабатларни тартибга солади.
2-модда. Ушбу Кодекснинг асосий вазифалари
Ушбу Кодекснинг 161-моддасига мувофиқ асосий вазифалари қуйидагилардан иборат:
1) меҳнат бозорининг самарали фаолият кўрсатишига кўмаклашиш;
2) ходимлар ҳуқуқларини ҳимоя қилиш.
2¹-модда. Ижтимоий шериклик
Меҳнат соҳасида ижтимоий шерикликни рағбатлантириш.
БИРИНЧИ БЎЛИМ
3 - модда. Камситишни тақиқлаш
Меҳнат ҳуқуқларининг тенглиги таъминланади.
"""

RU = """\
ТРУДОВОЙ КОДЕКС РЕСПУБЛИКИ УЗБЕКИСТАН

РАЗДЕЛ I. ОБЩИЕ ПОЛОЖЕНИЯ
Глава 1. Основные положения
Статья 1. Отношения, регулируемые настоящим Кодексом
Настоящий Кодекс регулирует индивидуальные трудовые отношения и непосредственно связанные с ними общественные отношения.
Статья 161 настоящего Кодекса применяется с учетом настоящей статьи.
ГЛАВА 2
Прекращение трудового договора
Статья 161. Прекращение трудового договора по инициативе работодателя
Трудовой договор может быть прекращен по инициативе работодателя по следующим основаниям:
1) ликвидация организации;
2) изменение численности или штата работников:
а) сокращение штата;
б) изменение технологии;
3) несоответствие работника занимаемой должности.
Расторжение трудового договора допускается после уведомления профсоюзного комитета.
Статья 161¹. Гарантии при прекращении трудового договора
Работнику выплачивается выходное пособие.
"""

RU_POLOZHENIE = """\
ПОЛОЖЕНИЕ
о порядке выдачи паспорта гражданина Республики Узбекистан

I. Общие положения
1. Настоящее Положение определяет порядок выдачи паспорта.
2. Паспорт выдается:
а) гражданам, достигшим шестнадцатилетнего возраста;
б) гражданам, выезжающим за границу.
II. Порядок выдачи
3. Для получения паспорта представляются:
1) заявление;
2) свидетельство о рождении.
4. Паспорт выдается в течение десяти дней.
"""

UZ_NIZOM = """\
Biometrik pasport berish tartibi toʻgʻrisida NIZOM
1-bob. Umumiy qoidalar
1. Ushbu Nizom biometrik pasport berish tartibini belgilaydi.
2. Pasport 16 yoshga toʻlgan fuqarolarga beriladi.
2-bob. Hujjatlar
3. Ariza va tugʻilganlik haqidagi guvohnoma taqdim etiladi.
"""

EN = """\
LABOUR CODE OF THE REPUBLIC OF UZBEKISTAN
Part I. General provisions
Chapter 1. Basic provisions
Article 1. Relations governed by this Code
This Code governs individual labour relations.
Article 1-1. Social partnership
The Code promotes social partnership in the field of labour:
1. collective bargaining;
2. collective agreements.
Article 2. Main tasks of this Code
The main tasks of this Code are set out in Article 1 of this Code.
"""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("480¹", "480.1"), ("480-1", "480.1"), ("15²", "15.2"), ("253", "253"), ("480 - 1", "480.1"), ("192.12", "192.12")],
)
def test_normalize_article_number(raw: str, expected: str) -> None:
    assert normalize_article_number(raw) == expected


def test_normalize_article_number_rejects_words() -> None:
    with pytest.raises(ConfigError, match="'abc'"):
        normalize_article_number("abc")


def test_uzbek_latin_code() -> None:
    act = parse_structure(UZ_LATN, lang="uz-Latn")
    assert act.unit == "article"
    assert act.title == "OʻZBEKISTON RESPUBLIKASINING MEHNAT KODEKSI"
    assert [a.article_id for a in act.articles] == ["14", "15", "15.1", "16"]
    assert [a.display for a in act.articles] == ["14-modda", "15-modda", "15¹-modda", "16-modda"]
    first, second, insert, last = act.articles
    assert first.section == "I BOʻLIM. UMUMIY QOIDALAR"
    assert first.chapter.startswith("2-bob. Mehnat")
    assert first.title == "Jamoa kelishuvlarining oʻzaro nisbati va ichki hujjatlar bilan oʻzaro nisbati"
    assert first.text.count("\n") == 1  # line breaks kept
    assert "46-moddasiga muvofiq" in second.text  # a cross-reference at a line start opens nothing
    assert "161-moddasi" in insert.text
    assert [p.number for p in insert.points] == ["1", "2", "3"]
    assert insert.points[2].text == "3) mehnat shartnomasini bekor qilish."  # the closing paragraph is no point
    assert last.title.startswith("Mehnat toʻgʻrisidagi")


def test_flattened_insert_is_read_from_the_sequence() -> None:
    text = UZ_LATN.replace("15¹-modda", "151-modda")
    act = parse_structure(text, lang="uz-Latn")
    assert [a.article_id for a in act.articles] == ["14", "15", "15.1", "16"]
    assert act.articles[2].display == "15¹-modda"


def test_flattened_insert_after_a_repealed_base() -> None:
    text = "32-modda. A\nx.\n441-modda. B\ny.\n442-modda. C\nz.\n45-modda. D\nw.\n"
    assert [a.article_id for a in parse_structure(text, lang="uz-Latn").articles] == ["32", "44.1", "44.2", "45"]


def test_repealed_gap_is_not_an_insert() -> None:
    text = "4-modda. A\nx.\n41-modda. B\ny.\n42-modda. C\nz.\n"
    assert [a.article_id for a in parse_structure(text, lang="uz-Latn").articles] == ["4", "41", "42"]


@pytest.mark.parametrize(
    ("heading", "article_id", "display"),
    [
        ("253-modda. Ish haqini toʻlash muddatlari", "253", "253-modda"),
        ("253- modda.", "253", "253-modda"),
        ("253 - modda", "253", "253-modda"),
        ("480¹-modda. Title", "480.1", "480¹-modda"),
        ("480-1-modda. Title", "480.1", "480-1-modda"),
        ("253-модда. Иш ҳақи", "253", "253-модда"),
        ("Статья 253. Сроки выплаты заработной платы", "253", "Статья 253"),
        ("Статья 480¹", "480.1", "Статья 480¹"),
        ("Статья 480-1. Заголовок", "480.1", "Статья 480-1"),
        ("Article 253. Time limits for paying wages", "253", "Article 253"),
        ("Article 480-1", "480.1", "Article 480-1"),
    ],
)
def test_article_heading_forms(heading: str, article_id: str, display: str) -> None:
    act = parse_structure(f"{heading}\nText of the article.", lang="uz-Latn")
    assert [(a.article_id, a.display) for a in act.articles] == [(article_id, display)]


@pytest.mark.parametrize(
    ("line", "kind", "expected"),
    [
        ("I BOʻLIM. UMUMIY QOIDALAR", "section", "I BOʻLIM. UMUMIY QOIDALAR"),
        ("BIRINCHI BOʻLIM", "section", "BIRINCHI BOʻLIM"),
        ("IKKINChI BOʻLIM. INSON HUQUQLARI", "section", "IKKINChI BOʻLIM. INSON HUQUQLARI"),
        ("I БЎЛИМ", "section", "I БЎЛИМ"),
        ("Раздел I. Общие положения", "section", "Раздел I. Общие положения"),
        ("РАЗДЕЛ II", "section", "РАЗДЕЛ II"),
        ("Part I General provisions", "section", "Part I General provisions"),
        ("1-bob. Asosiy qoidalar", "chapter", "1-bob. Asosiy qoidalar"),
        ("II bob. Xalq hokimiyatchiligi", "chapter", "II bob. Xalq hokimiyatchiligi"),
        ("1-боб. Асосий қоидалар", "chapter", "1-боб. Асосий қоидалар"),
        ("Глава 1. Основные положения", "chapter", "Глава 1. Основные положения"),
        ("ГЛАВА 1", "chapter", "ГЛАВА 1"),
        ("Chapter 1. Basic provisions", "chapter", "Chapter 1. Basic provisions"),
    ],
)
def test_section_and_chapter_forms(line: str, kind: str, expected: str) -> None:
    act = parse_structure(f"{line}\n1-modda. Title\nText.", lang="ru")
    assert getattr(act.articles[0], kind) == expected


def test_untitled_heading_takes_its_title_from_the_next_line() -> None:
    act = parse_structure(RU, lang="ru")
    assert act.articles[1].chapter == "ГЛАВА 2. Прекращение трудового договора"


def test_uzbek_cyrillic_code() -> None:
    act = parse_structure(UZ_CYRL, lang="uz-Cyrl")
    assert [a.article_id for a in act.articles] == ["1", "2", "2.1", "3"]
    assert [a.display for a in act.articles] == ["1-модда", "2-модда", "2¹-модда", "3-модда"]
    assert act.articles[0].section == "I БЎЛИМ. УМУМИЙ ҚОИДАЛАР"
    assert act.articles[0].chapter == "1-боб. Асосий қоидалар"
    assert [p.number for p in act.articles[1].points] == ["1", "2"]
    assert act.articles[3].section == "БИРИНЧИ БЎЛИМ"


def test_russian_code_with_points_and_subpoints() -> None:
    act = parse_structure(RU, lang="ru")
    assert act.title == "ТРУДОВОЙ КОДЕКС РЕСПУБЛИКИ УЗБЕКИСТАН"
    assert [a.article_id for a in act.articles] == ["1", "161", "161.1"]
    first, art161, _ = act.articles
    assert first.section == "РАЗДЕЛ I. ОБЩИЕ ПОЛОЖЕНИЯ"
    assert "Статья 161 настоящего Кодекса" in first.text  # a sentence, not a heading
    assert [p.number for p in art161.points] == ["1", "2", "3"]
    assert "а) сокращение штата;" in art161.points[1].text  # subpoints belong to their point
    assert "уведомления" not in art161.points[2].text


def test_russian_polozhenie_is_cited_by_points() -> None:
    act = parse_structure(RU_POLOZHENIE, lang="ru")
    assert act.unit == "point"
    assert act.title == "ПОЛОЖЕНИЕ о порядке выдачи паспорта гражданина Республики Узбекистан"
    assert [(a.article_id, a.display) for a in act.articles] == [
        ("1", "пункт 1"), ("2", "пункт 2"), ("3", "пункт 3"), ("4", "пункт 4"),
    ]
    assert act.articles[0].chapter == "I. Общие положения"
    assert act.articles[2].chapter == "II. Порядок выдачи"
    assert act.articles[1].text.startswith("Паспорт выдается:\nа) гражданам")
    assert [p.number for p in act.articles[2].points] == ["1", "2"]


def test_uzbek_nizom_is_cited_by_points() -> None:
    act = parse_structure(UZ_NIZOM, lang="uz-Latn")
    assert act.unit == "point"
    assert [a.display for a in act.articles] == ["1-band", "2-band", "3-band"]
    assert act.articles[2].chapter == "2-bob. Hujjatlar"


def test_english_code() -> None:
    act = parse_structure(EN, lang="en")
    assert [a.article_id for a in act.articles] == ["1", "1.1", "2"]
    assert act.articles[0].section == "Part I. General provisions"
    assert [p.number for p in act.articles[1].points] == ["1", "2"]
    assert "Article 1 of this Code" in act.articles[2].text


@pytest.mark.parametrize("text", [UZ_LATN, UZ_CYRL, RU, EN])
def test_wrong_lang_still_parses(text: str) -> None:
    right = parse_structure(text, lang="uz-Latn")
    assert parse_structure(text, lang="en").articles == right.articles


def test_unknown_lang_is_refused() -> None:
    with pytest.raises(ConfigError, match="lang='kk'"):
        parse_structure("1-modda. A\nB", lang="kk")


def test_no_empty_articles() -> None:
    act = parse_structure("1-modda.\n\n2-modda. Title\nText.\n3-modda.\n", lang="uz-Latn")
    assert [a.article_id for a in act.articles] == ["2"]
    assert all(a.text.strip() or a.title.strip() for a in act.articles)


def test_plain_text_has_no_units() -> None:
    act = parse_structure("Just a note.\nWith two lines.", lang="en")
    assert act.articles == () and act.title == "" and act.preamble == "Just a note.\nWith two lines."


@pytest.mark.parametrize(
    "text",
    [
        "253-moddasiga muvofiq " * 250_000,
        "a" * 5_000_000,
        " " * 5_000_000 + "x",
        "1-modda " * 700_000,
        "I BOʻLIM " * 600_000,
        "\n" * 1_000_000,
        "Статья 1 " * 600_000,
    ],
)
def test_huge_lines_parse_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    parse_structure(text, lang="uz-Latn")
    assert time.perf_counter() - started < 2.0


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED / "labour-code-ru").exists(), reason="../shared/corpus/labour-code-ru is absent")
def test_russian_labour_code_has_581_articles() -> None:
    data = json.loads((SHARED / "labour-code-ru" / "law_base_ru.json").read_text(encoding="utf-8"))
    act = parse_structure("\n".join(data.values()), lang="ru")
    assert [a.article_id for a in act.articles] == [str(n) for n in range(1, 582)]
    assert act.articles[252].title == "Сроки выплаты заработной платы"
    assert act.articles[252].chapter == "Глава 15. Оплата труда"


def _rebuild(records: list[dict[str, str]]) -> str:
    """The text an importer would see: front matter, then section/chapter/article headings and text."""
    lines: list[str] = []
    section = chapter = ""
    for record in records:
        if record["article_id"] == "_front":
            lines.append(record["text"])
        if record["article_id"].startswith("_"):
            continue
        if record.get("section") and record["section"] != section:
            section = record["section"]
            lines.append(section)
        if record.get("chapter") and record["chapter"] != chapter:
            chapter = record["chapter"]
            lines.append(chapter)
        lines.append(f"{record['article_raw']}. {record['title']}".strip())
        lines.append(record["text"])
    return "\n".join(lines)


def _records(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


UZ_LEGAL = SHARED / "uz-legal" / "articles"


@pytest.mark.shared
@pytest.mark.skipif(not UZ_LEGAL.exists(), reason="../shared/corpus/uz-legal is absent")
def test_uz_legal_labour_code_recovers_every_article() -> None:
    records = _records(UZ_LEGAL / "mehnat_kodeksi.jsonl")
    act = parse_structure(_rebuild(records), lang="uz-Latn")
    expected = [r for r in records if not r["article_id"].startswith("_")]
    assert [a.article_id for a in act.articles] == [r["article_id"] for r in expected]
    assert [a.title for a in act.articles] == [r["title"] for r in expected]


@pytest.mark.shared
@pytest.mark.skipif(not UZ_LEGAL.exists(), reason="../shared/corpus/uz-legal is absent")
def test_uz_legal_all_codes_recover_their_article_ids() -> None:
    found = total = 0
    for path in sorted(UZ_LEGAL.glob("*.jsonl")):
        records = _records(path)
        expected = [r["article_id"] for r in records if not r["article_id"].startswith("_")]
        got = {a.article_id for a in parse_structure(_rebuild(records), lang="uz-Latn").articles}
        found += sum(article_id in got for article_id in expected)
        total += len(expected)
    # Inserted articles appear as flattened digits ("4801-modda") in article_raw: all must come back.
    assert found / total >= 0.99, f"recovered {found}/{total}"
