"""One writer per data directory: an exclusive ``fcntl.flock`` on ``<data_dir>/.writer.lock``.

``xizmat ingest``, ``xizmat corpus import``, ``xizmat index build``, ``xizmat backup``/``restore`` and the
API's task worker hold it while they write the store or publish a generation. A second writer fails
fast with ``writer_busy`` (the CLI exits 1; the API re-queues its task). Readers never take it. The
kernel releases the lock when the holder dies, so a crash never leaves the data directory locked.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import Self

from ingest.errors import XizmatError

__all__ = ["LOCK_NAME", "WriterBusyError", "WriterLock"]

LOCK_NAME = ".writer.lock"


class WriterBusyError(XizmatError):
    """Another process holds the writer lock of the data directory."""

    code = "writer_busy"


class WriterLock:
    """The exclusive writer lock of a data directory; a context manager, not re-entrant."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True between ``acquire`` and ``release``."""
        return self._fd is not None

    def acquire(self) -> Self:
        """Take the lock without waiting; ``WriterBusyError`` when another writer holds it."""
        if self._fd is not None:
            raise XizmatError(f"the writer lock {self.path} is already held by this object", code="writer_busy")
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            code = "read_only" if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) else "io_error"
            raise XizmatError(
                f"cannot open the writer lock in {self.data_dir} ({exc.strerror}); writing needs a writable "
                "data directory (queries can still be served from a read-only one)",
                code=code,
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise WriterBusyError(
                f"another writer{holder} is using {self.data_dir} (ingest, import, index build, backup or the "
                "API's task worker); wait for it to finish and run this again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock up (a no-op when it is not held)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdigit() else ""
