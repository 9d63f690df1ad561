"""``xizmat insights unanswered`` and ``xizmat logs purge``: the query log for content owners.

A thin layer over ``index/insights.py`` (clustering) and ``ingest/store_logs.py`` (the log).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import click

from ingest.errors import StoreError
from xizmat.cli import data_dir_option, load_settings, user_errors
from xizmat.settings import Settings

__all__ = ["insights_group", "logs_group", "register", "unanswered_clusters"]


def _ops(settings: Settings) -> Any:
    from ingest.store import Store
    from ingest.store_logs import OpsLog

    if not settings.db_path.exists():
        raise StoreError(f"no database at {settings.db_path}; ingest documents first (`xizmat ingest corpus/`) "
                         "or pass --data-dir", code="store_missing")
    return OpsLog(Store.in_dir(settings.data_dir))


def unanswered_clusters(settings: Settings, *, since: str = "", embedder: Any = None, searcher: Any = None) -> list[Any]:
    """The clusters of unanswered queries in the data directory's log, linked to services when indexed."""
    from index.embedder_choice import open_embedder
    from index.insights import cluster_unanswered, logged_queries, nearest_services, parse_since

    since_iso = parse_since(since)
    ops = _ops(settings)
    try:
        rows = ops.unanswered(since=since_iso)
    finally:
        ops.close()
    if not rows:
        return []
    embedder = embedder if embedder is not None else open_embedder(settings.embedder, settings.data_dir)
    if searcher is None:
        from index.search import HybridSearcher
        from ingest.errors import XizmatError

        try:
            searcher = HybridSearcher.open(settings.data_dir, embedder)
        except XizmatError as exc:
            click.echo(f"note: no index to find the nearest services ({exc.code}); authorities left empty", err=True)
    find = (lambda text: nearest_services(searcher, text)) if searcher is not None else None
    return cluster_unanswered(logged_queries(rows), embedder, find_services=find)


def _table(clusters: list[Any]) -> str:
    if not clusters:
        return "no unanswered queries in the log"
    lines = []
    for rank, c in enumerate(clusters, start=1):
        langs = ", ".join(f"{k} {v}" for k, v in c.languages.items())
        noun = "query" if c.count == 1 else "queries"
        lines.append(f"{rank}. {c.representative}  ({c.count} {noun}, score {c.score}; {langs})")
        lines.append(f"   seen {c.first_seen[:10]} … {c.last_seen[:10]}; authority: {c.authority or '-'}")
        for m in c.members:
            lines.append(textwrap.shorten(f"   - [{m.lang}] ×{m.count} {m.text}", width=110, placeholder=" …"))
    return "\n".join(lines)


@click.group("insights")
def insights_group() -> None:
    """What the query log says about the content: questions nobody answers."""


@insights_group.command("unanswered")
@click.option("--since", default=None, metavar="DATE", help="Only queries logged on or after this date (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@data_dir_option
@user_errors
def unanswered(since: str | None, fmt: str, data_dir: Path | None) -> None:
    """Unanswered queries clustered by meaning across languages, busiest and most recent first.

    \b
    Example:
      xizmat insights unanswered --since 2026-11-01 --format csv > unanswered.csv
    """
    from index.insights import clusters_to_csv

    clusters = unanswered_clusters(load_settings(data_dir), since=since or "")
    if fmt == "json":
        click.echo(json.dumps({"clusters": [c.as_dict() for c in clusters]}, ensure_ascii=False, indent=1))
    elif fmt == "csv":
        click.echo(clusters_to_csv(clusters), nl=False)
    else:
        click.echo(_table(clusters))


@click.group("logs")
def logs_group() -> None:
    """The query log: retention."""


@logs_group.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=0), default=None, metavar="DAYS",
              help="Delete queries older than DAYS (default: $XIZMAT_QUERY_LOG_RETENTION_DAYS, 180; 0 keeps all).")
@data_dir_option
@user_errors
def purge(days: int | None, data_dir: Path | None) -> None:
    """Delete logged queries (and their feedback) older than the retention period.

    \b
    Example:
      xizmat logs purge --older-than 90
    """
    settings = load_settings(data_dir)
    days = settings.query_log_retention_days if days is None else days
    ops = _ops(settings)
    try:
        purged = ops.purge_queries(older_than_days=days)
    finally:
        ops.close()
    kept = "kept every query (retention 0)" if days == 0 else f"purged {purged} queries older than {days} days"
    click.echo(kept)


def register(cli: click.Group) -> None:
    """Add ``insights`` and ``logs`` to the ``xizmat`` group."""
    cli.add_command(insights_group)
    cli.add_command(logs_group)
