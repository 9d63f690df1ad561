"""Checks across languages and scripts: an automatic cross-lingual set from the aligned Labour Code, and
the script-consistency check of Uzbek queries.

The Russian and Uzbek Labour Codes share refs (``mehnat_kodeksi::<N>``), so each query is restricted to
the other language by a filter: a Russian heading must find the Uzbek article N, and the reverse.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ir_measures import Qrel

from eval.formats import EvalFormatError, Query
from eval.metrics import script_of
from index.search import HybridSearcher
from ingest.langid import detect_language
from ingest.transliterate import cyrillic_to_latin, latin_to_cyrillic

__all__ = ["LABOUR_CODE", "make_crosslingual_set", "script_consistency"]

logger = logging.getLogger(__name__)

LABOUR_CODE = "mehnat_kodeksi"


def _number_key(number: str) -> tuple[float, str]:
    try:
        return float(number), number
    except ValueError:
        return float("inf"), number


def make_crosslingual_set(
    labour_ru: Path, labour_uz: Path | None = None, *, limit: int | None = None
) -> tuple[list[Query], list[Qrel]]:
    """Russian heading → Uzbek article and Uzbek title → Russian article, one gold ref per query.

    ``labour_uz`` defaults to ``uz-legal/articles/mehnat_kodeksi.jsonl`` beside the Russian file's folder.
    """
    if not labour_ru.is_file():
        raise EvalFormatError(f"{labour_ru} does not exist; pass law_base_ru.json of ../shared/corpus",
                              code="not_found")
    ru = json.loads(labour_ru.read_text(encoding="utf-8"))
    labour_uz = labour_uz or labour_ru.parents[1] / "uz-legal" / "articles" / f"{LABOUR_CODE}.jsonl"
    uz_titles: dict[str, str] = {}
    if labour_uz.is_file():
        for line in labour_uz.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                if r.get("code") == LABOUR_CODE and r.get("title"):
                    uz_titles.setdefault(str(r["article_id"]), str(r["title"]))
    else:
        logger.warning("%s is absent: only the Russian → Uzbek direction is generated", labour_uz)
    numbers = sorted(ru, key=_number_key)[:limit]
    queries: list[Query] = []
    qrels: list[Qrel] = []
    for number in numbers:
        heading = str(ru[number]).split("\n", 1)[0].split(". ", 1)[-1].strip()
        if heading:
            qid = f"ru2uz-{number}"
            queries.append(Query(qid, heading, "ru", ("crosslingual", "ru_to_uz"),
                                 filters={"lang": "uz", "act": LABOUR_CODE}))
            qrels.append(Qrel(qid, f"{LABOUR_CODE}::{number}", 2))
    for number in numbers:
        if uz_titles.get(number):
            qid = f"uz2ru-{number}"
            queries.append(Query(qid, uz_titles[number], "uz-Latn", ("crosslingual", "uz_to_ru"),
                                 filters={"lang": "ru", "act": LABOUR_CODE}))
            qrels.append(Qrel(qid, f"{LABOUR_CODE}::{number}", 2))
    return queries, qrels


def script_consistency(searcher: HybridSearcher, queries: Sequence[Query], *, worst: int = 10) -> dict[str, Any]:
    """Overlap@10 of each Uzbek query's top refs with those of the same query in the other script."""
    rows: list[dict[str, Any]] = []
    for q in queries:
        if not q.lang.startswith("uz") and not (q.lang == "" and detect_language(q.text).lang == "uz"):
            continue
        script = script_of(q)
        other = latin_to_cyrillic(q.text) if script == "Latn" else cyrillic_to_latin(q.text)
        a = [r for r, _ in searcher.rank_refs(q.text, limit=10)[0]]
        b = [r for r, _ in searcher.rank_refs(other, limit=10)[0]]
        rows.append({"query": q.id, "text": q.text, "other": other, "overlap": len(set(a) & set(b)) / max(1, len(a)),
                     "same_top1": a[:1] == b[:1], "same_top10": a == b})
    if not rows:
        return {"n": 0, "overlap@10": 0.0, "same_top1_share": 0.0, "same_top10_share": 0.0, "worst": []}
    rows.sort(key=lambda r: r["overlap"])
    return {
        "n": len(rows),
        "overlap@10": round(statistics.fmean(r["overlap"] for r in rows), 4),
        "same_top1_share": round(sum(r["same_top1"] for r in rows) / len(rows), 4),
        "same_top10_share": round(sum(r["same_top10"] for r in rows) / len(rows), 4),
        "worst": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows[:worst]],
    }
