"""Admin tasks: durable uploads, and the one background worker that ingests, rebuilds and goes live.

An upload is written under ``<data_dir>/uploads/<task_id>/`` with a server-made name, fsynced with its
folder, and only then queued (the task row is committed with ``synchronous = FULL``) and acknowledged.
The worker runs one task at a time: parse in the sandbox (``Ingester``), ``build_generation``, then
swap ``app.state.searcher`` in one assignment, so a request sees the old or the new generation, never
a mix. Tasks a crash left ``running`` are queued again at start-up; the worker also reloads the
searcher when another process (``xizmat index build``, another server worker) publishes a generation.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
from pathlib import Path, PurePath
from typing import IO, Any

from fastapi import FastAPI

from ingest.durable import fsync_path
from ingest.errors import XizmatError
from ingest.faults import checkpoint
from ingest.store_logs import OpsLog, Task
from xizmat.settings import Settings

__all__ = ["UPLOADS_DIR", "TaskWorker", "clean_name", "save_upload"]

logger = logging.getLogger(__name__)

UPLOADS_DIR = "uploads"
_SUFFIXES = frozenset({".pdf", ".html", ".htm", ".docx", ".txt", ".md", ".json", ".jsonl"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
POLL_SECONDS = 1.0
PURGE_EVERY_SECONDS = 24 * 3600.0  # the query log's retention is applied once a day


def clean_name(filename: str | None) -> str:
    """The client's file name, for display only: last path part, no control or bidi characters."""
    name = PurePath((filename or "").replace("\\", "/")).name
    return _CONTROL.sub("", name)[:255] or "upload"


def _storage_name(original: str, task_id: str) -> str:
    """A server-made file name: an ASCII slug of the client's name (the document id) and a known suffix."""
    path = PurePath(original)
    suffix = path.suffix.lower() if path.suffix.lower() in _SUFFIXES else ""
    slug = re.sub(r"[^0-9a-zA-Z]+", "-", path.stem).strip("-").lower()[:80]
    return (slug or f"upload-{task_id[:12]}") + suffix


def save_upload(source: IO[bytes], data_dir: Path, task_id: str, original: str) -> str:
    """Write an upload durably; returns its path relative to ``data_dir``. Leaves nothing on failure."""
    uploads = Path(data_dir) / UPLOADS_DIR
    new_root = not uploads.exists()
    folder = uploads / task_id
    folder.mkdir(parents=True)
    target = folder / _storage_name(original, task_id)
    try:
        partial = folder / ".partial"
        with partial.open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
        fsync_path(folder)
        fsync_path(uploads)
        if new_root:
            fsync_path(Path(data_dir))
        checkpoint("upload.saved")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return str(target.relative_to(data_dir))


class TaskWorker:
    """One background thread running queued tasks in order, and keeping the served generation current."""

    def __init__(self, app: FastAPI, settings: Settings, ops: OpsLog, *, embedder: Any = None) -> None:
        self.app = app
        self.settings = settings
        self.ops = ops
        self._embedder = embedder
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen_generation: str | None = None
        self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS  # start_ops purged at start-up

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Re-queue what a crash left running, drop uploads that never became tasks, start the thread."""
        from index.generation import current_generation_id

        requeued = self.ops.requeue_running()
        if requeued:
            logger.warning("re-queued %d task(s) left running by an earlier process", requeued)
        self._remove_orphan_uploads()
        self._clean_leftovers()
        self._seen_generation = current_generation_id(self.settings.data_dir)
        self._thread = threading.Thread(target=self._loop, name="xizmat-tasks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the thread to stop after its current task; True when it has stopped."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def wake(self) -> None:
        """A task was queued: look at the queue now rather than at the next poll."""
        self._wake.set()

    def _clean_leftovers(self) -> None:
        """Remove what a writer that died left behind (half-built generations, temporary files)."""
        from index.generation import clean_leftovers

        try:
            removed = clean_leftovers(self.settings.data_dir)
        except OSError as exc:  # a read-only data directory: serve what is there
            logger.warning("cannot clean the data directory at start-up: %s", exc)
            return
        if removed:
            logger.warning("removed %d leftover(s) of an interrupted write: %s", len(removed), ", ".join(removed))

    def _remove_orphan_uploads(self) -> None:
        uploads = self.settings.data_dir / UPLOADS_DIR
        if not uploads.is_dir():
            return
        known = self.ops.task_ids()
        for folder in uploads.iterdir():
            if folder.is_dir() and folder.name not in known:
                logger.info("removing upload %s that was never queued", folder.name)
                shutil.rmtree(folder, ignore_errors=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                task = self.ops.claim_next()
                if task is not None:
                    self.run(task)
                    continue
                self._follow_published()
                self._purge_if_due()
            except Exception:  # noqa: BLE001 - the worker must outlive any one failure
                logger.exception("the task worker hit an unexpected error")
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()

    def _purge_if_due(self) -> None:
        from api.querylog import purge_query_log

        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
            purge_query_log(self.ops, self.settings)

    # -- tasks -----------------------------------------------------------------------------------

    def run(self, task: Task) -> None:
        """Run one claimed task under the data directory's writer lock; re-queue it while another
        writer (a CLI ingest or build, a backup, another server worker) holds the lock."""
        from ingest.writelock import WriterBusyError, WriterLock

        try:
            lock = WriterLock(self.settings.data_dir).acquire()
        except WriterBusyError:
            logger.info("task %s waits: another writer holds the data directory", task.task_id)
            self.ops.requeue(task.task_id)
            self._stop.wait(2 * POLL_SECONDS)
            return
        except XizmatError as exc:  # a read-only data directory: nothing can be written
            self.ops.finish(task.task_id, error=(exc.code, self._clean(exc.message, task)))
            return
        try:
            self._run_locked(task)
        finally:
            lock.release()

    def _run_locked(self, task: Task) -> None:
        """Run one claimed task to ``succeeded`` or ``failed``."""
        logger.info("task %s (%s) started", task.task_id, task.kind)
        try:
            if task.kind == "ingest":
                result = self._ingest(task)
            elif task.kind == "delete":
                result = self._delete(task)
            else:  # reindex: an explicit request, so it rebuilds even an up-to-date index
                result = self._rebuild(force=True)
        except XizmatError as exc:
            if exc.code == "index_busy":  # another process is building: try again shortly
                self.ops.requeue(task.task_id)
                self._stop.wait(2 * POLL_SECONDS)
                return
            self.ops.finish(task.task_id, error=(exc.code, self._clean(exc.message, task)))
        except OSError as exc:
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            code = "insufficient_storage" if full else "io_error"
            logger.error("task %s failed: %s", task.task_id, exc)
            self.ops.finish(task.task_id, error=(code, "the server could not write its data; retry later"))
        except sqlite3.OperationalError as exc:  # SQLITE_FULL / SQLITE_IOERR come as OperationalError
            text = str(exc).lower()
            code = "insufficient_storage" if "full" in text else "io_error" if "i/o" in text else "internal_error"
            logger.error("task %s failed in the database: %s", task.task_id, exc)
            self.ops.finish(task.task_id, error=(code, "the server could not write its data; retry later"))
        except Exception:  # noqa: BLE001 - reported as a failed task, details only in the log
            logger.exception("task %s failed unexpectedly", task.task_id)
            self.ops.finish(task.task_id, error=("internal_error", "the task failed unexpectedly; see the log"))
        else:
            self.ops.finish(task.task_id, result=result)
        logger.info("task %s ended", task.task_id)

    def _ingest(self, task: Task) -> dict[str, Any]:
        from ingest.pipeline import Ingester
        from ingest.store import Store

        embedder = self.embedder()
        path = (self.settings.data_dir / task.file_path).resolve()
        store = Store.in_dir(self.settings.data_dir)
        try:
            ingester = Ingester(store, count_tokens=embedder.count_tokens, tokenizer_id=embedder.id,
                                max_tokens=self.settings.max_chunk_tokens)
            summary = ingester.ingest_paths([path], progress=False)
            errors = [{"code": e.code, "message": self._clean(e.message, task)} for e in summary.errors]
            if summary.ingested == 0:
                first = errors[0] if errors else {"code": "no_extractable_text", "message": "nothing to index"}
                raise XizmatError(first["message"], code=first["code"])
            doc_ids = [d.id for d in store.documents_from_sources(str(path))]
            # Unchanged documents still need a build when the served index predates them (a retried task).
            changed = summary.added + summary.updated > 0 or store.fingerprint() != self._served_fingerprint()
        finally:
            store.close()
        result = self._rebuild() if changed else {"generation": self._served_generation()}
        return {"documents": doc_ids, "added": summary.added, "updated": summary.updated,
                "unchanged": summary.unchanged, "chunks": summary.chunks, "errors": errors, **result}

    def _delete(self, task: Task) -> dict[str, Any]:
        from ingest.store import Store

        store = Store.in_dir(self.settings.data_dir)
        try:
            removed = store.mark_removed(task.target)
        finally:
            store.close()
        return {"document": task.target, "removed": removed, **self._rebuild()}

    def _rebuild(self, *, force: bool = False) -> dict[str, Any]:
        from index.build import build_generation
        from ingest.store import Store

        store = Store.in_dir(self.settings.data_dir)
        try:
            report = build_generation(store, self.embedder(), self.settings.data_dir,
                                      exact_max=self.settings.exact_index_max, progress=False, force=force)
        finally:
            store.close()
        self._seen_generation = report.manifest.generation
        self.reload()
        return {"generation": report.manifest.generation, "embedded": report.embedded}

    # -- the served generation ---------------------------------------------------------------------

    def embedder(self) -> Any:
        """The embedder the app was given, else the searcher's, else the configured one (made once)."""
        if self._embedder is None:
            searcher = getattr(self.app.state, "searcher", None)
            if searcher is not None:
                self._embedder = searcher.embedder
            else:
                from index.embedder_choice import open_embedder

                self._embedder = open_embedder(self.settings.embedder, self.settings.data_dir)
        return self._embedder

    def reload(self) -> None:
        """Load the published generation and swap it in; the old searcher serves until the swap."""
        from index.search import HybridSearcher
        from ingest.store import Store

        state = self.app.state
        searcher = HybridSearcher.open(self.settings.data_dir, self.embedder())
        if state.store is None:
            state.store = Store.in_dir(self.settings.data_dir, readonly=True)
        state.searcher = searcher
        state.not_ready = None
        for hook in list(getattr(state, "reload_hooks", ())):
            hook(self.app)
        manifest = searcher.generation.manifest
        logger.info("now serving generation %s (%d documents, %d chunks)", manifest.generation,
                    manifest.documents, manifest.chunks)

    def _served_fingerprint(self) -> str:
        searcher = getattr(self.app.state, "searcher", None)
        return str(searcher.generation.manifest.corpus_fingerprint) if searcher is not None else ""

    def _served_generation(self) -> str:
        searcher = getattr(self.app.state, "searcher", None)
        return str(searcher.generation.manifest.generation) if searcher is not None else ""

    def _follow_published(self) -> None:
        from index.generation import current_generation_id

        published = current_generation_id(self.settings.data_dir)
        if published is not None and published != self._seen_generation:
            self._seen_generation = published
            try:
                self.reload()
            except XizmatError as exc:
                logger.error("generation %s was published but cannot be served [%s]", published, exc.code)

    def _clean(self, message: str, task: Task) -> str:
        """A message for the client: server paths out, the client's own file name in."""
        for root in {str(self.settings.data_dir.resolve()), str(self.settings.data_dir)}:
            if task.file_path:
                message = message.replace(str(Path(root) / task.file_path), task.original_name)
            message = message.replace(root, "")
        if task.file_path:
            message = message.replace(PurePath(task.file_path).name, task.original_name)
        return message
