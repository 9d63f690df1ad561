"""Exact legal references: recognised in every language and resolved deterministically."""

from __future__ import annotations

import pytest

from index.references import ActCatalog, WorkInfo, find_references


@pytest.fixture(scope="module")
def catalog() -> ActCatalog:
    works = {
        "mehnat_kodeksi": WorkInfo("mehnat_kodeksi", "Mehnat kodeksi", tuple(str(i) for i in range(1, 582)),
                                   ("Mehnat kodeksi", "Трудовой кодекс")),
        "fuqarolik_kodeksi_1qism": WorkInfo("fuqarolik_kodeksi_1qism", "Fuqarolik kodeksi (birinchi qism)",
                                            tuple(str(i) for i in range(1, 386))),
        "fuqarolik_kodeksi_2qism": WorkInfo("fuqarolik_kodeksi_2qism", "Fuqarolik kodeksi (ikkinchi qism)",
                                            tuple(str(i) for i in range(386, 1200))),
        "yer_kodeksi": WorkInfo("yer_kodeksi", "Yer kodeksi", ("1", "2", "91", "91.1")),
    }
    return ActCatalog(works)


@pytest.mark.parametrize(
    ("query", "status", "refs"),
    [
        ("Mehnat kodeksi 253-modda", "found", ("mehnat_kodeksi::253",)),
        ("Mehnat kodeksining 253-moddasi nima deydi?", "found", ("mehnat_kodeksi::253",)),
        ("mehnat kodeksi 253 - modda", "found", ("mehnat_kodeksi::253",)),
        ("Меҳнат кодекси 253-модда", "found", ("mehnat_kodeksi::253",)),
        ("статья 253 Трудового кодекса", "found", ("mehnat_kodeksi::253",)),
        ("ТК ст. 77", "found", ("mehnat_kodeksi::77",)),
        ("Labour Code article 131", "found", ("mehnat_kodeksi::131",)),
        ("Mehnat kodeksi 131", "found", ("mehnat_kodeksi::131",)),
        ("Yer kodeksi 91¹-modda", "found", ("yer_kodeksi::91.1",)),
        ("Yer kodeksi 91-1-modda", "found", ("yer_kodeksi::91.1",)),
        ("Mehnat kodeksi 999-modda", "no_such_article", ()),
        ("Kosmik kodeksi 5-modda", "no_such_act", ()),
        ("ГК статья 5", "found", ("fuqarolik_kodeksi_1qism::5",)),  # only part one has article 5
        ("что говорит ГК о договоре", "ambiguous", ()),
        ("Fuqarolik kodeksi 1000-modda", "found", ("fuqarolik_kodeksi_2qism::1000",)),
        ("253-modda", "unscoped", ()),
    ],
)
def test_references_resolve(catalog: ActCatalog, query: str, status: str, refs: tuple[str, ...]) -> None:
    resolution = find_references(query, catalog)
    assert resolution is not None
    assert resolution.status == status, resolution
    assert resolution.refs == refs


def test_missing_article_names_the_real_range(catalog: ActCatalog) -> None:
    resolution = find_references("Mehnat kodeksi 999-modda", catalog)
    assert resolution is not None and "581" in resolution.message and "999" in resolution.message


def test_ambiguous_abbreviation_lists_candidates(catalog: ActCatalog) -> None:
    resolution = find_references("что говорит ГК о договоре", catalog)
    assert resolution is not None
    assert set(resolution.candidates) == {"fuqarolik_kodeksi_1qism", "fuqarolik_kodeksi_2qism"}


@pytest.mark.parametrize("query", ["ish haqi kechikdi", "как получить паспорт", "mehnatga haq toʻlash"])
def test_plain_questions_make_no_reference(catalog: ActCatalog, query: str) -> None:
    assert find_references(query, catalog) is None


def test_cross_reference_words_inside_text_are_not_acts(catalog: ActCatalog) -> None:
    resolution = find_references("ushbu kodeksning 12-moddasi", catalog)
    assert resolution is None or resolution.status in {"unscoped", "no_such_act"}
