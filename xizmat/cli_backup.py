"""``xizmat backup DEST`` and ``xizmat restore SRC``: the library is index/backup.py."""

from __future__ import annotations

import json
from pathlib import Path

import click

from xizmat.cli import data_dir_option, load_settings, user_errors

__all__ = ["register"]


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--include-cache", is_flag=True, help="Also copy the embedding cache (saves re-embedding).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@data_dir_option
@user_errors
def backup(dest: Path, include_cache: bool, as_json: bool, data_dir: Path | None) -> None:
    """Back up the store (SQLite backup API) and the published generation into the new folder DEST.

    Safe while the server runs; it holds the writer lock, so ingests and builds wait or fail
    with writer_busy meanwhile.

    \b
    Example:
      xizmat backup /backups/xizmat-$(date +%F) --data-dir data
    """
    from index.backup import create_backup

    report = create_backup(load_settings(data_dir).data_dir, dest, include_cache=include_cache)
    _echo(report.as_dict(), as_json)


@click.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the store and index of a non-empty data directory.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@data_dir_option
@user_errors
def restore(src: Path, force: bool, as_json: bool, data_dir: Path | None) -> None:
    """Verify the backup SRC (checksums, database integrity) and restore it into the data directory.

    Refuses an incomplete or corrupt backup, and a non-empty data directory unless --force.
    Stop the server first.

    \b
    Example:
      xizmat restore /backups/xizmat-2026-11-28 --data-dir data
    """
    from index.backup import restore_backup

    report = restore_backup(src, load_settings(data_dir).data_dir, force=force)
    _echo(report.as_dict(), as_json)


def _echo(data: dict[str, object], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo("\n".join(f"{k:<11} {v}" for k, v in data.items()))


def register(cli: click.Group) -> None:
    """Add ``backup`` and ``restore`` to the ``xizmat`` group."""
    cli.add_command(backup)
    cli.add_command(restore)
