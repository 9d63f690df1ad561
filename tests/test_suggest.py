"""Title suggestions on a handful of services and acts in Uzbek (Latin and Cyrillic), Russian and English."""

from __future__ import annotations

import pytest

from index.search import QueryError
from index.suggest import MAX_K, Suggester

DOCS = [
    {"id": "svc-residence", "kind": "service", "lang": "uz-Latn", "url": "https://my.gov.uz/1",
     "title": "Yashash joyi boʻyicha roʻyxatdan oʻtkazish (propiska)"},
    {"id": "svc-vehicle", "kind": "service", "lang": "uz-Latn", "url": "", "title": "Avtotransport vositasini roʻyxatdan oʻtkazish"},
    {"id": "svc-driving", "kind": "service", "lang": "uz-Latn", "url": "", "title": "Haydovchilik guvohnomasini olish"},
    {"id": "svc-passport", "kind": "service", "lang": "uz-Latn", "url": "",
     "title": "Xorijga chiqish biometrik pasportini rasmiylashtirish"},
    {"id": "svc-pension.uz-cyrl", "kind": "service", "lang": "uz-Cyrl", "url": "", "title": "Ёшга доир пенсия тайинлаш"},
    {"id": "svc-pension.ru", "kind": "service", "lang": "ru", "url": "", "title": "Назначение пенсии по возрасту"},
    {"id": "svc-llc.en", "kind": "service", "lang": "en", "url": "", "title": "Registering a limited liability company (LLC)"},
    {"id": "reg-passport-id.uz-latn", "kind": "regulation", "lang": "uz-Latn", "url": "", "short_title": "Pasport nizomi",
     "title": "ID-karta va xorijga chiqish biometrik pasportini rasmiylashtirish tartibi toʻgʻrisida nizom"},
    {"id": "law-appeals.ru", "kind": "law", "lang": "ru", "url": "", "short_title": "Закон об обращениях",
     "title": "Об обращениях физических и юридических лиц"},
]


@pytest.fixture(scope="module")
def suggester() -> Suggester:
    return Suggester(DOCS)


def _ids(suggester: Suggester, q: str, k: int = 8) -> list[str]:
    return [s.id for s in suggester.suggest(q, k=k)]


@pytest.mark.parametrize("q", ["roʻyxat", "ro'yxat", "ro‘yxat", "ro’yxat", "ro`yxat", "royxat", "ROʻYXAT"])
def test_every_apostrophe_variant_completes_the_same_titles(suggester: Suggester, q: str) -> None:
    assert set(_ids(suggester, q)) == {"svc-residence", "svc-vehicle"}


@pytest.mark.parametrize(
    ("q", "first"),
    [
        ("yashash j", "svc-residence"),  # title prefix, the last word still being typed
        ("яшаш жойи", "svc-residence"),  # Uzbek typed in Cyrillic meets the Latin titles
        ("ёшга", "svc-pension.uz-cyrl"),  # a Cyrillic title is matched in its Latin key
        ("yoshga doir", "svc-pension.uz-cyrl"),  # ... and from Latin
        ("назначение пен", "svc-pension.ru"),  # Russian stays Cyrillic
        ("пенсии по", "svc-pension.ru"),
        ("limited liab", "svc-llc.en"),
        ("pasport niz", "reg-passport-id.uz-latn"),  # an act's short title
        ("закон об", "law-appeals.ru"),
        ("guvohnoma", "svc-driving"),  # a word anywhere in the title
    ],
)
def test_prefixes_in_each_language_and_script(suggester: Suggester, q: str, first: str) -> None:
    assert _ids(suggester, q)[0] == first


@pytest.mark.parametrize("q", ["haydovchlik", "haydovcilik", "pasprt", "guvohnoam"])
def test_one_typo_is_forgiven(suggester: Suggester, q: str) -> None:
    ids = _ids(suggester, q)
    assert ids and ids[0] in {"svc-driving", "svc-passport", "reg-passport-id.uz-latn"}, ids


def test_order_is_prefix_then_word_prefix_then_fuzzy(suggester: Suggester) -> None:
    # "pas": the act whose short title starts with it beats the service with "pasportini" inside.
    assert _ids(suggester, "pas")[:2] == ["reg-passport-id.uz-latn", "svc-passport"]
    # Word-prefix matches come shorter title first.
    assert _ids(suggester, "oʻtkaz") == ["svc-vehicle", "svc-residence"]


def test_shape_and_limits(suggester: Suggester) -> None:
    first = suggester.suggest("roʻyxat", k=1)
    assert len(first) == 1
    assert first[0].as_dict().keys() == {"id", "kind", "title", "lang", "url"}
    assert suggester.suggest("qqqqqqqq") == []
    for k in (0, MAX_K + 1):
        with pytest.raises(QueryError) as bad_k:
            suggester.suggest("pas", k=k)
        assert bad_k.value.code == "invalid_k"
    for q, code in (("", "empty_query"), ("  \u200b", "empty_query"), ("x" * 500, "query_too_long")):
        with pytest.raises(QueryError) as bad_q:
            suggester.suggest(q)
        assert bad_q.value.code == code
