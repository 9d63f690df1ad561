"""Backups of a data directory: the store through SQLite's backup API, the published generation,
optionally the embedding cache, and ``backup.json`` with a sha256 per file, written last.

::

    <dest>/
    ├── backup.json          format, created_at, generation, fingerprints, files {path: {sha256, bytes}}
    ├── xizmat.sqlite        a consistent copy made with sqlite3's backup API (never a file copy)
    ├── CURRENT
    ├── generations/<id>/    the published generation, as published
    └── embeddings.sqlite    optional (``include_cache``)

A backup is taken under the writer lock, so the store and the generation belong together and no
build prunes the generation while it is copied. ``restore_backup`` verifies every checksum and the
database's integrity before it touches the target, and refuses a non-empty target unless ``force``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.build import EMBEDDING_CACHE
from index.generation import CURRENT, GENERATIONS, current_generation_id, load_generation
from ingest.durable import fsync_path, sha256_file
from ingest.errors import XizmatError
from ingest.store import DB_FILENAME
from ingest.writelock import WriterLock

__all__ = ["BACKUP_MANIFEST", "BackupError", "BackupReport", "create_backup", "restore_backup", "verify_backup"]

BACKUP_MANIFEST = "backup.json"
FORMAT = "xizmat-backup"
FORMAT_VERSION = 1


class BackupError(XizmatError):
    """A backup cannot be made, is incomplete or corrupt, or cannot be restored where asked."""

    code = "backup_invalid"


@dataclass(frozen=True)
class BackupReport:
    """What a backup or restore did."""

    path: Path
    generation: str
    files: int
    bytes: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "generation": self.generation, "files": self.files,
                "bytes": self.bytes, "seconds": round(self.seconds, 2)}


def _write_file(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_path(path.parent)


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a (possibly live) database through the backup API."""
    target.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        finally:
            dst.close()
    finally:
        src.close()
    fsync_path(target)


def _is_empty(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(p.name != ".writer.lock" for p in folder.iterdir()))


def create_backup(data_dir: str | Path, dest: str | Path, *, include_cache: bool = False) -> BackupReport:
    """Back up ``data_dir`` into the new or empty folder ``dest``."""
    started = time.perf_counter()
    data_dir, dest = Path(data_dir), Path(dest)
    if not _is_empty(dest):
        raise BackupError(f"{dest} is not empty; back up into a new folder", code="backup_target_not_empty")
    if not (data_dir / DB_FILENAME).is_file():
        raise BackupError(f"no database in {data_dir}; nothing to back up", code="store_missing")
    with WriterLock(data_dir):
        generation = current_generation_id(data_dir)
        if generation is None:
            raise BackupError(f"no published generation in {data_dir}; run `xizmat index build` first",
                              code="index_missing")
        dest.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(data_dir / DB_FILENAME, dest / DB_FILENAME)
        shutil.copytree(data_dir / GENERATIONS / generation, dest / GENERATIONS / generation)
        _write_file(dest / CURRENT, f"{generation}\n".encode())
        if include_cache and (data_dir / EMBEDDING_CACHE).is_file():
            _sqlite_copy(data_dir / EMBEDDING_CACHE, dest / EMBEDDING_CACHE)
        manifest = json.loads((dest / GENERATIONS / generation / "manifest.json").read_text(encoding="utf-8"))
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        fsync_path(path)
        files[path.relative_to(dest).as_posix()] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    for folder in sorted({p.parent for p in dest.rglob("*")} | {dest}):
        fsync_path(folder)
    record = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "generation": generation, "embedder": manifest["embedder"],
        "corpus_fingerprint": manifest["corpus_fingerprint"], "files": files,
    }
    _write_file(dest / BACKUP_MANIFEST, (json.dumps(record, indent=2) + "\n").encode())  # last: marks it complete
    return BackupReport(path=dest, generation=generation, files=len(files),
                        bytes=sum(f["bytes"] for f in files.values()), seconds=time.perf_counter() - started)


def verify_backup(src: str | Path) -> dict[str, Any]:
    """Check a backup: complete, every checksum right, the database intact; return its manifest."""
    src = Path(src)
    try:
        record = json.loads((src / BACKUP_MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{src} has no {BACKUP_MANIFEST}: the backup is incomplete (interrupted?) or not a "
                          "backup; take a new one", code="backup_incomplete") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src / BACKUP_MANIFEST} is unreadable ({exc})", code="backup_corrupt") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{src} is not a Xizmat backup of format {FORMAT_VERSION}", code="backup_corrupt")
    files = record.get("files")
    required = {DB_FILENAME, CURRENT, f"{GENERATIONS}/{record.get('generation')}/manifest.json"}
    if not isinstance(files, dict) or not required <= set(files):
        raise BackupError(f"{src} lacks {sorted(required - set(files or {}))}", code="backup_incomplete")
    for name, meta in files.items():
        path = src / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise BackupError(f"{BACKUP_MANIFEST} names {name!r}, outside the backup", code="backup_corrupt")
        if not path.is_file():
            raise BackupError(f"{name} is missing from the backup {src}", code="backup_incomplete")
        if path.stat().st_size != meta.get("bytes") or sha256_file(path) != meta.get("sha256"):
            raise BackupError(f"{name} in the backup {src} fails its checksum; the backup is corrupt",
                              code="backup_corrupt")
    conn = sqlite3.connect(f"file:{src / DB_FILENAME}?mode=ro&immutable=1", uri=True)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError:
        ok = False
    finally:
        conn.close()
    if not ok:
        raise BackupError(f"the database in {src} fails its integrity check", code="backup_corrupt")
    return record


def restore_backup(src: str | Path, data_dir: str | Path, *, force: bool = False) -> BackupReport:
    """Verify ``src`` and restore it into ``data_dir`` (empty, or replaced with ``force``).

    Stop the server first: a restore replaces the store and the published generation.
    """
    started = time.perf_counter()
    src, data_dir = Path(src), Path(data_dir)
    record = verify_backup(src)
    if not _is_empty(data_dir) and not force:
        raise BackupError(f"{data_dir} is not empty; restore into an empty folder or pass --force to replace "
                          "its store and index", code="restore_target_not_empty")
    generation = str(record["generation"])
    with WriterLock(data_dir):
        gens = data_dir / GENERATIONS
        gens.mkdir(parents=True, exist_ok=True)
        staged = gens / f".tmp-restore-{generation}"
        shutil.rmtree(staged, ignore_errors=True)
        shutil.copytree(src / GENERATIONS / generation, staged)
        shutil.rmtree(gens / generation, ignore_errors=True)
        os.rename(staged, gens / generation)
        fsync_path(gens)
        for name in [DB_FILENAME] + ([EMBEDDING_CACHE] if EMBEDDING_CACHE in record["files"] else []):
            tmp = data_dir / f".{name}.restore.tmp"
            shutil.copyfile(src / name, tmp)
            fsync_path(tmp)
            for suffix in ("-wal", "-shm"):  # a stale WAL beside the restored file would corrupt it
                Path(f"{data_dir / name}{suffix}").unlink(missing_ok=True)
            os.replace(tmp, data_dir / name)
        _write_file(data_dir / CURRENT, f"{generation}\n".encode())  # last: the restored state goes live
        embedder = record["embedder"]
        load_generation(data_dir, generation, embedder_id=embedder["id"], dim=int(embedder["dim"]))
    files = record["files"]
    return BackupReport(path=data_dir, generation=generation, files=len(files),
                        bytes=sum(int(f["bytes"]) for f in files.values()), seconds=time.perf_counter() - started)
