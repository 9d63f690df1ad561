"""R7: Hypothesis properties at 500 examples each: normalise, transliterate, chunk, fuse, save/load.

Every test runs with a fixed profile (``derandomize=True``, no example database), so CI sees the same 500
examples on every run. Chunking uses a cheap word-count tokenizer and save/load small random vectors:
the properties are about the plumbing, and the real model would make 500 examples far too slow.
"""

from __future__ import annotations

import math
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from index.dense import DenseIndex
from index.fusion import reciprocal_rank_fusion, weighted_fusion
from index.generation import GenerationWriter, load_current
from index.lexical import LexicalIndex, LexicalIndexError
from ingest.chunking import chunk_document, format_citation
from ingest.normalize import APOSTROPHES, clean_text, normalize_key, strip_apostrophes_key
from ingest.records import Article, Chunk, CitationPath, Document, make_ref
from ingest import transliterate
from ingest.transliterate import cyrillic_to_latin, latin_to_cyrillic

PROPS = settings(
    max_examples=500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

@pytest.fixture(autouse=True, scope="module")
def _one_faiss_thread() -> Iterator[None]:
    """FAISS's OpenMP threads spin against each other on a busy 2-core machine (about 10x slower on
    these tiny indexes); one thread is plenty for them."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


# -- normalisation -----------------------------------------------------------------------------

_UZ_LATIN = "abdefghijklmnopqrstuvxyzʻʼ'‘’`´ ABDEFGHIJKLMNOPQRSTUVXYZ"
_UZ_CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшъьэюяўқғҳ АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЪЬЭЮЯЎҚҒҲ"
_HOSTILE = "\x00\x07\x1b\x7f\x85\u200b\u200c\u200d\u200e\u202e\u2066\u2069\ufeff\u00ad\u061c\U000e0041\r\n\t "
TEXT = st.one_of(
    st.text(),
    st.text(alphabet=_UZ_LATIN + "0123456789.,;:-" + _HOSTILE),
    st.text(alphabet=_UZ_CYRILLIC + "щы\u00a0" + _HOSTILE),
    st.text(alphabet=_UZ_LATIN + _UZ_CYRILLIC + _HOSTILE + "\u0301\u0306\u0308"),
)
LANGS = st.sampled_from([None, "uz", "uz-Latn", "uz-Cyrl", "ru", "en", "und"])


def _invisible(text: str, *, keep: str = "") -> list[str]:
    """Characters of ``text`` that are controls, format (zero-width, bidi) or surrogates."""
    return [f"U+{ord(c):04X}" for c in text if c not in keep and unicodedata.category(c) in ("Cc", "Cf", "Cs")]


@PROPS
@given(TEXT, LANGS)
def test_normalize_key_is_idempotent(text: str, lang: str | None) -> None:
    key = normalize_key(text, lang=lang)
    assert normalize_key(key, lang=lang) == key
    assert strip_apostrophes_key(key, lang=lang) == strip_apostrophes_key(text, lang=lang)


@PROPS
@given(
    st.lists(st.text(alphabet="abdeghiklmnopqrstuxyz", min_size=1, max_size=8), min_size=1, max_size=5),
    st.lists(st.sampled_from(list(APOSTROPHES)), min_size=1, max_size=5),
    st.sampled_from(["uz-Latn", "uz", None]),
)
def test_apostrophe_variants_fold_to_one_key(parts: list[str], marks: list[str], lang: str | None) -> None:
    # The same word written with any mix of ʻ ʼ ' ‘ ’ ` ´ ... after o/g has one key, with ASCII "'".
    variant = "".join(p + "o" + marks[i % len(marks)] for i, p in enumerate(parts))
    ascii_form = "".join(p + "o'" for p in parts)
    assert normalize_key(variant, lang=lang) == normalize_key(ascii_form, lang=lang)
    assert set(normalize_key(variant, lang=lang)) & set(APOSTROPHES) <= {"'"}


@PROPS
@given(TEXT, LANGS)
def test_nfc_and_nfd_give_the_same_key(text: str, lang: str | None) -> None:
    nfc, nfd = unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)
    assert normalize_key(nfd, lang=lang) == normalize_key(nfc, lang=lang)
    assert clean_text(nfd) == clean_text(nfc)


@PROPS
@given(TEXT, LANGS)
def test_no_control_or_zero_width_character_survives(text: str, lang: str | None) -> None:
    cleaned = clean_text(text)
    assert _invisible(cleaned, keep="\n\t") == [], repr(cleaned)
    assert "\r" not in cleaned
    key = normalize_key(text, lang=lang)
    assert _invisible(key) == [], repr(key)
    assert key == key.strip() and "  " not in key


# -- transliteration ---------------------------------------------------------------------------

# Words built from the Uzbek Cyrillic alphabet by its own spelling: onsets, vowels (е э ё ю я
# included) and codas (й too). Left out are the letters the 1995 Latin cannot carry back without a
# lexicon: ц (s or ts), ь (dropped), ъ (obyekt) and щ/ы (Russian loans); see docs/text-normalisation.md.
_ONSETS = ["", "б", "в", "г", "д", "ж", "з", "к", "л", "м", "н", "п", "р", "с", "т", "ф", "х", "ч", "ш", "қ",
           "ғ", "ҳ"]
_VOWELS = ["а", "и", "о", "у", "ў", "е", "ё", "ю", "я"]
_CODAS = ["", "", "б", "д", "й", "к", "л", "м", "н", "р", "с", "т", "ш", "ч", "қ", "ғ", "ҳ", "х"]
_SYLLABLE = st.builds(lambda o, v, c: o + v + c, *(st.sampled_from(x) for x in (_ONSETS, _VOWELS, _CODAS)))
_CYR_WORD = st.one_of(
    st.lists(_SYLLABLE, min_size=1, max_size=4).map("".join),
    st.builds(lambda rest: "э" + rest, st.lists(_SYLLABLE, min_size=1, max_size=3).map("".join)),
)
# The two spellings the rules read back differently, both by design (ingest/transliterate.py): й before
# а о у е is written as я ё ю е would be (ya, yo, yu, ye), and t+s before e or i+vowel is read as ц.
_AMBIGUOUS = re.compile("й[аоуеэ]|тсе|тси[аиоуўеёюяэй]", re.IGNORECASE)
# Latin stems that the loanword lexicon spells with ц/ь/ю (sex -> цех); a generated word may start so.
_LEXICON_STEMS = tuple(latin for _, latin, _ in transliterate._LEXICON)


def _ambiguous(word: str) -> bool:
    return bool(_AMBIGUOUS.search(word)) or cyrillic_to_latin(word).lower().startswith(_LEXICON_STEMS)


@PROPS
@given(st.lists(_CYR_WORD, min_size=1, max_size=4).map(" ".join), st.sampled_from(["lower", "title", "upper"]))
def test_cyrillic_latin_cyrillic_round_trip(phrase: str, case: str) -> None:
    assume(not any(_ambiguous(w) for w in phrase.split()))
    phrase = {"lower": phrase, "title": phrase.title(), "upper": phrase.upper()}[case]
    latin = cyrillic_to_latin(phrase)
    assert latin_to_cyrillic(latin) == phrase, latin


@PROPS
@given(st.text(alphabet=_UZ_CYRILLIC + "щы0123456789 .,;:!?()-«»\"\n"))
def test_latin_output_has_only_latin_letters(text: str) -> None:
    latin = cyrillic_to_latin(text)
    # Uzbek Latin letters: a-z plus the modifier letters ʻ (oʻ gʻ) and ʼ (tutuq).
    assert all(c.isascii() or c in "\u02bb\u02bc" for c in latin if c.isalpha()), latin
    assert not re.search("[\u0400-\u052f]", latin)


_NOT_CYRILLIC = st.characters(exclude_categories=("Cs",)).filter(lambda c: not "\u0400" <= c <= "\u052f")


@PROPS
@given(st.one_of(st.text(alphabet=_UZ_LATIN + "0123456789 .,;:-\n"), st.text(alphabet=_NOT_CYRILLIC)))
def test_cyrillic_to_latin_leaves_latin_text_alone(text: str) -> None:
    assert cyrillic_to_latin(text) == text
    assert cyrillic_to_latin(cyrillic_to_latin(text)) == cyrillic_to_latin(text)


# -- chunking ----------------------------------------------------------------------------------


def cheap_tokens(text: str) -> int:
    """A stand-in tokenizer: 1.3 tokens a word (the real one is too slow for 500 examples)."""
    return math.ceil(len(text.split()) * 1.3)


_WORDS = {
    "uz-Latn": ["ish", "haqi", "toʻlanadi.", "xodim", "shartnomasi;", "Oʻzbekiston", "muddat?", "x" * 30],
    "uz-Cyrl": ["иш", "ҳақи", "тўланади.", "ходим", "шартномаси;", "Ўзбекистон", "муддат?"],
    "ru": ["работник", "договор.", "трудовой", "кодекс;", "срок", "выплаты?", "Республики"],
    "en": ["Labour", "code:", "wages", "are", "paid.", "employee;", "term?"],
}


@st.composite
def documents(draw: st.DrawFn) -> Document:
    lang = draw(st.sampled_from(sorted(_WORDS)))
    words = st.sampled_from(_WORDS[lang] + ["-", "а)", "a)"])
    line = st.lists(words, max_size=30).map(" ".join)

    def body(n_points: int) -> str:
        lines = draw(st.lists(line, min_size=1, max_size=4))
        points = [f"{i + 1}) {draw(line)}" for i in range(n_points)]
        return "\n".join(lines[:1] + points + lines[1:])

    articles = tuple(
        Article(str(n), f"{n}-modda" if lang == "uz-Latn" else "", draw(st.sampled_from(["", "Sarlavha"])),
                body(draw(st.integers(0, 5))))
        for n in range(1, draw(st.integers(1, 4)) + 1)
    )
    return Document(
        id=f"doc-{lang}", work_id="mehnat_kodeksi", title="Oʻzbekiston Respublikasining Mehnat kodeksi",
        kind="code", lang=lang, script="Cyrl" if lang in ("uz-Cyrl", "ru") else "Latn", source="test",
        articles=articles,
    )


@PROPS
@given(documents(), st.integers(16, 96))
def test_chunks_are_non_empty_in_budget_in_order_and_cited(doc: Document, max_tokens: int) -> None:
    chunks = chunk_document(doc, count_tokens=cheap_tokens, max_tokens=max_tokens)
    articles = {a.article_id: a for a in doc.articles}
    offsets: dict[str, int] = {}
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        article = articles[chunk.article_id]
        body = article.text if article.text.strip() else article.title
        assert chunk.text.strip() == chunk.text != "", "empty or untrimmed chunk"
        # Within the budget (counting the heading that is embedded with it), unless it is one word.
        assert chunk.tokens == cheap_tokens(f"{chunk.heading}\n{chunk.text}")
        assert chunk.tokens <= max_tokens or len(chunk.text.split()) == 1
        # A slice of its own article, after the previous chunk of that article.
        at = body.find(chunk.text, offsets.get(chunk.article_id, 0))
        assert at >= 0, "chunk text is not the article's text in order"
        offsets[chunk.article_id] = at + len(chunk.text)
        # The citation is the one format_citation gives for the chunk's article and point.
        assert chunk.ref == make_ref(doc.work_id, article.article_id)
        assert chunk.doc_id == doc.id and chunk.lang == doc.lang
        assert chunk.point == "" or chunk.point in {str(n) for n in range(1, 6)}
        expected = format_citation(short_title="Mehnat kodeksi", display=article.display,
                                   article_id=article.article_id, point=chunk.point, lang=doc.lang,
                                   unit="article")
        assert chunk.citation == expected
        assert chunk.path.article == article.display and chunk.path.point == chunk.point
    # Nothing is lost: every word of every article is in exactly one chunk.
    for article in doc.articles:
        body = article.text if article.text.strip() else article.title
        assert [w for c in chunks if c.article_id == article.article_id for w in c.text.split()] == body.split()


# -- fusion ------------------------------------------------------------------------------------

_SCORE = st.floats(-1e308, 1e308, allow_nan=False, allow_infinity=False)


@st.composite
def rankings(draw: st.DrawFn, n_lists: int) -> list[list[tuple[int, float]]]:
    out = []
    for _ in range(n_lists):
        ids = draw(st.lists(st.integers(1, 60), unique=True, max_size=25))
        scores = sorted(draw(st.lists(_SCORE, min_size=len(ids), max_size=len(ids))), reverse=True)
        out.append(list(zip(ids, scores)))
    return out


_WEIGHT = st.floats(0.01, 10.0)


@PROPS
@given(rankings(2), st.lists(_WEIGHT, min_size=2, max_size=2), st.floats(1.0, 200.0))
def test_fused_scores_are_finite_and_cover_every_candidate(
    lists: list[list[tuple[int, float]]], weights: list[float], k: float
) -> None:
    candidates = {i for hits in lists for i, _ in hits}
    for scores in (reciprocal_rank_fusion(lists, weights, k=k), weighted_fusion(lists, weights)):
        assert set(scores) == candidates
        assert all(math.isfinite(s) and s >= 0 for s in scores.values()), scores
        assert all(s <= sum(weights) * (1 + 1e-9) for s in scores.values())


@PROPS
@given(rankings(3), _WEIGHT, st.floats(1.0, 200.0), st.permutations(range(3)))
def test_fusion_does_not_depend_on_the_order_of_equally_weighted_lists(
    lists: list[list[tuple[int, float]]], w: float, k: float, order: list[int]
) -> None:
    shuffled = [lists[i] for i in order]
    for fuse in (lambda ls: reciprocal_rank_fusion(ls, [w] * 3, k=k), lambda ls: weighted_fusion(ls, [w] * 3)):
        a, b = fuse(lists), fuse(shuffled)
        assert a.keys() == b.keys()
        assert all(math.isclose(a[i], b[i], rel_tol=1e-12, abs_tol=1e-300) for i in a)
    # The same list given twice with its copies swapped is the same input: identical scores, same order.
    same = reciprocal_rank_fusion([lists[0], lists[0]], [w, w], k=k)
    assert list(same) == [i for i, _ in lists[0]]
    assert sorted(same, key=lambda i: -same[i]) == [i for i, _ in lists[0]]


@PROPS
@given(rankings(2), st.lists(_WEIGHT, min_size=2, max_size=2), st.floats(1.0, 200.0), st.integers(100, 120))
def test_a_document_first_in_every_list_is_first(
    lists: list[list[tuple[int, float]]], weights: list[float], k: float, winner: int
) -> None:
    top_score = 1e308
    lists = [[(winner, top_score)] + [(i, s) for i, s in hits if s < top_score] for hits in lists]
    rrf = reciprocal_rank_fusion(lists, weights, k=k)
    assert all(rrf[winner] > s for i, s in rrf.items() if i != winner)
    weighted = weighted_fusion(lists, weights)
    # Min-max: others reach the winner's 1.0 per list only when a list has a single distinct score.
    assume(all(len(hits) == 1 or hits[1][1] < top_score for hits in lists))
    assert all(weighted[winner] > s for i, s in weighted.items() if i != winner)


# -- save / load -------------------------------------------------------------------------------


# Durability is tested by the crash tests; here fsync only costs time (500 generations × several files).
_NO_FSYNC = mock.patch("os.fsync")


@st.composite
def vector_sets(draw: st.DrawFn) -> tuple[list[int], np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 40))
    dim = draw(st.integers(2, 12))
    ids = draw(st.lists(st.integers(1, 2**63 - 1), min_size=n, max_size=n, unique=True))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    vectors = rng.standard_normal((n + 3, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return ids, vectors[:n], vectors[n:]


@PROPS
@given(vector_sets(), st.integers(1, 50))
def test_dense_index_save_load_round_trip(data: tuple[list[int], np.ndarray, np.ndarray], k: int) -> None:
    ids, vectors, queries = data
    index = DenseIndex.build(ids, vectors)
    with tempfile.TemporaryDirectory() as tmp, _NO_FSYNC:
        index.save(Path(tmp) / "dense.faiss")
        loaded = DenseIndex.load(Path(tmp) / "dense.faiss")
    assert len(loaded) == len(index) and loaded.dim == index.dim
    assert sorted(loaded.ids().tolist()) == sorted(ids)
    for query in queries:
        assert loaded.search(query, k) == index.search(query, k)


_TERMS = st.sampled_from(["ish", "haqi", "xodim", "иш", "ҳақи", "работник", "wages", "oʻrtacha", "shartnoma", "x"])


@PROPS
@given(
    st.lists(st.lists(_TERMS, max_size=12), min_size=1, max_size=30),
    st.lists(st.lists(_TERMS, min_size=1, max_size=4), min_size=1, max_size=3),
    st.integers(1, 40),
)
def test_lexical_index_save_load_round_trip(docs: list[list[str]], queries: list[list[str]], k: int) -> None:
    pairs = [(i * 7919 + 1, tokens) for i, tokens in enumerate(docs)]
    if not any(docs):  # bm25s would score a corpus without terms NaN: it is refused
        with pytest.raises(LexicalIndexError, match="none of the"):
            LexicalIndex.build(pairs)
        return
    index = LexicalIndex.build(pairs, analyzer="test")
    with tempfile.TemporaryDirectory() as tmp:
        index.save(tmp)
        loaded = LexicalIndex.load(tmp)
    assert len(loaded) == len(index) and loaded.params == index.params and loaded.analyzer == "test"
    assert loaded.vocabulary == index.vocabulary
    for query in queries:
        assert loaded.search(query, k=k) == index.search(query, k=k)


def _chunk(chunk_id: int, text: str) -> Chunk:
    return Chunk(
        id=chunk_id, doc_id="mehnat@uz", ref=f"mehnat::{chunk_id}", article_id=str(chunk_id), point="", seq=0,
        text=text, heading=f"{chunk_id}-modda", citation=f"Mehnat kodeksi, {chunk_id}-modda",
        path=CitationPath(act="Mehnat kodeksi", article=f"{chunk_id}-modda"), lang="uz", script="Latn", tokens=3,
    )


@PROPS
@given(vector_sets(), st.lists(st.text(max_size=40), min_size=40, max_size=40), st.integers(0, 10**6))
def test_generation_publish_load_round_trip(
    data: tuple[list[int], np.ndarray, np.ndarray], texts: list[str], documents: int
) -> None:
    ids, vectors, queries = data
    chunks = [_chunk(i, texts[n]) for n, i in enumerate(ids)]
    dense = DenseIndex.build(ids, vectors)
    with tempfile.TemporaryDirectory() as tmp, _NO_FSYNC:
        with GenerationWriter(tmp, embedder_id="test:prop", dim=vectors.shape[1]) as writer:
            writer.write_dense(dense)
            writer.write_chunks(chunks)
            written = writer.publish(documents=documents, corpus_fingerprint=f"fp-{documents}")
        loaded = load_current(tmp, embedder_id="test:prop", dim=vectors.shape[1])
        rows = list(loaded.iter_chunks())
    assert loaded.manifest == written and loaded.id == written.generation
    assert (written.chunks, written.documents, written.dim) == (len(ids), documents, vectors.shape[1])
    assert [Chunk(**{**r, "path": CitationPath(**r["path"])}) for r in rows] == chunks
    for query in queries:
        assert loaded.dense.search(query, len(ids)) == dense.search(query, len(ids))
