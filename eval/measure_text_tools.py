"""Measure the transliterators and the language detector; prints the tables of docs/text-normalisation.md.

Run: ``python -m eval.measure_text_tools [--shared ../shared] [--sample 300]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.langid import detect_language
from ingest.transliterate import cyrillic_to_latin, latin_to_cyrillic

__all__ = [
    "TranslitScore",
    "langid_accuracy",
    "load_langid_sentences",
    "load_translit_pairs",
    "main",
    "shared_langid_samples",
    "score_transliterator",
]

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "tests" / "data" / "translit_pairs.tsv"
SENTENCES = ROOT / "tests" / "data" / "langid_sentences.tsv"
DEFAULT_SHARED = ROOT.parent / "shared"
_APOS = re.compile("([oOgG])['\u2018\u2019`\u00b4\u02bb\u02bc]|['\u2018\u2019`\u00b4\u02bb\u02bc]")

Converter = Callable[[str], str]


@dataclass(frozen=True)
class TranslitScore:
    """Exact-match accuracy of one transliterator on the word table."""

    name: str
    c2l: float
    l2c: float
    round_trip: float
    corpus_round_trip: float
    ms_per_word: float


def canonical_apostrophes(text: str) -> str:
    """Write oʻ/gʻ with U+02BB and every other apostrophe as U+02BC, so libraries are compared on letters."""
    return _APOS.sub(lambda m: m.group(1) + "\u02bb" if m.group(1) else "\u02bc", text)


def load_translit_pairs(path: Path = PAIRS) -> list[tuple[str, str]]:
    """(Cyrillic, Latin) pairs from the hand-written table."""
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    return [(r[0], r[1]) for r in rows if len(r) == 2 and not r[0].startswith("#")]


def load_langid_sentences(path: Path = SENTENCES) -> list[tuple[str, str]]:
    """(tag, sentence) rows from the labelled language-id table."""
    rows = [line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines()]
    return [(r[0], r[1]) for r in rows if len(r) == 2 and not r[0].startswith("#")]


def _libraries() -> dict[str, tuple[Converter, Converter]]:
    import alifbe
    import alifbo
    from UzTransliterator import UzTransliterator

    uzt = UzTransliterator()
    return {
        "ingest.transliterate (ours)": (cyrillic_to_latin, latin_to_cyrillic),
        "alifbo 0.6.0": (
            lambda t: alifbo.to_old_latin(alifbo.from_cyrillic(t).text).text,
            lambda t: alifbo.to_cyrillic(t).text,
        ),
        "alifbe 0.2.0": (
            lambda t: alifbe.cyrillic_to_latin(t).text,
            lambda t: alifbe.latin_to_cyrillic(t).text,
        ),
        "UzTransliterator 2.0.2": (
            lambda t: uzt.transliterate(t, from_="cyr", to="lat"),
            lambda t: uzt.transliterate(t, from_="lat", to="cyr"),
        ),
    }


def _safe(fn: Converter, text: str) -> str:
    try:
        return fn(text)
    except Exception as exc:  # a library crash counts as a wrong answer, not as the end of the run
        logger.debug("converter failed on %r: %s", text, exc)
        return "<error>"


def score_transliterator(
    name: str, c2l: Converter, l2c: Converter, pairs: list[tuple[str, str]], corpus_words: list[str]
) -> TranslitScore:
    """Score one converter pair: table accuracy both ways, Cyrl->Latn->Cyrl, and Latn->Cyrl->Latn on corpus words."""
    start = time.perf_counter()
    ok_c2l = sum(canonical_apostrophes(_safe(c2l, c)) == lat for c, lat in pairs)
    ok_l2c = sum(_safe(l2c, lat) == c for c, lat in pairs)
    ok_rt = sum(_safe(l2c, canonical_apostrophes(_safe(c2l, c))) == c for c, _ in pairs)
    ok_corpus = sum(canonical_apostrophes(_safe(c2l, _safe(l2c, w))) == w for w in corpus_words)
    elapsed = time.perf_counter() - start
    n = len(pairs)
    calls = 4 * n + 2 * len(corpus_words)
    return TranslitScore(
        name, ok_c2l / n, ok_l2c / n, ok_rt / n, ok_corpus / max(1, len(corpus_words)), 1000 * elapsed / calls
    )


def _uz_legal_texts(shared: Path) -> Iterator[str]:
    for path in sorted((shared / "corpus" / "uz-legal" / "articles").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line).get("text", "")
            if text:
                yield text


def corpus_words(shared: Path, *, sample: int, seed: int = 0) -> list[str]:
    """Distinct alphabetic Latin words from the uz-legal corpus, sampled reproducibly."""
    words: set[str] = set()
    for text in _uz_legal_texts(shared):
        words.update(re.findall("[A-Za-z\u02bb\u02bc]+", text))
    pool = sorted(w for w in words if len(w) > 2 and not w.isupper())
    return random.Random(seed).sample(pool, min(sample, len(pool)))


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.;:!?])\s+|\n", text) if len(s.split()) >= 4]


def shared_langid_samples(
    shared: Path, *, per_class: int, seed: int = 0, to_cyrillic: Converter = latin_to_cyrillic
) -> list[tuple[str, str]]:
    """Labelled sentences from real text: uz-legal (uz-Latn and, transliterated, uz-Cyrl), Labour Code (ru),
    my.gov.uz service titles (uz-Latn, ru)."""
    rng = random.Random(seed)
    uz = [s for t in _uz_legal_texts(shared) for s in _sentences(t)]
    ru_doc = json.loads((shared / "corpus" / "labour-code-ru" / "law_base_ru.json").read_text(encoding="utf-8"))
    ru = [s for t in ru_doc.values() for s in _sentences(t)]
    services = [
        json.loads(line)
        for line in (shared / "corpus" / "mygov-services" / "services.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    out = [("uz-Latn", s) for s in rng.sample(uz, per_class)]
    out += [("uz-Cyrl", to_cyrillic(s)) for s in rng.sample(uz, per_class)]
    out += [("ru", s) for s in rng.sample(ru, per_class)]
    out += [("uz-Latn", s["name_uz"]) for s in rng.sample(services, min(per_class, len(services)))]
    out += [("ru", s["name_ru"]) for s in rng.sample(services, min(per_class, len(services)))]
    return out


def langid_accuracy(rows: list[tuple[str, str]]) -> tuple[float, dict[str, tuple[int, int]], list[str]]:
    """Overall accuracy, {tag: (correct, total)} and the misclassified rows."""
    per: dict[str, list[int]] = {}
    errors: list[str] = []
    for tag, text in rows:
        got = detect_language(text).tag
        cell = per.setdefault(tag, [0, 0])
        cell[1] += 1
        if got == tag:
            cell[0] += 1
        else:
            errors.append(f"{tag} -> {got}: {text[:90]}")
    correct = sum(c for c, _ in per.values())
    total = sum(t for _, t in per.values())
    return correct / max(1, total), {k: (c, t) for k, (c, t) in sorted(per.items())}, errors


def _langid_table(title: str, rows: list[tuple[str, str]], out: list[str]) -> None:
    start = time.perf_counter()
    overall, per, errors = langid_accuracy(rows)
    ms = 1000 * (time.perf_counter() - start) / max(1, len(rows))
    out.append(f"\n{title}: {len(rows)} texts, overall {overall:.3f}, {ms:.2f} ms/text\n")
    out.append("| class | correct | total | accuracy |\n|---|---|---|---|")
    out.extend(f"| {tag} | {c} | {t} | {c / t:.3f} |" for tag, (c, t) in per.items())
    out.extend(f"  miss: {e}" for e in errors[:15])


def main(argv: list[str] | None = None) -> int:
    """Print the comparison tables."""
    parser = argparse.ArgumentParser(prog="python -m eval.measure_text_tools", description=__doc__)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the ../shared folder")
    parser.add_argument("--sample", type=int, default=300, help="texts per class from the shared corpora")
    args = parser.parse_args(argv)
    have_shared = (args.shared / "corpus").is_dir()
    pairs = load_translit_pairs()
    words = corpus_words(args.shared, sample=2000) if have_shared else []
    out = [f"Transliteration: {len(pairs)} word pairs, {len(words)} uz-legal corpus words\n"]
    out.append("| library | Cyrl→Latn | Latn→Cyrl | Cyrl→Latn→Cyrl | corpus Latn→Cyrl→Latn | ms/word |")
    out.append("|---|---|---|---|---|---|")
    for name, (c2l, l2c) in _libraries().items():
        s = score_transliterator(name, c2l, l2c, pairs, words)
        out.append(
            f"| {s.name} | {s.c2l:.3f} | {s.l2c:.3f} | {s.round_trip:.3f} | {s.corpus_round_trip:.3f} "
            f"| {s.ms_per_word:.3f} |"
        )
    _langid_table("Language id, tests/data/langid_sentences.tsv", load_langid_sentences(), out)
    if have_shared:
        _langid_table("Language id, shared corpora", shared_langid_samples(args.shared, per_class=args.sample), out)
        uzt = _libraries()["UzTransliterator 2.0.2"][1]
        rows = [r for r in shared_langid_samples(args.shared, per_class=args.sample, to_cyrillic=uzt) if r[0] == "uz-Cyrl"]
        _langid_table("Language id, uz-legal made Cyrillic by UzTransliterator (independent of our code)", rows, out)
    else:
        out.append(f"\n(shared corpora not found at {args.shared}; skipped)")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
