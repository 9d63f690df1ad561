"""Analysis: one token per Uzbek word whatever its apostrophe or script; stems; stop words; digits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.analysis import (
    DEFAULT_ANALYZER,
    STOPWORDS,
    UZ_STEMMERS,
    Analyzer,
    analyze,
    analyze_query,
    stem_uzbek,
)


@pytest.mark.parametrize("spelling", ["Oʻzbekiston", "O'zbekiston", "O‘zbekiston", "O`zbekiston", "Ozbekiston"])
def test_apostrophe_variants_give_one_token(spelling: str) -> None:
    assert analyze(spelling, lang="uz-Latn") == analyze("oʻzbekiston", lang="uz-Latn")
    assert all("'" not in t for t in analyze(spelling, lang="uz-Latn"))


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("Oʻzbekiston Respublikasining Mehnat kodeksi", "Ўзбекистон Республикасининг Меҳнат кодекси"),
        ("ishdan boʻshatish", "ишдан бўшатиш"),
        ("ish haqini toʻlash muddatlari", "иш ҳақини тўлаш муддатлари"),
        ("nikohni bekor qilish", "никоҳни бекор қилиш"),
    ],
)
def test_uzbek_cyrillic_and_latin_give_the_same_tokens(latin: str, cyrillic: str) -> None:
    assert analyze(cyrillic, lang="uz-Cyrl") == analyze(latin, lang="uz-Latn")
    # A query does not know its script; the Uzbek reading of the Cyrillic query covers the Latin one.
    assert set(analyze(latin, lang="uz-Latn")) <= set(analyze_query(cyrillic))


@pytest.mark.parametrize(
    ("words", "stem"),
    [
        (["зарплата", "зарплату", "зарплаты"], "зарплат"),
        (["увольнение", "увольнения", "увольнением"], "увольнен"),
        (["договор", "договора", "договору"], "договор"),
    ],
)
def test_russian_inflections_share_a_stem(words: list[str], stem: str) -> None:
    for word in words:
        assert analyze(word, lang="ru") == [stem]


def test_english_is_stemmed() -> None:
    assert analyze("The employer dismissed employees", lang="en") == ["employ", "dismiss", "employe"]


@pytest.mark.parametrize(
    ("text", "lang", "dropped"),
    [
        ("ish haqi va taʼtil uchun", "uz-Latn", {"va", "uchun"}),
        ("не платят зарплату и не увольняют", "ru", {"не", "и"}),
        ("the salary of the worker", "en", {"the", "of"}),
    ],
)
def test_stop_words_are_dropped(text: str, lang: str, dropped: set[str]) -> None:
    tokens = analyze(text, lang=lang)
    assert tokens and not dropped & set(tokens)


def test_uzbek_stop_words_drop_in_informal_spelling_too() -> None:
    assert analyze("ucun", lang="uz-Latn") == []  # "uchun" typed with c for ch


def test_informal_sh_and_ch_spellings_meet_the_standard_ones() -> None:
    assert analyze("iwxonada keciktiriwadi", lang="uz-Latn") == analyze("ishxonada kechiktirishadi", lang="uz-Latn")


@pytest.mark.parametrize(
    ("text", "number"),
    [("253-modda", "253"), ("статья 253", "253"), ("128.3-modda", "128.3"), ("article 17", "17")],
)
def test_digits_are_kept(text: str, number: str) -> None:
    assert number in analyze_query(text)


def test_cyrillic_query_gets_russian_and_uzbek_readings() -> None:
    tokens = analyze_query("зарплата")
    assert "зарплат" in tokens  # Russian stem
    assert any(t.startswith("zarplat") for t in tokens)  # Uzbek reading, in Latin


def test_latin_query_gets_uzbek_and_english_readings() -> None:
    tokens = analyze_query("salary ishdan")
    assert "salari" in tokens  # English Snowball
    assert "ishdan" in tokens and "ish" in tokens  # Uzbek surface form and lemma


def test_keep_variants_index_the_word_beside_its_stem() -> None:
    assert analyze("muddatlari", lang="uz-Latn") == ["muddatlari", "muddat"]
    assert Analyzer(uz_stemmer="prefix6").analyze("muddatlari", lang="uz-Latn") == ["muddat"]


@pytest.mark.parametrize("stemmer", UZ_STEMMERS)
def test_every_uzbek_stemmer_keeps_numbers_and_returns_a_prefix_or_lemma(stemmer: str) -> None:
    assert stem_uzbek("253", stemmer=stemmer) == "253"  # type: ignore[arg-type]
    assert stem_uzbek("shartnomalarining", stemmer=stemmer)  # type: ignore[arg-type]


def test_unknown_language_and_stemmer_are_refused() -> None:
    with pytest.raises(ValueError, match="lang='de'"):
        analyze("Arbeit", lang="de")
    with pytest.raises(ValueError, match="uz_stemmer='porter'"):
        Analyzer(uz_stemmer="porter")  # type: ignore[arg-type]


def test_stop_lists_are_written_as_the_analyser_sees_words() -> None:
    assert not any("'" in w or "ё" in w for words in STOPWORDS.values() for w in words)


_TEXT = st.text(
    alphabet=st.sampled_from(list("abcoʻgʼ'`shxqўқғҳшчаеёиоуяюыъь 0123456789.-,")) | st.characters(),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(text=_TEXT, lang=st.sampled_from(["uz-Latn", "uz-Cyrl", "ru", "en"]))
def test_analyze_never_returns_empty_tokens_and_is_deterministic(text: str, lang: str) -> None:
    tokens = analyze(text, lang=lang)
    assert all(t and not t.isspace() for t in tokens)
    assert tokens == analyze(text, lang=lang)


@settings(max_examples=200, deadline=None)
@given(text=_TEXT)
def test_analyze_query_never_returns_empty_or_repeated_tokens(text: str) -> None:
    tokens = analyze_query(text)
    assert all(tokens) and len(tokens) == len(set(tokens))
    assert tokens == DEFAULT_ANALYZER.analyze_query(text)
