"""The operational tables of the store (migration 2): the query log, feedback on it, and admin tasks.

``OpsLog`` wraps one writable ``Store`` connection behind a lock, so request threads and the task
worker can share it. Task rows are committed with ``synchronous = FULL``: an acknowledged upload
survives a power cut, while the query log keeps the cheaper WAL default.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from ingest.pii import mask_personal_data
from ingest.store import Store

__all__ = ["MAX_ATTEMPTS", "TASK_KINDS", "TASK_STATES", "OpsLog", "QueryRecord", "Task", "TaskKind", "TaskState"]

logger = logging.getLogger(__name__)

TaskKind = Literal["ingest", "delete", "reindex"]
TaskState = Literal["queued", "running", "succeeded", "failed"]
TASK_KINDS: tuple[TaskKind, ...] = ("ingest", "delete", "reindex")
TASK_STATES: tuple[TaskState, ...] = ("queued", "running", "succeeded", "failed")


MAX_ATTEMPTS = 3  # starts of one task before a crash during it counts as its failure


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class QueryRecord:
    """One logged query: what was asked, what was shown, how long it took."""

    id: str
    route: str
    query: str
    lang: str = ""
    script: str = ""
    latency_ms: float = 0.0
    results: Sequence[Any] = ()
    generation: str = ""
    no_answer: bool = False
    reason: str = ""
    client: str = ""


@dataclass(frozen=True)
class Task:
    """An admin task: an upload to ingest, a document to delete, or a rebuild of the index."""

    task_id: str
    kind: TaskKind
    state: TaskState
    created_at: str
    updated_at: str
    file_path: str
    original_name: str
    target: str
    error_code: str | None
    error_message: str | None
    result: dict[str, Any] | None


class OpsLog:
    """Query log, feedback and tasks over a writable store; thread-safe."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()

    @contextmanager
    def _write(self, *, durable: bool = False) -> Iterator[Any]:
        with self._lock:
            conn = self.store.conn
            if durable:
                conn.execute("PRAGMA synchronous = FULL")
            try:
                with conn:
                    yield conn
            finally:
                if durable:
                    conn.execute("PRAGMA synchronous = NORMAL")

    def close(self) -> None:
        with self._lock:
            self.store.close()

    # -- queries and feedback --------------------------------------------------------------------

    def log_query(self, record: QueryRecord) -> None:
        """Append a query to the log (its id is the ``query_id`` clients send feedback on).

        Personal data in the query text (passport, PINFL, phone, card numbers, e-mails) is masked
        here, the one place query text is written (``ingest/pii.py``)."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO query_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.id, _now(), record.route, mask_personal_data(record.query), record.lang, record.script,
                 round(record.latency_ms, 3), json.dumps(list(record.results), ensure_ascii=False),
                 record.generation, int(record.no_answer), record.reason, record.client),
            )

    def query(self, query_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self.store.conn.execute("SELECT * FROM query_log WHERE id = ?", (query_id,)).fetchone()
        if row is None:
            return None
        data = dict(row)
        data["results"] = json.loads(data["results"])
        data["no_answer"] = bool(data["no_answer"])
        return data

    def queries(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """The latest logged queries, newest first."""
        with self._lock:
            rows = self.store.conn.execute(
                "SELECT id FROM query_log ORDER BY ts DESC, rowid DESC LIMIT ?", (limit,)
            ).fetchall()
        return [q for q in (self.query(r[0]) for r in rows) if q is not None]

    def purge_queries(self, *, older_than_days: int, now: datetime | None = None) -> int:
        """Delete logged queries (and the feedback on them) older than ``older_than_days``; 0 keeps all.

        Returns how many queries were deleted."""
        if older_than_days <= 0:
            return 0
        cutoff = ((now or datetime.now(timezone.utc)) - timedelta(days=older_than_days)).isoformat(
            timespec="milliseconds")
        with self._write() as conn:
            conn.execute("DELETE FROM feedback WHERE query_id IN (SELECT id FROM query_log WHERE ts < ?)", (cutoff,))
            cur = conn.execute("DELETE FROM query_log WHERE ts < ?", (cutoff,))
        return int(cur.rowcount)

    def unanswered(self, *, since: str = "") -> list[dict[str, Any]]:
        """Logged queries with no result or no answer (``no_answer = 1``), oldest first, since an ISO date."""
        with self._lock:
            rows = self.store.conn.execute(
                "SELECT id, ts, route, query, lang, script, reason FROM query_log "
                "WHERE no_answer = 1 AND ts >= ? ORDER BY ts, rowid", (since,)
            ).fetchall()
        return [dict(r) for r in rows]

    def add_feedback(
        self, query_id: str, result_id: str, *, helpful: bool | None, answered_caller: bool | None
    ) -> str | None:
        """Store feedback on a logged query; None when the query is unknown."""
        feedback_id = uuid.uuid4().hex
        as_int = lambda v: None if v is None else int(v)  # noqa: E731
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM query_log WHERE id = ?", (query_id,)).fetchone() is None:
                return None
            conn.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?)",
                (feedback_id, _now(), query_id, result_id, as_int(helpful), as_int(answered_caller)),
            )
        return feedback_id

    def feedback(self, query_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self.store.conn.execute(
                "SELECT * FROM feedback WHERE query_id = ? ORDER BY ts", (query_id,)
            ).fetchall()
        return [dict(r) for r in rows]

    def has_document(self, doc_id: str) -> bool:
        """Whether a live (not removed) document has this id."""
        with self._lock:
            return self.store.get_document(doc_id) is not None

    # -- tasks ---------------------------------------------------------------------------------

    def create_task(
        self, task_id: str, kind: TaskKind, *, file_path: str = "", original_name: str = "", target: str = ""
    ) -> Task:
        """Queue a task, durably (fsync) before the caller acknowledges it."""
        now = _now()
        with self._write(durable=True) as conn:
            conn.execute(
                "INSERT INTO tasks (task_id, kind, state, created_at, updated_at, file_path, original_name, "
                "target) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?)",
                (task_id, kind, now, now, file_path, original_name, target),
            )
        task = self.task(task_id)
        assert task is not None
        return task

    def task(self, task_id: str) -> Task | None:
        with self._lock:
            row = self.store.conn.execute("SELECT * FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
        return _task(row) if row is not None else None

    def claim_next(self) -> Task | None:
        """Move the oldest queued task to ``running`` and return it (None when the queue is empty)."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT task_id FROM tasks WHERE state = 'queued' ORDER BY created_at, rowid LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            cur = conn.execute(
                "UPDATE tasks SET state = 'running', updated_at = ?, attempts = attempts + 1 "
                "WHERE task_id = ? AND state = 'queued'",
                (_now(), row[0]),
            )
            if cur.rowcount != 1:
                return None
        return self.task(row[0])

    def finish(
        self, task_id: str, *, result: dict[str, Any] | None = None, error: tuple[str, str] | None = None
    ) -> None:
        """End a running task: ``succeeded`` with its result, or ``failed`` with (code, message)."""
        state = "failed" if error is not None else "succeeded"
        code, message = error if error is not None else (None, None)
        with self._write(durable=True) as conn:
            conn.execute(
                "UPDATE tasks SET state = ?, updated_at = ?, error_code = ?, error_message = ?, result = ? "
                "WHERE task_id = ?",
                (state, _now(), code, message,
                 None if result is None else json.dumps(result, ensure_ascii=False), task_id),
            )

    def requeue(self, task_id: str) -> None:
        """Put one running task back in the queue (its work could not start yet)."""
        with self._write(durable=True) as conn:
            conn.execute(  # it never started: this attempt does not count
                "UPDATE tasks SET state = 'queued', updated_at = ?, attempts = max(attempts - 1, 0) "
                "WHERE task_id = ?", (_now(), task_id),
            )

    def requeue_running(self, *, max_attempts: int = MAX_ATTEMPTS) -> int:
        """Put tasks a crash left ``running`` back in the queue; returns how many.

        A task that was already started ``max_attempts`` times (it keeps taking the server down) ends
        ``failed`` with ``task_interrupted`` instead, so that no task stays queued for ever."""
        with self._write(durable=True) as conn:
            conn.execute(
                "UPDATE tasks SET state = 'failed', updated_at = ?, error_code = 'task_interrupted', "
                "error_message = ? WHERE state = 'running' AND attempts >= ?",
                (_now(), f"the server stopped during this task {max_attempts} times; check the server log "
                 "and the file, then upload it again", max_attempts),
            )
            cur = conn.execute(
                "UPDATE tasks SET state = 'queued', updated_at = ? WHERE state = 'running'", (_now(),)
            )
        return cur.rowcount

    def task_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self.store.conn.execute("SELECT state, count(*) FROM tasks GROUP BY state").fetchall()
        counts: dict[str, int] = dict.fromkeys(TASK_STATES, 0)
        counts.update({r[0]: int(r[1]) for r in rows})
        return counts

    def task_ids(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self.store.conn.execute("SELECT task_id FROM tasks")}


def _task(row: Any) -> Task:
    return Task(
        task_id=row["task_id"], kind=row["kind"], state=row["state"], created_at=row["created_at"],
        updated_at=row["updated_at"], file_path=row["file_path"], original_name=row["original_name"],
        target=row["target"], error_code=row["error_code"], error_message=row["error_message"],
        result=json.loads(row["result"]) if row["result"] else None,
    )
