"""The ``xizmat`` command line: a thin layer over the ingest, index, api and eval packages."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ingest.errors import XizmatError
from xizmat.settings import Settings, settings_from_env

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


def data_dir_option(func: F) -> F:
    """Every command accepts ``--data-dir`` (default: XIZMAT_DATA_DIR, else ./data)."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Data directory (default: $XIZMAT_DATA_DIR, else ./data).",
    )(func)


def load_settings(data_dir: Path | None, **overrides: object) -> Settings:
    return settings_from_env(os.environ, data_dir=data_dir, **overrides)


def user_errors(func: F) -> F:
    """Turn our own errors into a one-line message on stderr and exit code 1, with no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except XizmatError as exc:
            click.echo(f"error [{exc.code}]: {exc.message}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="xizmat")
@click.option("-v", "--verbose", is_flag=True, help="Log progress details to stderr.")
def cli(verbose: bool) -> None:
    """Xizmat: find the public service and the exact legal passage for a question.

    \b
    Example:
      xizmat ingest corpus/
      xizmat corpus import uz-legal ../shared/corpus/uz-legal
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _ingester(settings: Settings) -> Any:
    from index.embed import make_embedder
    from ingest.pipeline import Ingester
    from ingest.store import Store

    embedder = make_embedder(settings.embedder)
    store = Store.in_dir(settings.data_dir)
    return Ingester(
        store, count_tokens=embedder.count_tokens, tokenizer_id=embedder.id, max_tokens=settings.max_chunk_tokens
    )


def _print_summary(summary: Any, *, as_json: bool) -> None:
    data = summary.as_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        rows = [(k, data[k]) for k in ("added", "updated", "unchanged", "removed", "failed", "chunks")]
        rows += [(f"language {lang}", n) for lang, n in data["languages"].items()]
        width = max(len(k) for k, _ in rows)
        click.echo("\n".join(f"{k:<{width}}  {v:>7}" for k, v in rows))
        for error in data["errors"]:
            click.echo(f"failed  {error['path']}: [{error['code']}] {error['message']}", err=True)
        for note in data["notes"]:
            click.echo(f"note    {note}", err=True)
    if summary.ingested == 0 and (summary.failed or not summary.removed):
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@data_dir_option
@user_errors
def ingest(paths: tuple[Path, ...], as_json: bool, data_dir: Path | None) -> None:
    """Ingest files and folders (PDF, HTML, DOCX, TXT/MD, JSON/JSONL) into the store.

    A folder with a manifest.csv ingests the files it lists with their metadata. Unchanged files are
    skipped, changed files replace their chunks (the old version stays in the history), files gone
    from a folder are marked removed. Exits 1 only when nothing could be ingested.

    \b
    Example:
      xizmat ingest corpus/ --json
    """
    settings = load_settings(data_dir)
    ingester = _ingester(settings)
    summary = ingester.ingest_paths(list(paths), progress=sys.stderr.isatty())
    _print_summary(summary, as_json=as_json)


@cli.group()
def corpus() -> None:
    """Import public datasets (codes and laws, the Labour Code in Russian, the service catalogue)."""


@corpus.command("import")
@click.argument("kind", type=click.Choice(["uz-legal", "labour-code", "services"]))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@data_dir_option
@user_errors
def corpus_import(kind: str, path: Path, as_json: bool, data_dir: Path | None) -> None:
    """Import a public dataset of KIND from PATH (a folder or a file).

    \b
    KIND is one of:
      uz-legal     article-per-record JSONL of codes and laws
      labour-code  the Labour Code as {"N": "Статья N. ..."} (the Russian version of mehnat_kodeksi)
      services     the my.gov.uz catalogue of service titles (JSONL)

    \b
    Example:
      xizmat corpus import uz-legal ../shared/corpus/uz-legal --json
    """
    from tqdm import tqdm

    from ingest.importers import import_documents
    from ingest.pipeline import IngestSummary

    settings = load_settings(data_dir)
    ingester = _ingester(settings)
    summary = IngestSummary()
    docs = import_documents(kind, path, notes=summary.notes)
    for doc in tqdm(docs, desc=f"import {kind}", unit="doc", disable=not sys.stderr.isatty(), leave=False):
        ingester.ingest_documents([doc], summary=summary)
    _print_summary(summary, as_json=as_json)


@cli.group()
def index() -> None:
    """Build and inspect index generations (FAISS + BM25 + chunk metadata)."""


@index.command("build")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@data_dir_option
@user_errors
def index_build(as_json: bool, data_dir: Path | None) -> None:
    """Embed new chunks (cached by model and text), build the indexes and publish a new generation.

    The previous generation stays on disk for rollback; the switch to the new one is atomic.

    \b
    Example:
      xizmat index build --data-dir data
    """
    from index.build import build_generation
    from index.embed import make_embedder
    from ingest.store import Store

    settings = load_settings(data_dir)
    embedder = make_embedder(settings.embedder)
    store = Store.in_dir(settings.data_dir)
    report = build_generation(
        store, embedder, settings.data_dir, exact_max=settings.exact_index_max, progress=sys.stderr.isatty()
    )
    data = report.as_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo("\n".join(f"{k:<18} {v}" for k, v in data.items()))


@index.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@data_dir_option
@user_errors
def index_status(as_json: bool, data_dir: Path | None) -> None:
    """Show the published generation, the ones kept for rollback, and the store's counts.

    \b
    Example:
      xizmat index status --json
    """
    from index.generation import current_generation_id, list_generations
    from ingest.store import Store

    settings = load_settings(data_dir)
    current = current_generation_id(settings.data_dir)
    manifest: dict[str, Any] = {}
    if current:
        path = settings.data_dir / "generations" / current / "manifest.json"
        if path.is_file():
            manifest = json.loads(path.read_text(encoding="utf-8"))
    store_counts = Store.in_dir(settings.data_dir, readonly=True).counts() if settings.db_path.exists() else {}
    data = {
        "current": current, "generations": list_generations(settings.data_dir), "manifest": manifest,
        "store": store_counts,
    }
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"current generation  {current or '(none: run xizmat index build)'}")
    click.echo(f"kept generations    {', '.join(data['generations']) or '-'}")
    if manifest:
        click.echo(f"embedder            {manifest['embedder']['id']} (dim {manifest['embedder']['dim']})")
        click.echo(f"documents, chunks   {manifest['counts']['documents']}, {manifest['counts']['chunks']}")
        click.echo(f"created at          {manifest['created_at']}")
    for key, value in store_counts.items():
        click.echo(f"store {key:<14}{value}")


def _parse_filters(pairs: tuple[str, ...], lang: str | None) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--filter")
        key, value = pair.split("=", 1)
        values[key.strip()] = value.strip()
    if lang:
        values["lang"] = lang
    return values


@cli.command()
@click.argument("query")
@click.option("--k", "k", default=10, show_default=True, help="Number of groups to return (1-100).")
@click.option("--page", default=1, show_default=True, help="Page of results (1-100).")
@click.option("--lang", default=None, help="Only documents in this language: uz, uz-Latn, uz-Cyrl, ru, en.")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="kind, act, authority, category, status, script, date_from, date_to (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON shape.")
@data_dir_option
@user_errors
def search(query: str, k: int, page: int, lang: str | None, filters: tuple[str, ...], as_json: bool,
           data_dir: Path | None) -> None:
    """Search the published index with QUERY in any language or script.

    \b
    Example:
      xizmat search "ish haqi kechikdi" --k 5
      xizmat search "статья 253 трудового кодекса" --lang ru --json
    """
    from index.embed import make_embedder
    from index.search import HybridSearcher, SearchFilters

    settings = load_settings(data_dir)
    searcher = HybridSearcher.open(settings.data_dir, make_embedder(settings.embedder))
    result = searcher.search(
        query, k=k, page=page, filters=SearchFilters.from_mapping(_parse_filters(filters, lang)),
        max_query_chars=settings.max_query_chars,
    )
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"query language {result.lang} ({result.script}); {result.total_groups} groups")
    if result.reference and result.reference["message"]:
        click.echo(f"reference: {result.reference['status']}: {result.reference['message']}")
    for n, group in enumerate(result.groups, start=(page - 1) * k + 1):
        status = "" if group.status == "in_force" else f" [{group.status}]"
        click.echo(click.style(f"{n}. {group.title}{status}", bold=True) + f"  ({group.kind}, {group.id})")
        for passage in group.passages:
            click.echo(f"   {passage.citation}")
            click.echo(f"     {_highlight(passage.text, passage.highlights)}")


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: $XIZMAT_HOST, else 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port to listen on (default: $XIZMAT_PORT, else 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes; each loads the index and the model once.")
@data_dir_option
@user_errors
def serve(host: str | None, port: int | None, workers: int, data_dir: Path | None) -> None:
    """Serve the query API over HTTP (search, documents, chunks, /healthz, /readyz, /docs).

    Settings come from XIZMAT_* variables; --data-dir overrides XIZMAT_DATA_DIR. The server starts
    even without an index: /readyz then answers 503 until one is built and the server restarted.

    \b
    Example:
      xizmat serve --data-dir data --port 8000
    """
    import uvicorn

    settings = load_settings(data_dir, host=host, port=port)
    # Worker processes build their own settings from the environment.
    os.environ["XIZMAT_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run(
        "api.main:create_app", factory=True, host=settings.host, port=settings.port, workers=workers,
        log_level="info",
    )


def _highlight(text: str, spans: list[list[int]], width: int = 300) -> str:
    out, last = [], 0
    for start, end in spans:
        if start >= width:
            break
        out.append(text[last:start])
        out.append(click.style(text[start:end], fg="yellow", bold=True))
        last = end
    out.append(text[last:width])
    return "".join(out).replace("\n", " ") + ("…" if len(text) > width else "")


def main() -> None:
    """Entry point of the ``xizmat`` script."""
    cli(prog_name="xizmat")


if __name__ == "__main__":
    main()
