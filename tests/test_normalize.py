"""clean_text, fold_apostrophes, normalize_key and the loose key: tables and Hypothesis properties."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest import langid
from ingest.errors import ConfigError
from ingest.normalize import APOSTROPHES, clean_text, fold_apostrophes, normalize_key, strip_apostrophes_key


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\r\nb\rc", "a\nb\nc"),
        ("a\x00b\x07c\x1bd\x7fe\x9ff", "abcdef"),
        ("tab\tkept\nnewline kept", "tab\tkept\nnewline kept"),
        ("zero\u200bwidth\u200c\u200d\u2060\ufeff", "zerowidth"),
        ("\u202ebidi\u202c \u2066x\u2069 \u200e\u200f", "bidi x "),
        ("lone\ud800surrogate", "lonesurrogate"),
        ("many    spaces\u00a0\u2003here", "many spaces here"),
        ("soft\u00adhyphen", "softhyphen"),
        ("e\u0301", "\u00e9"),
        ("Oʻzbekiston o'g'il o‘g‘il ma’lumot", "Oʻzbekiston o'g'il o‘g‘il ma’lumot"),
        ("page\x0cbreak", "page\nbreak"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_clean_text_is_linear_on_a_5_mb_line() -> None:
    line = ("Mehnat \u200b kodeksi   oʻ\x00g ʻ " * 250_000)[: 5 * 1024 * 1024]
    start = time.perf_counter()
    out = clean_text(line)
    assert time.perf_counter() - start < 2.0
    assert "\u200b" not in out and "\x00" not in out and "  " not in out


@pytest.mark.parametrize("variant", list(APOSTROPHES))
def test_fold_apostrophes_variant(variant: str) -> None:
    assert fold_apostrophes(f"o{variant}zbek g{variant}alaba ma{variant}lumot") == "o'zbek g'alaba ma'lumot"


@pytest.mark.parametrize(
    ("text", "lang", "key"),
    [
        ("Oʻzbekiston  Respublikasi", None, "o'zbekiston respublikasi"),
        ("O‘zbekiston", None, "o'zbekiston"),
        ("O’ZBEKISTON", None, "o'zbekiston"),
        ("O`zbekiston", None, "o'zbekiston"),
        ("Ўзбекистон Республикаси", None, "o'zbekiston respublikasi"),
        ("Меҳнат кодекси", None, "mehnat kodeksi"),
        ("ҳуқуқ", "uz-Cyrl", "huquq"),
        ("давлат", "uz-Cyrl", "davlat"),
        ("давлат", "uz", "davlat"),
        ("Трудовой кодекс", None, "трудовой кодекс"),
        ("Всё ещё её", "ru", "все еще ее"),
        ("ЁЛКА", "ru", "елка"),
        ("паспорт", "ru", "паспорт"),
        ("Qoraqalpog‘iston Respublikasi аdliya vazirligi", None, "qoraqalpog'iston respublikasi adliya vazirligi"),
        ("Tax  Code", "en", "tax code"),
        ("  a\u200bb\n c ", None, "ab c"),
        ("", None, ""),
        ("12345", None, "12345"),
    ],
)
def test_normalize_key(text: str, lang: str | None, key: str) -> None:
    assert normalize_key(text, lang=lang) == key


def test_russian_is_never_transliterated() -> None:
    text = "Настоящий Кодекс регулирует индивидуальные трудовые отношения"
    assert normalize_key(text) == text.lower()


def test_unknown_lang_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="uz-Cyrl"):
        normalize_key("x", lang="uzbek")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ozbekiston", "Oʻzbekiston"),
        ("boyicha", "bo‘yicha"),
        ("malumot", "ma'lumot"),
        ("togrisida", "Ўғрисида".replace("Ў", "тў")),
    ],
)
def test_strip_apostrophes_key_joins_informal_spellings(a: str, b: str) -> None:
    assert strip_apostrophes_key(a) == strip_apostrophes_key(b)


def test_langid_and_normalize_agree_on_apostrophes() -> None:
    assert set(langid._APOSTROPHES) == set(APOSTROPHES)


_UZ_LETTERS = "abdefghijklmnopqrstuvxyzʻʼ'‘’`´ ABCDOʻGʻ"
_CYR_LETTERS = "абвгдеёжзийклмнопрстуфхцчшъьэюяўқғҳ АБВЁЎҚҒҲЪ"
_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=_UZ_LETTERS + "0123456789\u200b\r\n\t "),
    st.text(alphabet=_CYR_LETTERS + "ыщ\u00a0\u202e "),
    st.text(alphabet=_UZ_LETTERS + _CYR_LETTERS),
)


@settings(max_examples=500)
@given(_TEXT)
def test_clean_text_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once


# deadline=None: the first langdetect call loads its profiles (~0.4 s).
@settings(max_examples=500, deadline=None)
@given(_TEXT, st.sampled_from([None, "uz", "uz-Latn", "uz-Cyrl", "ru", "en", "und"]))
def test_normalize_key_is_idempotent(text: str, lang: str | None) -> None:
    once = normalize_key(text, lang=lang)
    assert normalize_key(once, lang=lang) == once


@settings(max_examples=500, deadline=None)
@given(_TEXT)
def test_loose_key_of_a_key_is_the_loose_key(text: str) -> None:
    # Documents may be keyed first and loosened later: the order must not matter.
    assert strip_apostrophes_key(normalize_key(text)) == strip_apostrophes_key(text)
    assert "'" not in strip_apostrophes_key(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="abgoqshxyz "), st.lists(st.sampled_from(list(APOSTROPHES)), min_size=2, max_size=2))
def test_fold_apostrophes_makes_variants_equal(word: str, marks: list[str]) -> None:
    first = f"o{marks[0]}{word}g{marks[0]}"
    second = f"o{marks[1]}{word}g{marks[1]}"
    assert fold_apostrophes(first) == fold_apostrophes(second)
    assert normalize_key(first) == normalize_key(second)


_MIXED = st.text(alphabet=st.sampled_from("abcopxyzAOPÀșаеорсухбвгдАОРіј' .,1"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(_MIXED)
def test_fix_lookalikes_shortcut_changes_nothing(text: str) -> None:
    # The shortcut for single-script text must give what fixing every word gives.
    from ingest.normalize import _WORD, _fix_mixed_word, fix_lookalikes

    assert fix_lookalikes(text) == _WORD.sub(_fix_mixed_word, text)
