"""Versioned index generations: build beside the published one, publish with one atomic pointer switch.

::

    data/
    ├── CURRENT                  id of the published generation (one line)
    └── generations/
        ├── .lock                held by the one writer
        ├── .tmp-<id>/           a generation being built (removed by the next writer if it died)
        └── <id>/                20261128T134455123456Z-1a2b3c: sorts by creation time
            ├── manifest.json    format_version, generation, created_at, embedder {id, dim},
            │                    counts {documents, chunks}, corpus_fingerprint, build {name: value},
            │                    files {name: sha256}
            ├── dense.faiss
            ├── chunks.jsonl     one JSON object per chunk, in any order
            └── lexical/         written by the lexical indexer

Publishing fsyncs every file, writes the manifest, renames ``.tmp-<id>`` to ``<id>`` and replaces
``CURRENT`` atomically, so after a crash at any step readers see the old generation or the new one,
never a mix. Readers never write; the last ``keep`` generations stay for fallback.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from index.dense import DenseIndex, SearchIndexError
from index.embed import embedder_setting
from ingest.durable import fsync_path, sha256_file
from ingest.errors import ConfigError
from ingest.faults import checkpoint

__all__ = [
    "FORMAT_VERSION",
    "GenerationWriter",
    "LoadedGeneration",
    "Manifest",
    "clean_leftovers",
    "current_generation_id",
    "list_generations",
    "load_current",
    "load_generation",
    "load_previous_valid",
]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
KEEP = 3
CURRENT = "CURRENT"
GENERATIONS = "generations"
MANIFEST = "manifest.json"
DENSE_FILE = "dense.faiss"
CHUNKS_FILE = "chunks.jsonl"
LEXICAL_DIR = "lexical"
_ID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,127}$")


@dataclass(frozen=True)
class Manifest:
    """What a generation holds and how it was built; ``files`` maps relative names to sha256.

    ``build`` holds the parameters besides the corpus that decided the content (``index.build``);
    manifests written before it existed have none.
    """

    format_version: int
    generation: str
    created_at: str
    embedder_id: str
    dim: int
    documents: int
    chunks: int
    corpus_fingerprint: str
    files: Mapping[str, str] = field(default_factory=dict)
    build: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The manifest.json structure."""
        return {
            "format_version": self.format_version,
            "generation": self.generation,
            "created_at": self.created_at,
            "embedder": {"id": self.embedder_id, "dim": self.dim},
            "counts": {"documents": self.documents, "chunks": self.chunks},
            "corpus_fingerprint": self.corpus_fingerprint,
            "build": dict(sorted(self.build.items())),
            "files": dict(sorted(self.files.items())),
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """Parse manifest.json; ``KeyError``/``TypeError``/``ValueError`` on a malformed one."""
        files = data["files"]
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise TypeError("files must map names to sha256 strings")
        build = data.get("build", {})
        if not isinstance(build, dict) or not all(isinstance(v, str) for v in build.values()):
            raise TypeError("build must map names to strings")
        return cls(
            format_version=int(data["format_version"]),
            generation=str(data["generation"]),
            created_at=str(data["created_at"]),
            embedder_id=str(data["embedder"]["id"]),
            dim=int(data["embedder"]["dim"]),
            documents=int(data["counts"]["documents"]),
            chunks=int(data["counts"]["chunks"]),
            corpus_fingerprint=str(data["corpus_fingerprint"]),
            files={str(k): v for k, v in files.items()},
            build={str(k): v for k, v in build.items()},
        )


@dataclass(frozen=True, eq=False)
class LoadedGeneration:
    """A verified generation ready to serve; ``fallback`` is true when it is not the published one."""

    id: str
    path: Path
    manifest: Manifest
    dense: DenseIndex
    fallback: bool = False

    @property
    def lexical_dir(self) -> Path:
        """The folder the lexical indexer wrote."""
        return self.path / LEXICAL_DIR

    @property
    def chunks_path(self) -> Path:
        """The chunks.jsonl file."""
        return self.path / CHUNKS_FILE

    def iter_chunks(self) -> Iterator[dict[str, Any]]:
        """The chunk rows written by ``GenerationWriter.write_chunks``."""
        with self.chunks_path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)


def _new_id() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def _plain(value: Any) -> Any:
    """``dataclasses.asdict`` without its deep copies (a third of a 14k-chunk write): the same JSON."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _write_durably(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: temp file, fsync, rename, fsync the folder."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def current_generation_id(data_dir: str | Path) -> str | None:
    """The id named by ``CURRENT``, or None when nothing is published."""
    pointer = Path(data_dir) / CURRENT
    try:
        gen_id = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SearchIndexError(f"{CURRENT} is unreadable ({exc}); rebuild the index") from exc
    if not _ID_RE.match(gen_id):
        raise SearchIndexError(f"{CURRENT} holds {gen_id[:40]!r}, not a generation id; rebuild the index")
    return gen_id


def list_generations(data_dir: str | Path) -> list[str]:
    """Ids of the complete (renamed) generation folders, oldest first."""
    root = Path(data_dir) / GENERATIONS
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and _ID_RE.match(p.name))


class GenerationWriter:
    """Builds one generation in ``generations/.tmp-<id>/`` and publishes it; a context manager.

    Holding the writer lock, it first removes folders left by builds that died. Usage::

        with GenerationWriter(data_dir, embedder_id=emb.id, dim=emb.dim) as writer:
            writer.write_dense(dense)
            writer.write_chunks(rows)
            build_lexical(writer.lexical_dir)
            writer.publish(documents=n_docs, corpus_fingerprint=fingerprint)

    Leaving the block without ``publish`` discards the build.
    """

    def __init__(self, data_dir: str | Path, *, embedder_id: str, dim: int, keep: int = KEEP) -> None:
        if keep < 1:
            raise ConfigError(f"keep={keep} must be at least 1 (3 leaves two generations to fall back to)")
        self.data_dir = Path(data_dir)
        self.embedder_id = embedder_id
        self.dim = dim
        self.keep = keep
        root = self.data_dir / GENERATIONS
        root.mkdir(parents=True, exist_ok=True)
        self._root = root
        self._lock_fd: int | None = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise SearchIndexError(
                "another index build is running; wait for it to finish", code="index_busy"
            ) from exc
        self.id = _new_id()
        self.dir = root / f".tmp-{self.id}"
        self.lexical_dir = self.dir / LEXICAL_DIR
        self._vectors: int | None = None
        self._chunks: int | None = None
        self.manifest: Manifest | None = None
        try:
            _remove_leftovers(self.data_dir)
            self.dir.mkdir()
            self.lexical_dir.mkdir()
            checkpoint("generation.started")
        except BaseException:  # no context manager yet: discard the folder and release the lock here
            self.close()
            raise

    def write_dense(self, index: DenseIndex) -> None:
        """Save the dense index into the generation."""
        if index.dim != self.dim:
            raise ConfigError(f"dense index has dim {index.dim}, the generation is for dim {self.dim}")
        index.save(self.dir / DENSE_FILE)
        self._vectors = len(index)
        checkpoint("generation.dense_written")

    def write_chunks(self, rows: Iterable[Any]) -> int:
        """Write chunk rows (mappings or dataclasses such as ``Chunk``) to chunks.jsonl; return the count."""
        count = 0
        with (self.dir / CHUNKS_FILE).open("w", encoding="utf-8") as out:
            for row in rows:
                is_record = dataclasses.is_dataclass(row) and not isinstance(row, type)
                data = _plain(row) if is_record else dict(row)
                out.write(json.dumps(data, ensure_ascii=False) + "\n")
                count += 1
            out.flush()
            os.fsync(out.fileno())
        self._chunks = count
        checkpoint("generation.chunks_written")
        return count

    def publish(
        self, *, documents: int, corpus_fingerprint: str, build: Mapping[str, str] | None = None
    ) -> Manifest:
        """Seal the generation, make it ``CURRENT``, and prune old ones; return its manifest."""
        if self.manifest is not None or self._lock_fd is None:
            raise ConfigError(f"generation {self.id} is already published or discarded")
        if self._vectors is None or self._chunks is None:
            raise ConfigError("call write_dense() and write_chunks() before publish()")
        if self._vectors != self._chunks:
            raise ConfigError(
                f"the dense index holds {self._vectors} vectors but {self._chunks} chunks were written; "
                "embed every chunk exactly once"
            )
        files: dict[str, str] = {}
        for path in sorted(self.dir.rglob("*")):
            if path.is_file():
                files[path.relative_to(self.dir).as_posix()] = sha256_file(path)
            fsync_path(path)
        checkpoint("generation.files_synced")
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            generation=self.id,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            embedder_id=self.embedder_id,
            dim=self.dim,
            documents=documents,
            chunks=self._chunks,
            corpus_fingerprint=corpus_fingerprint,
            files=files,
            build=dict(build or {}),
        )
        text = json.dumps(manifest.to_json(), ensure_ascii=False, indent=2) + "\n"
        _write_durably(self.dir / MANIFEST, text.encode("utf-8"))
        checkpoint("generation.manifest_written")
        final = self._root / self.id
        os.rename(self.dir, final)
        self.dir = final
        try:
            fsync_path(self._root)
            checkpoint("generation.renamed")
            _write_durably(self.data_dir / CURRENT, f"{self.id}\n".encode())
        except BaseException:
            if _pointer_names(self.data_dir) == self.id:
                self.manifest = manifest  # the pointer was replaced before the failure: it is live
            else:  # never published: remove the sealed folder so that nothing unpublished lingers
                shutil.rmtree(final, ignore_errors=True)
            raise
        self.manifest = manifest
        checkpoint("generation.current_written")
        logger.info("published generation %s (%d chunks)", self.id, manifest.chunks)
        self._prune()
        checkpoint("generation.pruned")
        self.close()
        return manifest

    def _prune(self) -> None:
        names = list_generations(self.data_dir)
        doomed = [name for name in names[: -self.keep] if name != self.id and name < self.id]
        for name in doomed:
            shutil.rmtree(self._root / name, ignore_errors=True)
            logger.info("pruned generation %s", name)

    def close(self) -> None:
        """Discard the build unless it was published, and release the writer lock."""
        if self.manifest is None and self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _remove_leftovers(data_dir: Path) -> list[str]:
    """Remove what a writer that died left behind; the caller holds the generation lock.

    That is: ``.tmp-<id>/`` folders, sealed folders newer than ``CURRENT`` (renamed but never
    published), and the temporary files of ``_write_durably`` beside ``CURRENT``.
    """
    root = data_dir / GENERATIONS
    removed: list[str] = []
    for leftover in sorted(root.glob(".tmp-*")):
        logger.warning("removing unfinished generation %s", leftover.name)
        shutil.rmtree(leftover, ignore_errors=True)
        removed.append(f"{GENERATIONS}/{leftover.name}")
    try:
        current = current_generation_id(data_dir)
    except SearchIndexError:
        current = None  # a damaged pointer: leave every generation for fallback and the operator
    if current is not None and (root / current).is_dir():
        for name in list_generations(data_dir):
            if name > current:
                logger.warning("removing generation %s, sealed but never published", name)
                shutil.rmtree(root / name, ignore_errors=True)
                removed.append(f"{GENERATIONS}/{name}")
    for stray in sorted(data_dir.glob(f".{CURRENT}.*.tmp")):
        stray.unlink(missing_ok=True)
        removed.append(stray.name)
    return removed


def _pointer_names(data_dir: Path) -> str | None:
    try:
        return current_generation_id(data_dir)
    except SearchIndexError:
        return None


def clean_leftovers(data_dir: str | Path) -> list[str]:
    """Remove the leftovers of a writer that died (see ``_remove_leftovers``); run at start-up.

    Returns the removed paths, relative to ``data_dir``; does nothing (returns ``[]``) while a
    writer holds the lock, because that writer cleans up itself.
    """
    data_dir = Path(data_dir)
    root = data_dir / GENERATIONS
    if not root.is_dir():
        return []
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return []
        return _remove_leftovers(data_dir)
    finally:
        os.close(fd)


def _read_manifest(path: Path, gen_id: str) -> Manifest:
    try:
        raw = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SearchIndexError(f"generation {gen_id} has no {MANIFEST}; rebuild the index") from exc
    except (OSError, ValueError) as exc:
        raise SearchIndexError(f"{MANIFEST} of generation {gen_id} is unreadable; rebuild the index") from exc
    if isinstance(raw, dict) and raw.get("format_version") != FORMAT_VERSION:
        raise SearchIndexError(
            f"generation {gen_id} has format version {raw.get('format_version')!r}, this program reads "
            f"version {FORMAT_VERSION}; rebuild the index",
            code="index_version",
        )
    try:
        manifest = Manifest.from_json(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise SearchIndexError(f"{MANIFEST} of generation {gen_id} is malformed ({exc!r})") from exc
    if manifest.generation != gen_id:
        raise SearchIndexError(f"{MANIFEST} in folder {gen_id} names generation {manifest.generation}")
    return manifest


def current_embedder_id(data_dir: str | Path) -> str | None:
    """The embedder id in the manifest of the published generation, or None when nothing is published."""
    gen_id = current_generation_id(data_dir)
    if gen_id is None:
        return None
    return _read_manifest(Path(data_dir) / GENERATIONS / gen_id, gen_id).embedder_id


def load_generation(
    data_dir: str | Path,
    gen_id: str,
    *,
    embedder_id: str,
    dim: int,
    verify_hashes: bool = True,
) -> LoadedGeneration:
    """Load and verify one generation: format version, embedder, file checksums, dense index.

    Set ``loaded.dense.ef_search`` afterwards to trade HNSW recall for speed.
    """
    if not _ID_RE.match(gen_id):
        raise SearchIndexError(f"{gen_id[:40]!r} is not a generation id", code="index_missing")
    path = Path(data_dir) / GENERATIONS / gen_id
    if not path.is_dir():
        raise SearchIndexError(f"generation {gen_id} is missing; rebuild the index")
    manifest = _read_manifest(path, gen_id)
    if manifest.embedder_id != embedder_id or manifest.dim != dim:
        raise SearchIndexError(
            f"generation {gen_id} was built with embedder {manifest.embedder_id} (dim {manifest.dim}) "
            f"but {embedder_id} (dim {dim}) is configured; set XIZMAT_EMBEDDER="
            f"{embedder_setting(manifest.embedder_id)} or rebuild the index with the configured embedder",
            code="embedder_mismatch",
        )
    required = {DENSE_FILE, CHUNKS_FILE}
    if not required <= set(manifest.files):
        raise SearchIndexError(f"generation {gen_id} lacks {sorted(required - set(manifest.files))}")
    if verify_hashes:
        for name, digest in manifest.files.items():
            file = path / name
            if Path(name).is_absolute() or ".." in Path(name).parts or not file.is_file():
                raise SearchIndexError(f"file {name!r} of generation {gen_id} is missing")
            if sha256_file(file) != digest:
                raise SearchIndexError(f"file {name} of generation {gen_id} fails its checksum")
    try:
        dense = DenseIndex.load(path / DENSE_FILE)
    except SearchIndexError as exc:
        raise SearchIndexError(f"generation {gen_id}: {exc.message}", code="index_corrupt") from exc
    if dense.dim != dim or len(dense) != manifest.chunks:
        raise SearchIndexError(
            f"generation {gen_id}: dense index holds {len(dense)} vectors of dim {dense.dim}, "
            f"the manifest says {manifest.chunks} of dim {dim}"
        )
    return LoadedGeneration(id=gen_id, path=path, manifest=manifest, dense=dense)


def load_previous_valid(
    data_dir: str | Path,
    *,
    embedder_id: str,
    dim: int,
    verify_hashes: bool = True,
) -> LoadedGeneration:
    """The newest valid generation older than ``CURRENT`` (any, if ``CURRENT`` is unusable)."""
    try:
        current = current_generation_id(data_dir)
    except SearchIndexError:
        current = None
    candidates = [g for g in reversed(list_generations(data_dir)) if current is None or g < current]
    tried: list[str] = []
    for gen_id in candidates:
        try:
            loaded = load_generation(
                data_dir, gen_id, embedder_id=embedder_id, dim=dim, verify_hashes=verify_hashes
            )
        except SearchIndexError as exc:
            tried.append(f"{gen_id}: {exc.code}")
            continue
        logger.warning("serving previous generation %s instead of %s", gen_id, current)
        return dataclasses.replace(loaded, fallback=True)
    detail = f" (tried {', '.join(tried)})" if tried else ""
    raise SearchIndexError(f"no valid previous generation{detail}; rebuild the index", code="index_missing")


def load_current(
    data_dir: str | Path,
    *,
    embedder_id: str,
    dim: int,
    fallback: bool = False,
    verify_hashes: bool = True,
) -> LoadedGeneration:
    """Load the published generation; with ``fallback``, the newest valid older one if it fails."""
    options: dict[str, Any] = {"embedder_id": embedder_id, "dim": dim, "verify_hashes": verify_hashes}
    try:
        gen_id = current_generation_id(data_dir)
        if gen_id is None:
            raise SearchIndexError(
                "no index is published (CURRENT is missing); build one first", code="index_missing"
            )
        return load_generation(data_dir, gen_id, **options)
    except SearchIndexError as exc:
        if not fallback:
            raise
        logger.error("published generation unusable (%s): %s", exc.code, exc.message)
        try:
            return load_previous_valid(data_dir, **options)
        except SearchIndexError:
            raise exc from None
