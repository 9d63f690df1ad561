"""The lexical index: ranking across scripts, save/load, refusal of altered files, typo expansion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.analysis import analyze, analyze_query
from index.lexical import LexicalIndex, LexicalIndexError, TypoVocabulary, expand_typos
from index.thesaurus import load_thesaurus

# Nine chunks in four languages and both Uzbek scripts; ids are large like real 63-bit chunk ids.
CORPUS: list[tuple[int, str, str]] = [
    (9_000_000_000_001, "uz-Latn", "Ish haqi har oyda kamida bir marta toʻlanadi, kechiktirilgan ish haqi uchun kompensatsiya."),
    (9_000_000_000_002, "uz-Latn", "Mehnat shartnomasini ish beruvchining tashabbusi bilan bekor qilish asoslari."),
    (9_000_000_000_003, "uz-Cyrl", "Никоҳни бекор қилиш фуқаролик ҳолати далолатномаларини ёзиш органларида амалга оширилади."),
    (9_000_000_000_004, "uz-Cyrl", "Вояга етмаган болалар учун алимент ота-онанинг иш ҳақидан ундирилади."),
    (9_000_000_000_005, "ru", "Заработная плата выплачивается не реже одного раза в месяц."),
    (9_000_000_000_006, "ru", "Расторжение трудового договора по инициативе работодателя."),
    (9_000_000_000_007, "ru", "Для получения паспорта гражданин подает заявление."),
    (9_000_000_000_008, "en", "The employer shall pay wages at least once a month."),
    (9_000_000_000_009, "en", "A passport is issued to a citizen on application."),
]


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build(((cid, analyze(text, lang=lang)) for cid, lang, text in CORPUS), analyzer="test")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ish haqi toʻlanishi", 9_000_000_000_001),  # Uzbek Latin, official apostrophe
        ("ish haqi tolanadi", 9_000_000_000_001),  # Uzbek Latin, no apostrophe
        ("иш ҳақи тўланади", 9_000_000_000_001),  # the same in Uzbek Cyrillic
        ("nikohni bekor qilish", 9_000_000_000_003),  # Latin query, Cyrillic document
        ("алимент ундириш", 9_000_000_000_004),  # Cyrillic Uzbek query and document
        ("заработную плату выплачивают", 9_000_000_000_005),  # Russian inflections
        ("расторжение трудового договора", 9_000_000_000_006),
        ("employer pays wages", 9_000_000_000_008),  # English stems
        ("паспорт", 9_000_000_000_007),
    ],
)
def test_the_right_chunk_ranks_first(index: LexicalIndex, query: str, expected: int) -> None:
    hits = index.search(analyze_query(query), k=3)
    assert hits[0][0] == expected
    assert all(score > 0 for _, score in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_empty_or_unknown_query_finds_nothing(index: LexicalIndex) -> None:
    assert index.search([], k=5) == []
    assert index.search(analyze_query("?!"), k=5) == []
    assert index.search(["qwertyzxc"], k=5) == []


def test_weights_scale_a_token_score(index: LexicalIndex) -> None:
    [(cid, full)] = index.search(["паспорт"], k=1)
    [(cid_half, half)] = index.search(["паспорт"], k=1, weights=[0.5])
    assert cid == cid_half and half == pytest.approx(full / 2)
    with pytest.raises(ValueError, match="2 weights for 1 query tokens"):
        index.search(["паспорт"], k=1, weights=[1.0, 1.0])


def test_scores_equal_bm25s_own_scoring(index: LexicalIndex) -> None:
    tokens = analyze_query("ish haqi bekor qilish")
    ours = dict(index.search(tokens, k=len(index)))
    theirs = index._bm25.get_scores(tokens)  # the library's own sum of the same matrix
    ids = index._ids
    for position, score in enumerate(theirs):
        assert ours.get(int(ids[position]), 0.0) == pytest.approx(float(score), abs=1e-6)


@settings(max_examples=50, deadline=None)
@given(words=st.lists(st.sampled_from(["ish", "haqi", "паспорт", "wages", "bekor", "x"]), max_size=5),
       k=st.integers(1, 12))
def test_search_never_returns_more_than_k(index: LexicalIndex, words: list[str], k: int) -> None:
    hits = index.search(analyze_query(" ".join(words)), k=k)
    assert len(hits) <= k and len({cid for cid, _ in hits}) == len(hits)


def test_save_load_round_trip(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert np.load(tmp_path / "ids.npy").dtype == np.int64
    assert loaded.analyzer == "test" and loaded.params == index.params and len(loaded) == len(index)
    for query, _ in [("ish haqi", 0), ("паспорт", 0), ("employer wages", 0), ("никоҳни бекор қилиш", 0)]:
        tokens = analyze_query(query)
        assert loaded.search(tokens, k=9) == index.search(tokens, k=9)


def test_a_changed_format_version_is_refused(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    manifest = json.loads((tmp_path / "lexical.json").read_text())
    manifest["format_version"] = 99
    (tmp_path / "lexical.json").write_text(json.dumps(manifest))
    with pytest.raises(LexicalIndexError, match="format_version=99.*rebuild the index") as err:
        LexicalIndex.load(tmp_path)
    assert err.value.code == "index_version"


def test_tampered_bm25_params_are_refused(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    params = json.loads((tmp_path / "params.index.json").read_text())
    params["k1"] = 3.0
    (tmp_path / "params.index.json").write_text(json.dumps(params))
    with pytest.raises(LexicalIndexError, match="params.index.json is missing or was changed") as err:
        LexicalIndex.load(tmp_path)
    assert err.value.code == "index_corrupt"


def test_missing_index_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(LexicalIndexError, match="lexical.json is missing") as err:
        LexicalIndex.load(tmp_path)
    assert err.value.code == "index_missing"


@pytest.mark.parametrize(
    ("docs", "code"),
    [([], "empty_index"), ([(1, ["a"]), (1, ["b"])], "duplicate_id")],
)
def test_bad_build_input_is_refused(docs: list[tuple[int, list[str]]], code: str) -> None:
    with pytest.raises(LexicalIndexError) as err:
        LexicalIndex.build(docs)
    assert err.value.code == code


# Transpositions count as one edit (optimal string alignment distance): "pasprot" is one slip of
# the fingers away from "pasport", which plain Levenshtein would put at two, out of reach at 7 letters.
@pytest.mark.parametrize(
    ("typo", "intended"),
    [
        ("pasprot", "pasport"),  # transposition
        ("pasport", None),  # known word: no expansion
        ("пасспорт", "паспорт"),  # extra letter, Cyrillic
        ("паспрт", "паспорт"),  # missing letter
        ("shartnoma", None),  # known
        ("shartonmalar", "shartnomalar"),  # 8+ letters: distance 2 allowed
        ("shrtnomlar", "shartnomalar"),  # two deletions from a long word
    ],
)
def test_typo_expansion(typo: str, intended: str | None) -> None:
    vocab = TypoVocabulary({"pasport": 10, "паспорт": 5, "shartnoma": 7, "shartnomalar": 3, "pasta": 1})
    fixes = expand_typos([typo], vocab)
    assert fixes == ({} if intended is None else {typo: [intended]})


def test_short_tokens_are_not_corrected() -> None:
    assert expand_typos(["ixh", "b"], TypoVocabulary(["ish", "a"])) == {}


def test_typo_vocabulary_of_an_index(index: LexicalIndex) -> None:
    tokens = analyze_query("пасспорт")
    fixes = expand_typos(tokens, index.typo_vocabulary)
    assert "паспорт" in fixes.get("пасспорт", [])


def test_thesaurus_adds_statutory_terms_at_lower_weight() -> None:
    thesaurus = load_thesaurus()
    tokens, weights = thesaurus.expand(analyze_query("oylik bermayapti"), weight=0.5)
    assert set(analyze("ish haqi", lang="uz-Latn")) <= set(tokens)
    assert weights[tokens.index("haq")] == 0.5
    ru_tokens, _ = thesaurus.expand(analyze_query("уволили"))
    assert set(analyze("расторжение трудового договора", lang="ru")) <= set(ru_tokens)


PREFIX_RULES = (
    "uz\tqamash*\t->\tozodlikdan mahrum qilish\tuz\n"
    "uz\tishdan hayda*\t->\tmehnat shartnomasini bekor qilish\tuz\n"
    "uz\toʻgʻirla*\t->\toʻgʻrilik\tuz\n"
)


@pytest.mark.parametrize(
    ("query", "statutory"),
    [
        ("qoʻshnim meni qamashdi", "ozodlikdan mahrum qilish"),  # qamash* : a verb form the lemmatiser keeps
        ("rahbar meni ishdan haydashdi", "mehnat shartnomasini bekor qilish"),
        ("sumkamni oʻgʻirlashdi", "oʻgʻrilik"),
    ],
)
def test_thesaurus_prefix_words_match_verb_forms(tmp_path: Path, query: str, statutory: str) -> None:
    path = tmp_path / "t.tsv"
    path.write_text(PREFIX_RULES, encoding="utf-8")
    tokens, _ = load_thesaurus(path).expand(analyze_query(query))
    assert set(analyze(statutory, lang="uz-Latn")) <= set(tokens)


@pytest.mark.parametrize(
    ("query", "statutory"),
    [
        ("oʻgʻirlamoq", "oʻgʻrilik"),  # the Criminal Code's spelling of theft (the rule said oʻgʻirlik)
        ("кража", "oʻgʻrilik"),
        ("ajrashish", "nikohdan ajratish"),  # the Family Code's word for divorce
        ("развод", "nikohdan ajratish"),
    ],
)
def test_shipped_thesaurus_points_to_the_corpus_spelling(query: str, statutory: str) -> None:
    tokens, _ = load_thesaurus().expand(analyze_query(query))
    assert set(analyze(statutory, lang="uz-Latn")) <= set(tokens)


def test_thesaurus_prefix_needs_the_rest_of_its_phrase(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("uz\tishdan ket*\t->\txodimning tashabbusi\tuz\n", encoding="utf-8")
    thesaurus = load_thesaurus(path)
    assert "tashabbus" not in "".join(thesaurus.expand(analyze_query("uyga ketmoqchiman"))[0])
    assert set(analyze("xodimning tashabbusi", lang="uz-Latn")) <= set(
        thesaurus.expand(analyze_query("ishdan ketmoqchiman"))[0])


@pytest.mark.parametrize(
    "line",
    [
        "uz\tqamash*\t<->\tqamoq\tuz",  # a prefix cannot be added, so not in a two-way rule
        "uz\tqamoq\t->\tqamash*\tuz",
        "uz\tqa*\t->\tqamoq\tuz",  # too short to mean anything
    ],
)
def test_thesaurus_rejects_misplaced_or_short_prefixes(tmp_path: Path, line: str) -> None:
    path = tmp_path / "t.tsv"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="prefix"):
        load_thesaurus(path)
