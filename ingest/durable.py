"""Durability helpers shared by every writer: flush a file or folder to disk, hash a file.

A rename or a new file is durable only once its folder is flushed too (``fsync_path(folder)``);
``faiss.write_index``, SQLite and our own writers all rely on this (../shared/RELIABILITY.md).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["fsync_path", "sha256_file"]


def fsync_path(path: str | Path) -> None:
    """Flush a file's or a folder's data and metadata to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: str | Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
