"""Evaluation data on disk: query sets (JSONL or TSV), TREC qrels with graded relevance, TREC run files,
and importers for a BEIR-style folder and for ``../shared/eval/dev``.

Judged items are stable ``ref`` keys (``<work_id>::<article_id>``, or ``<work_id>::<field>`` for a
service), never chunk numbers, so judgements survive re-chunking.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ir_measures import Qrel, ScoredDoc

from ingest.errors import XizmatError

__all__ = [
    "EvalFormatError",
    "Query",
    "dedupe_run",
    "import_beir",
    "import_dev",
    "judged_queries",
    "read_qrels",
    "read_queries",
    "read_run",
    "write_qrels",
    "write_queries",
    "write_run",
]

logger = logging.getLogger(__name__)


class EvalFormatError(XizmatError):
    """An evaluation file is missing or malformed (codes: not_found, invalid_queries, invalid_qrels,
    invalid_run)."""

    code = "invalid_eval_file"


@dataclass(frozen=True)
class Query:
    """One evaluation query; ``lang`` is a tag such as ``uz-Latn`` or ``ru``, ``filters`` restrict search."""

    id: str
    text: str
    lang: str = ""
    tags: tuple[str, ...] = ()
    script: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "text": self.text, "lang": self.lang, "tags": list(self.tags)}
        if self.script:
            data["script"] = self.script
        if self.filters:
            data["filters"] = dict(self.filters)
        return data


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise EvalFormatError(f"{path} does not exist; pass the path of an existing file", code="not_found")
    return path


def read_queries(path: Path) -> list[Query]:
    """Queries from JSONL (``id, text, lang, tags``) or TSV (``id<TAB>text[<TAB>lang[<TAB>tag,tag]]``)."""
    lines = _existing(path).read_text(encoding="utf-8").splitlines()
    queries: list[Query] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if path.suffix == ".jsonl" or line.lstrip().startswith("{"):
            try:
                r = json.loads(line)
                queries.append(Query(
                    id=str(r["id"]), text=str(r.get("text") or r["query"]), lang=str(r.get("lang", "")),
                    tags=tuple(r.get("tags", ())), script=str(r.get("script", "")),
                    filters={str(k): str(v) for k, v in (r.get("filters") or {}).items()},
                ))
            except (ValueError, KeyError, TypeError) as exc:
                raise EvalFormatError(
                    f"{path}:{n}: not a query record ({exc}); each line needs at least 'id' and 'text'",
                    code="invalid_queries") from exc
        else:
            cols = line.split("\t")
            if len(cols) < 2:
                raise EvalFormatError(f"{path}:{n}: expected 'id<TAB>text', got {line[:60]!r}",
                                      code="invalid_queries")
            tags = tuple(t for t in cols[3].split(",") if t) if len(cols) > 3 else ()
            queries.append(Query(cols[0], cols[1], cols[2] if len(cols) > 2 else "", tags))
    ids = [q.id for q in queries]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise EvalFormatError(f"{path}: duplicate query ids {dup[:5]}; make ids unique", code="invalid_queries")
    return queries


def write_queries(path: Path, queries: Iterable[Query]) -> None:
    """Queries as JSONL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for q in queries:
            out.write(json.dumps(q.as_dict(), ensure_ascii=False) + "\n")


def read_qrels(path: Path) -> list[Qrel]:
    """TREC qrels: ``query_id iteration doc_id relevance`` per line (graded: 0, 1, 2, ...)."""
    qrels: list[Qrel] = []
    for n, line in enumerate(_existing(path).read_text(encoding="utf-8").splitlines(), start=1):
        cols = line.split()
        if not cols or cols[0].startswith("#"):
            continue
        if len(cols) != 4 or not cols[3].lstrip("-").isdigit():
            raise EvalFormatError(
                f"{path}:{n}: expected 'query_id 0 ref relevance', got {line[:80]!r}", code="invalid_qrels")
        qrels.append(Qrel(cols[0], cols[2], int(cols[3])))
    return qrels


def write_qrels(path: Path, qrels: Iterable[Qrel]) -> None:
    """TREC qrels, one judgement per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{q.query_id} 0 {q.doc_id} {q.relevance}\n" for q in qrels), encoding="utf-8")


def read_run(path: Path) -> list[ScoredDoc]:
    """A TREC run: ``query_id Q0 doc_id rank score tag`` per line."""
    run: list[ScoredDoc] = []
    for n, line in enumerate(_existing(path).read_text(encoding="utf-8").splitlines(), start=1):
        cols = line.split()
        if not cols:
            continue
        try:
            run.append(ScoredDoc(cols[0], cols[2], float(cols[4])))
        except (IndexError, ValueError) as exc:
            raise EvalFormatError(
                f"{path}:{n}: expected 'query_id Q0 ref rank score tag', got {line[:80]!r}", code="invalid_run"
            ) from exc
    return run


def dedupe_run(run: Iterable[ScoredDoc]) -> list[ScoredDoc]:
    """Keep each (query, ref) once, at its best score, so a ref counts at its best rank only."""
    best: dict[tuple[str, str], ScoredDoc] = {}
    for d in run:
        key = (d.query_id, d.doc_id)
        if key not in best or d.score > best[key].score:
            best[key] = d
    return list(best.values())


def write_run(path: Path, run: Iterable[ScoredDoc], *, tag: str = "xizmat") -> None:
    """A TREC run, ranks numbered from 1 by descending score within each query."""
    by_query: dict[str, list[ScoredDoc]] = {}
    for d in dedupe_run(run):
        by_query.setdefault(d.query_id, []).append(d)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for qid, docs in by_query.items():
            for rank, d in enumerate(sorted(docs, key=lambda d: (-d.score, d.doc_id)), start=1):
                out.write(f"{qid} Q0 {d.doc_id} {rank} {d.score:.6g} {tag}\n")


def import_beir(folder: Path, *, split: str = "test", lang: str = "") -> tuple[list[Query], list[Qrel]]:
    """Queries and qrels of a BEIR folder (``queries.jsonl`` and ``qrels/<split>.tsv``)."""
    qrels_path = _existing(folder / "qrels" / f"{split}.tsv")
    qrels: list[Qrel] = []
    with qrels_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.append(Qrel(row["query-id"], row["corpus-id"], int(row["score"])))
    judged = {q.query_id for q in qrels}
    queries = [
        Query(str(r["_id"]), str(r["text"]), lang) for r in _jsonl(_existing(folder / "queries.jsonl"))
        if str(r["_id"]) in judged
    ]
    return queries, qrels


def import_dev(path: Path) -> tuple[list[Query], list[Qrel]]:
    """The shared dev set: ``gold_article_ids`` (``<code>::<article_id>``) become qrels of relevance 1."""
    queries: list[Query] = []
    qrels: list[Qrel] = []
    for r in _jsonl(_existing(path)):
        try:
            queries.append(Query(str(r["id"]), str(r["query"]), str(r.get("lang", "")), ("situation",)))
            qrels += [Qrel(str(r["id"]), str(ref), 1) for ref in r["gold_article_ids"]]
        except KeyError as exc:
            raise EvalFormatError(f"{path}: a record lacks {exc}; expected id, query, gold_article_ids",
                                  code="invalid_queries") from exc
    return queries, qrels


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError as exc:
                raise EvalFormatError(f"{path}:{n}: invalid JSON ({exc})", code="invalid_queries") from exc


def judged_queries(queries: Sequence[Query], qrels: Sequence[Qrel]) -> list[Query]:
    """The queries that have at least one positive judgement."""
    judged = {q.query_id for q in qrels if q.relevance > 0}
    return [q for q in queries if q.id in judged]
