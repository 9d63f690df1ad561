"""Turn stored feedback into a judgement list: TREC qrels keyed by ``ref`` and the queries they judge.

Grades: "answered the caller" → 2, helpful → 1, not helpful → 0. Several feedback rows on the same
(query, ref) keep the highest grade: one caller helped outweighs another who was not.

A feedback row's ``result_id`` is whatever the client showed: a ref (``law-appeals::15.1``), a chunk id
(mapped to its ref through the store's ``chunks`` table), or a search group id (mapped to the first ref
that group showed, as recorded in the query log). Rows that map to no ref are counted and skipped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ir_measures import Qrel

from eval.formats import Query
from ingest.store import Store

__all__ = ["FeedbackExport", "export_feedback", "feedback_grade"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedbackExport:
    """Queries and qrels from feedback, and the rows that could not be mapped to a ref."""

    queries: list[Query]
    qrels: list[Qrel]
    rows: int
    skipped: list[dict[str, Any]] = field(default_factory=list)


def feedback_grade(helpful: int | None, answered_caller: int | None) -> int | None:
    """2 when it answered the caller, 1 when helpful, 0 when not helpful, None when neither is said."""
    if answered_caller:
        return 2
    if helpful is None:
        return None if answered_caller is None else 0
    return 1 if helpful else 0


def _ref_of(result_id: str, shown: list[Mapping[str, Any]], chunk_refs: Mapping[int, str]) -> str | None:
    if "::" in result_id:
        return result_id
    if result_id.isdigit():
        return chunk_refs.get(int(result_id))
    for group in shown:
        if isinstance(group, Mapping) and group.get("id") == result_id and group.get("refs"):
            return str(group["refs"][0])
    return None


def export_feedback(store: Store) -> FeedbackExport:
    """Every feedback row of the store, graded and keyed by ref, with its query's text."""
    rows = store.conn.execute(
        "SELECT f.query_id, f.result_id, f.helpful, f.answered_caller, q.query, q.lang, q.route, q.results "
        "FROM feedback f JOIN query_log q ON q.id = f.query_id ORDER BY f.ts, f.rowid"
    ).fetchall()
    wanted = {int(r["result_id"]) for r in rows if str(r["result_id"]).isdigit()}
    chunk_refs: dict[int, str] = {}
    if wanted:
        marks = ",".join("?" * len(wanted))
        chunk_refs = {int(r[0]): str(r[1]) for r in store.conn.execute(
            f"SELECT id, ref FROM chunks WHERE id IN ({marks})", sorted(wanted))}
    grades: dict[tuple[str, str], int] = {}
    queries: dict[str, Query] = {}
    skipped: list[dict[str, Any]] = []
    for r in rows:
        grade = feedback_grade(r["helpful"], r["answered_caller"])
        try:
            shown = json.loads(r["results"] or "[]")
        except ValueError:
            shown = []
        ref = _ref_of(str(r["result_id"]), shown if isinstance(shown, list) else [], chunk_refs)
        if grade is None or ref is None:
            why = "no helpful or answered_caller value" if grade is None else "result_id maps to no ref"
            skipped.append({"query_id": r["query_id"], "result_id": r["result_id"], "why": why})
            continue
        key = (str(r["query_id"]), ref)
        grades[key] = max(grade, grades.get(key, 0))
        route = str(r["route"] or "").rsplit("/", 1)[-1]
        queries.setdefault(key[0], Query(key[0], str(r["query"]), str(r["lang"] or ""),
                                         ("feedback",) + ((route,) if route else ())))
    qrels = [Qrel(qid, ref, grade) for (qid, ref), grade in grades.items()]
    if skipped:
        logger.warning("%d feedback rows map to no ref and were skipped", len(skipped))
    return FeedbackExport(queries=list(queries.values()), qrels=qrels, rows=len(rows), skipped=skipped)
