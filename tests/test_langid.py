"""Language and script detection: edge cases, short queries, accuracy on the labelled set and real text."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from eval.measure_text_tools import langid_accuracy, load_langid_sentences, shared_langid_samples
from ingest.langid import LanguageGuess, detect_language, detect_script

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.mark.parametrize(
    ("text", "script"),
    [("Oʻzbekiston", "Latn"), ("Ўзбекистон", "Cyrl"), ("Трудовой кодекс", "Cyrl"), ("", "Zyyy"),
     ("12 345,00", "Zyyy"), ("Mehnat кодекси кодекси", "Cyrl"), ("аdliya", "Latn")],
)
def test_detect_script(text: str, script: str) -> None:
    assert detect_script(text) == script


@pytest.mark.parametrize(
    "text", ["", "   ", "12345", "253", "+998 71 123-45-67", "https://my.gov.uz/oz/service/112", "info@gov.uz", "…!?"]
)
def test_no_words_is_undetermined_without_raising(text: str) -> None:
    assert detect_language(text) == LanguageGuess("und", "Zyyy", "und", 0.0)


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("пасспорт", "ru"),
        ("ish haqi", "uz-Latn"),
        ("oylik kechikdi", "uz-Latn"),
        ("статья 253", "ru"),
        ("passport", "en"),
        ("иш ҳақи", "uz-Cyrl"),
        ("ozbekiston fuqaroligi", "uz-Latn"),
        ("O‘zbekiston Respublikasi", "uz-Latn"),
        ("Как получить паспорт", "ru"),
        ("How do I get a passport", "en"),
        ("давлат хизматлари", "uz-Cyrl"),
    ],
)
def test_short_queries(text: str, tag: str) -> None:
    guess = detect_language(text)
    assert guess.tag == tag
    assert 0.0 < guess.confidence < 1.0


def test_guess_fields_agree() -> None:
    guess = detect_language("Ўзбекистон Республикаси Меҳнат кодекси")
    assert (guess.lang, guess.script, guess.tag) == ("uz", "Cyrl", "uz-Cyrl")
    assert guess.confidence > 0.8


def test_short_query_is_fast() -> None:
    detect_language("ish haqi")  # warm up
    start = time.perf_counter()
    for _ in range(1000):
        detect_language("oylik kechikdi")
    assert (time.perf_counter() - start) / 1000 < 0.001


def test_long_text_is_capped() -> None:
    text = "Ushbu Kodeks mehnat munosabatlarini tartibga soladi. " * 100_000
    start = time.perf_counter()
    assert detect_language(text).tag == "uz-Latn"
    assert time.perf_counter() - start < 0.5


def _report(title: str, rows: list[tuple[str, str]]) -> tuple[float, dict[str, tuple[int, int]]]:
    overall, per, errors = langid_accuracy(rows)
    print(f"\n{title}: overall {overall:.3f} on {len(rows)}")
    for tag, (correct, total) in per.items():
        print(f"  {tag:8} {correct:4}/{total:<4} {correct / total:.3f}")
    for error in errors:
        print("  miss:", error)
    return overall, per


def test_accuracy_on_labelled_sentences() -> None:
    rows = load_langid_sentences()
    per_class = {tag: sum(1 for t, _ in rows if t == tag) for tag in ("uz-Latn", "uz-Cyrl", "ru", "en")}
    assert len(rows) >= 200 and min(per_class.values()) >= 50
    overall, per = _report("langid_sentences.tsv", rows)
    assert overall >= 0.97
    assert all(correct / total >= 0.95 for correct, total in per.values())


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED / "corpus").is_dir(), reason=f"shared corpora not found at {SHARED}")
def test_accuracy_on_shared_corpora() -> None:
    rows = shared_langid_samples(SHARED, per_class=200)
    overall, per = _report("shared corpora (uz-legal, uz-legal in Cyrillic, Labour Code ru, my.gov.uz)", rows)
    assert overall >= 0.97
    assert all(correct / total >= 0.95 for correct, total in per.values())
