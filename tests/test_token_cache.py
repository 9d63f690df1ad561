"""The cache of chunk analyses: same tokens as a fresh analysis, keyed by the analyser's version."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import index.analysis
from index.analysis import DEFAULT_ANALYZER, Analyzer
from index.token_cache import TokenCache, analyze_cached

TEXTS = [
    ("Xodimni ishdan boʻshatish tartibi va muddatlari", "uz-Latn"),
    ("Ходимни ишдан бўшатиш тартиби ва муддатлари", "uz-Cyrl"),
    ("Расторжение трудового договора по инициативе работодателя", "ru"),
    ("Termination of the employment contract at the employer's initiative", "en"),
    ("Pensiyalar tayinlanadi; 128.3-moddaga qarang", "uz-Latn"),
    ("Xodimni ishdan boʻshatish tartibi va muddatlari", "uz-Latn"),  # a repeat is analysed once
]


def test_cached_tokens_equal_a_fresh_analysis_cold_and_warm(tmp_path: Path) -> None:
    expected = [DEFAULT_ANALYZER.analyze(text, lang=lang) for text, lang in TEXTS]
    with TokenCache(tmp_path / "tokens.sqlite") as cache:
        assert analyze_cached(DEFAULT_ANALYZER, TEXTS, cache) == expected
        assert (cache.misses, cache.hits) == (5, 1)
    with TokenCache(tmp_path / "tokens.sqlite") as cache:
        assert analyze_cached(DEFAULT_ANALYZER, TEXTS, cache) == expected
        assert (cache.misses, cache.hits) == (0, 6)
        assert len(cache) == 5


def test_same_text_in_another_language_is_another_entry(tmp_path: Path) -> None:
    with TokenCache(tmp_path / "tokens.sqlite") as cache:
        latin, english = analyze_cached(DEFAULT_ANALYZER, [("ishlar", "uz-Latn"), ("ishlar", "en")], cache)
    assert latin == DEFAULT_ANALYZER.analyze("ishlar", lang="uz-Latn")
    assert english == DEFAULT_ANALYZER.analyze("ishlar", lang="en") and english != latin


def test_another_analyser_setting_misses_and_evicts_the_old_version(tmp_path: Path) -> None:
    other = Analyzer(uz_stemmer="suffix")
    with TokenCache(tmp_path / "tokens.sqlite") as cache:
        analyze_cached(DEFAULT_ANALYZER, TEXTS, cache)
        got = analyze_cached(other, TEXTS, cache)
        assert cache.misses == 5 + 5
        assert len(cache) == 5  # only the current version's rows are kept
    assert got == [other.analyze(text, lang=lang) for text, lang in TEXTS]
    assert got != [DEFAULT_ANALYZER.analyze(text, lang=lang) for text, lang in TEXTS]


def test_a_change_to_the_analysis_code_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with TokenCache(tmp_path / "tokens.sqlite") as cache:
        analyze_cached(DEFAULT_ANALYZER, TEXTS, cache)
        before = DEFAULT_ANALYZER.version
        monkeypatch.setattr(index.analysis, "_code_digest", lambda: "edited-analysis-code")
        assert DEFAULT_ANALYZER.version != before
        analyze_cached(DEFAULT_ANALYZER, TEXTS, cache)
        assert cache.misses == 5 + 5


def test_code_digest_follows_the_bytes_of_the_analysis_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "fake_stemmer_rules.py"
    module.write_text("SUFFIXES = ('lar',)\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fake_stemmer_rules", raising=False)
    first = index.analysis._code_digest(("fake_stemmer_rules",), ())
    module.write_text("SUFFIXES = ('lar', 'ning')\n", encoding="utf-8")
    index.analysis._code_digest.cache_clear()
    assert index.analysis._code_digest(("fake_stemmer_rules",), ()) != first
    assert index.analysis._code_digest(("fake_stemmer_rules",), ("lemmauz",)) != first
    index.analysis._code_digest.cache_clear()


def test_an_unreadable_cache_costs_time_not_correctness(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tokens.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="index.token_cache"), TokenCache(path) as cache:
        got = analyze_cached(DEFAULT_ANALYZER, TEXTS, cache)
    assert got == [DEFAULT_ANALYZER.analyze(text, lang=lang) for text, lang in TEXTS]
    assert "token cache tokens.sqlite" in caplog.text


_TOKEN = st.text(alphabet=st.sampled_from("abcdefgʻoшчё0123456789."), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_TOKEN, max_size=20), min_size=1, max_size=8))
def test_put_then_get_round_trips(
    tmp_path_factory: pytest.TempPathFactory, token_lists: list[list[str]]
) -> None:
    with TokenCache(tmp_path_factory.mktemp("tc") / "tokens.sqlite") as cache:
        items = [(TokenCache.key(str(n), lang="uz-Latn"), tokens) for n, tokens in enumerate(token_lists)]
        cache.put_many("v1", items)
        found = cache.get_many("v1", [key for key, _ in items])
        assert [found[key] for key, _ in items] == token_lists
        assert cache.get_many("v2", [key for key, _ in items]) == {}
