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
    from index.embedder_choice import open_embedder
    from ingest.pipeline import Ingester
    from ingest.store import Store
    from ingest.writelock import WriterLock

    click.get_current_context().with_resource(WriterLock(settings.data_dir))  # one writer; released on exit
    embedder = open_embedder(settings.embedder, settings.data_dir)
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
@click.option("--force", is_flag=True, help="Build and publish even when the index is up to date.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@data_dir_option
@user_errors
def index_build(force: bool, as_json: bool, data_dir: Path | None) -> None:
    """Embed new chunks (cached by model and text), build the indexes and publish a new generation.

    The previous generation stays on disk for rollback; the switch to the new one is atomic. When the
    published generation is intact and holds the store's corpus built with the same embedder, analysis
    and parameters, nothing is built and it says "up to date" ("published": false); --force rebuilds.

    \b
    Example:
      xizmat index build --data-dir data
    """
    from index.build import build_generation
    from index.embedder_choice import open_embedder
    from ingest.store import Store
    from ingest.writelock import WriterLock

    settings = load_settings(data_dir)
    click.get_current_context().with_resource(WriterLock(settings.data_dir))  # one writer; released on exit
    embedder = open_embedder(settings.embedder, settings.data_dir)
    store = Store.in_dir(settings.data_dir)
    report = build_generation(
        store, embedder, settings.data_dir, exact_max=settings.exact_index_max, progress=sys.stderr.isatty(),
        force=force,
    )
    data = report.as_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2))
    elif not report.published:
        click.echo(f"up to date: generation {report.manifest.generation} already holds this corpus "
                   f"({report.manifest.documents} documents, {report.manifest.chunks} chunks); "
                   "nothing published (--force rebuilds)")
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
    generations = list_generations(settings.data_dir)
    data = {"current": current, "generations": generations, "manifest": manifest, "store": store_counts}
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"current generation  {current or '(none: run xizmat index build)'}")
    click.echo(f"kept generations    {', '.join(generations) or '-'}")
    if manifest:
        click.echo(f"embedder            {manifest['embedder']['id']} (dim {manifest['embedder']['dim']})")
        click.echo(f"documents, chunks   {manifest['counts']['documents']}, {manifest['counts']['chunks']}")
        click.echo(f"created at          {manifest['created_at']}")
    for key, value in store_counts.items():
        click.echo(f"store {key:<14} {value}")


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
    from index.embedder_choice import open_embedder
    from index.search import HybridSearcher, SearchFilters

    settings = load_settings(data_dir)
    embedder = open_embedder(settings.embedder, settings.data_dir)
    searcher = HybridSearcher.open(settings.data_dir, embedder)
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
@click.argument("question")
@click.option("--lang", default=None, help="Only documents in this language: uz, uz-Latn, uz-Cyrl, ru, en.")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="kind, act, authority, category, status, script, date_from, date_to (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON shape of POST /v1/ask.")
@data_dir_option
@user_errors
def ask(question: str, lang: str | None, filters: tuple[str, ...], as_json: bool, data_dir: Path | None) -> None:
    """Answer QUESTION with cited sentences from the index, or say why there is no answer.

    The answer is extractive: sentences or points of the best articles, each with its citation.
    When the evidence is weak, or the question names an article or act that does not exist, the
    result is "no answer" with a reason (low_confidence, no_such_article, no_such_act, ambiguous_act).

    \b
    Example:
      xizmat ask "murojaat qancha muddatda ko'rib chiqiladi" --json
    """
    from index.answer import answer
    from index.embedder_choice import open_embedder
    from index.search import HybridSearcher, SearchFilters

    settings = load_settings(data_dir)
    embedder = open_embedder(settings.embedder, settings.data_dir)
    searcher = HybridSearcher.open(settings.data_dir, embedder)
    result = answer(
        searcher, question, filters=SearchFilters.from_mapping(_parse_filters(filters, lang)),
        max_query_chars=settings.max_query_chars,
    )
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    if result.no_answer:
        click.echo(f"no answer ({result.reason}): {result.message}")
        for candidate in result.candidates:
            click.echo(f"  {candidate.title} ({candidate.id}): articles {candidate.first_article}-{candidate.last_article}")
        return
    click.echo(f"confidence {result.confidence:.2f}")
    for item in result.answer:
        click.echo(click.style(item.citation, bold=True))
        click.echo(f"  {item.text}")
    for service in result.services:
        click.echo(f"service: {service.title} ({service.id})")


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


# -- eval: thin wrappers over the eval package ------------------------------------------------


def _run_name(path: Path) -> str:
    """A run's display name: its folder for ``DIR/run.trec``, else the file stem."""
    return path.parent.name if path.name == "run.trec" else path.stem


@cli.group("eval")
def eval_group() -> None:
    """Evaluate retrieval: run query sets, compare runs, write reports, import and generate sets.

    \b
    Example:
      xizmat eval run --queries eval/sets/sample/queries.jsonl --qrels eval/sets/sample/qrels.txt --json
    """


@eval_group.command("run")
@click.option("--queries", "queries_path", type=click.Path(path_type=Path), required=True,
              help="Queries as JSONL (id, text, lang, tags) or TSV.")
@click.option("--qrels", "qrels_path", type=click.Path(path_type=Path), required=True, help="TREC qrels.")
@click.option("--config", default="default", show_default=True,
              help="default, bm25, lexical, dense, naive-rrf, weighted, or a JSON file of FusionParams.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for run.trec and metrics.json (default: eval-runs/<config>).")
@click.option("--limit", default=100, show_default=True, help="Refs kept per query.")
@click.option("--json", "as_json", is_flag=True, help="Print n, metrics (with ci95) and by_lang as JSON.")
@data_dir_option
@user_errors
def eval_run(queries_path: Path, qrels_path: Path, config: str, out_dir: Path | None, limit: int, as_json: bool,
             data_dir: Path | None) -> None:
    """Run a query set through the search stack under a config; write run.trec and metrics.json.

    \b
    Example:
      xizmat eval run --queries eval/sets/sample/queries.jsonl --qrels eval/sets/sample/qrels.txt \\
        --config bm25 --out runs/bm25 --json
    """
    from eval.formats import read_qrels, read_queries
    from eval.runner import config_params, run_eval
    from index.embedder_choice import open_embedder
    from index.search import HybridSearcher

    config_params(config)  # fail on a bad config before loading the model
    queries, qrels = read_queries(queries_path), read_qrels(qrels_path)
    settings = load_settings(data_dir)
    searcher = HybridSearcher.open(settings.data_dir, open_embedder(settings.embedder, settings.data_dir))
    out_dir = out_dir or Path("eval-runs") / Path(config).stem
    result = run_eval(searcher, queries, qrels, config=config, out_dir=out_dir, limit=limit)
    if as_json:
        keys = ("n", "metrics", "ci95", "by_lang", "by_script", "by_tag")
        click.echo(json.dumps({k: result[k] for k in keys}, ensure_ascii=False, indent=2))
        return
    click.echo(f"{result['n']} judged queries, config {config}; wrote {out_dir}/run.trec and metrics.json")
    for name, value in result["metrics"].items():
        low, high = result["ci95"][name]
        click.echo(f"{name:<8} {value:.4f}  [{low:.4f}, {high:.4f}]")
    for lang, group in result["by_lang"].items():
        click.echo(f"{lang:<8} n={group['n']:<4} nDCG@10={group['metrics']['nDCG@10']:.4f}")


@eval_group.command("compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--qrels", "qrels_path", type=click.Path(path_type=Path), required=True, help="TREC qrels.")
@click.option("--queries", "queries_path", type=click.Path(path_type=Path), default=None,
              help="Queries file, to show the text of the queries that won and lost.")
@click.option("--test", type=click.Choice(["randomisation", "t-test"]), default="randomisation", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@user_errors
def eval_compare(runs: tuple[Path, ...], qrels_path: Path, queries_path: Path | None, test: str,
                 as_json: bool) -> None:
    """Compare TREC runs side by side, with paired tests against the first run.

    \b
    Example:
      xizmat eval compare runs/bm25/run.trec runs/default/run.trec --qrels eval/sets/sample/qrels.txt
    """
    from eval.compare import compare_runs, format_comparison
    from eval.formats import read_qrels, read_queries, read_run

    loaded = {_run_name(p): read_run(p) for p in runs}
    result = compare_runs(read_qrels(qrels_path), loaded, test=test)  # type: ignore[arg-type]
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    texts = {q.id: q.text for q in read_queries(queries_path)} if queries_path else {}
    click.echo(format_comparison(result, texts=texts))


@eval_group.command("report")
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--qrels", "qrels_path", type=click.Path(path_type=Path), required=True, help="TREC qrels.")
@click.option("--queries", "queries_path", type=click.Path(path_type=Path), default=None,
              help="Queries file: adds query texts and the per-language breakdown.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True)
@click.option("--title", default="Retrieval evaluation", show_default=True)
@user_errors
def eval_report(runs: tuple[Path, ...], qrels_path: Path, queries_path: Path | None, out_path: Path,
                title: str) -> None:
    """Write a self-contained HTML report (bars with intervals, languages, deltas, failures).

    \b
    Example:
      xizmat eval report --qrels eval/sets/sample/qrels.txt --queries eval/sets/sample/queries.jsonl \\
        runs/default/run.trec runs/bm25/run.trec --out report.html
    """
    from eval.formats import read_qrels, read_queries, read_run
    from eval.report import render_report

    queries = read_queries(queries_path) if queries_path else []
    page = render_report(read_qrels(qrels_path), {_run_name(p): read_run(p) for p in runs}, queries, title=title)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(page, encoding="utf-8")
    click.echo(f"wrote {out_path}")


@eval_group.command("import-dev")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@user_errors
def eval_import_dev(path: Path, out_dir: Path) -> None:
    """Turn the shared dev set (gold_article_ids) into queries.jsonl and qrels.txt in OUT.

    \b
    Example:
      xizmat eval import-dev ../shared/eval/dev/gold_situations.jsonl --out /tmp/dev-set
    """
    from eval.formats import import_dev, write_qrels, write_queries

    queries, qrels = import_dev(path)
    write_queries(out_dir / "queries.jsonl", queries)
    write_qrels(out_dir / "qrels.txt", qrels)
    click.echo(f"wrote {len(queries)} queries and {len(qrels)} judgements to {out_dir}")


@eval_group.command("import-beir")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--split", default="test", show_default=True, help="Which qrels/<split>.tsv to read.")
@click.option("--lang", default="", help="Language tag to give every query.")
@user_errors
def eval_import_beir(folder: Path, out_dir: Path, split: str, lang: str) -> None:
    """Turn a BEIR folder (queries.jsonl, qrels/<split>.tsv) into queries.jsonl and qrels.txt in OUT.

    \b
    Example:
      xizmat eval import-beir datasets/scifact --out /tmp/scifact --lang en
    """
    from eval.formats import import_beir, write_qrels, write_queries

    queries, qrels = import_beir(folder, split=split, lang=lang)
    write_queries(out_dir / "queries.jsonl", queries)
    write_qrels(out_dir / "qrels.txt", qrels)
    click.echo(f"wrote {len(queries)} queries and {len(qrels)} judgements to {out_dir}")


@eval_group.command("make-crosslingual")
@click.argument("labour_ru", type=click.Path(path_type=Path))
@click.option("--uz", "labour_uz", type=click.Path(path_type=Path), default=None,
              help="Uzbek Labour Code JSONL (default: ../uz-legal/articles/mehnat_kodeksi.jsonl beside it).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--limit", type=int, default=None, help="Only the first N articles.")
@user_errors
def eval_make_crosslingual(labour_ru: Path, labour_uz: Path | None, out_dir: Path, limit: int | None) -> None:
    """Generate a cross-lingual set: Russian heading → Uzbek article, and Uzbek title → Russian article.

    The set is derived from ../shared at run time; do not commit it.

    \b
    Example:
      xizmat eval make-crosslingual ../shared/corpus/labour-code-ru/law_base_ru.json --out /tmp/xling
    """
    from eval.crosslingual import make_crosslingual_set
    from eval.formats import write_qrels, write_queries

    queries, qrels = make_crosslingual_set(labour_ru, labour_uz, limit=limit)
    write_queries(out_dir / "queries.jsonl", queries)
    write_qrels(out_dir / "qrels.txt", qrels)
    click.echo(f"wrote {len(queries)} queries and {len(qrels)} judgements to {out_dir}")


@eval_group.command("script-consistency")
@click.option("--queries", "queries_path", type=click.Path(path_type=Path), required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@data_dir_option
@user_errors
def eval_script_consistency(queries_path: Path, as_json: bool, data_dir: Path | None) -> None:
    """Search each Uzbek query in both scripts and report the overlap of the top 10 refs.

    \b
    Example:
      xizmat eval script-consistency --queries eval/sets/sample/queries.jsonl --json
    """
    from eval.crosslingual import script_consistency
    from eval.formats import read_queries
    from index.embedder_choice import open_embedder
    from index.search import HybridSearcher

    queries = read_queries(queries_path)
    settings = load_settings(data_dir)
    searcher = HybridSearcher.open(settings.data_dir, open_embedder(settings.embedder, settings.data_dir))
    result = script_consistency(searcher, queries)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"{result['n']} Uzbek queries; overlap@10 {result['overlap@10']:.4f}; same top 1 "
               f"{result['same_top1_share']:.2%}; identical top 10 {result['same_top10_share']:.2%}")
    for row in result["worst"][:5]:
        click.echo(f"  {row['overlap']:.2f}  {row['text'][:50]}  →  {row['other'][:50]}")


@eval_group.command("ask")
@click.option("--queries", "queries_path", type=click.Path(path_type=Path), required=True,
              help="Questions as JSONL or TSV; tag out_of_scope (or no qrels) for those to abstain on.")
@click.option("--qrels", "qrels_path", type=click.Path(path_type=Path), required=True, help="Gold refs (TREC qrels).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the full result (per question) to this JSON file.")
@click.option("--json", "as_json", is_flag=True, help="Print metrics, intervals, counts and the errors as JSON.")
@data_dir_option
@user_errors
def eval_ask(queries_path: Path, qrels_path: Path, out_path: Path | None, as_json: bool,
             data_dir: Path | None) -> None:
    """Evaluate answers: citation correctness, answer rate, abstention precision and recall.

    \b
    Example:
      xizmat eval ask --queries eval/sets/sample/queries.jsonl --qrels eval/sets/sample/qrels.txt --json
    """
    from eval.ask import evaluate_answers
    from eval.formats import read_qrels, read_queries
    from index.embedder_choice import open_embedder
    from index.search import HybridSearcher

    queries, qrels = read_queries(queries_path), read_qrels(qrels_path)
    settings = load_settings(data_dir)
    searcher = HybridSearcher.open(settings.data_dir, open_embedder(settings.embedder, settings.data_dir))
    result = evaluate_answers(searcher, queries, qrels)
    if out_path is not None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if as_json:
        keys = ("n", "metrics", "ci95", "counts", "wrong_answers", "wrong_abstentions")
        click.echo(json.dumps({k: result[k] for k in keys}, ensure_ascii=False, indent=2))
        return
    click.echo(f"{result['n']} questions: " + ", ".join(f"{k} {v}" for k, v in result["counts"].items()))
    for name, value in result["metrics"].items():
        low, high = result["ci95"][name]
        click.echo(f"{name:<22} {'n/a' if value is None else f'{value:.4f}'}  [{low:.4f}, {high:.4f}]")
    for row in result["wrong_answers"]:
        click.echo(f"wrong answer      {row['id']}: {row['text'][:50]!r} cited {list(row['cited'])[:2]}")
    for row in result["wrong_abstentions"]:
        click.echo(f"wrong abstention  {row['id']}: {row['text'][:50]!r} ({row['reason']})")


@eval_group.command("feedback-export")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The qrels file to write; queries.jsonl is written beside it.")
@data_dir_option
@user_errors
def eval_feedback_export(out_path: Path, data_dir: Path | None) -> None:
    """Turn stored feedback into TREC qrels keyed by ref (answered the caller 2, helpful 1, not 0).

    \b
    Example:
      xizmat eval feedback-export --data-dir data --out feedback/qrels.txt
    """
    from eval.feedback import export_feedback
    from eval.formats import write_qrels, write_queries
    from ingest.store import Store

    settings = load_settings(data_dir)
    store = Store.in_dir(settings.data_dir, readonly=True)
    try:
        exported = export_feedback(store)
    finally:
        store.close()
    write_qrels(out_path, exported.qrels)
    write_queries(out_path.parent / "queries.jsonl", exported.queries)
    click.echo(f"wrote {len(exported.qrels)} judgements on {len(exported.queries)} queries to {out_path} and "
               f"{out_path.parent / 'queries.jsonl'}; {exported.rows} feedback rows, {len(exported.skipped)} skipped")


@cli.command()
@click.option("--corpus", "corpus_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="Ingest and index this corpus twice (embedding cache cold, then warm) to time it.")
@click.option("--name", default="bench", show_default=True, help="Results go to eval/results/<date>-<name>.{json,md}.")
@click.option("--queries", "queries_path", type=click.Path(path_type=Path), default=None,
              help="Query set (default: eval/sets/sample/queries.jsonl).")
@click.option("--qrels", "qrels_path", type=click.Path(path_type=Path), default=None,
              help="Its qrels (default: eval/sets/sample/qrels.txt).")
@click.option("--dev", "dev_path", type=click.Path(path_type=Path), default=None,
              help="Also score this dev set (gold_article_ids) when the index holds its articles.")
@click.option("--http", "with_http", is_flag=True, help="Also run eval/bench_api.py (HTTP, 16 clients) if present.")
@click.option("--readme", is_flag=True, help="Then regenerate README.md's performance section.")
@data_dir_option
@user_errors
def bench(corpus_path: Path | None, name: str, queries_path: Path | None, qrels_path: Path | None,
          dev_path: Path | None, with_http: bool, readme: bool, data_dir: Path | None) -> None:
    """Benchmark latency, ingest throughput, size, memory and quality against bm25s, rank_bm25, FAISS.

    Serves from --data-dir when given, else from the warm ingest of --corpus.

    \b
    Example:
      xizmat bench --corpus corpus --name sample --readme
    """
    from eval.bench import EvalSet, run_bench
    from eval.bench_markdown import bench_markdown, update_readme
    from eval.formats import read_qrels, read_queries

    root = Path(__file__).resolve().parents[1]
    sample = root / "eval" / "sets" / "sample"
    evalset = EvalSet(queries_path.parent.name if queries_path else "sample",
                      read_queries(queries_path or sample / "queries.jsonl"),
                      read_qrels(qrels_path or sample / "qrels.txt"))
    settings = load_settings(data_dir)
    serve_dir = settings.data_dir if data_dir is not None or corpus_path is None else None
    result = run_bench(name=name, sets=[evalset], data_dir=serve_dir, corpus=corpus_path,
                       embedder=settings.embedder, dev=dev_path)
    if with_http:
        from eval.bench import http_bench

        result["http"] = http_bench(serve_dir)
    out = root / "eval" / "results" / f"{result['date']}-{name}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(bench_markdown(result), encoding="utf-8")
    click.echo(bench_markdown(result))
    click.echo(f"wrote {out}.json and {out}.md", err=True)
    if readme:
        source = update_readme(root / "README.md", out.parent)
        click.echo(f"regenerated the performance section of README.md from {source.name}", err=True)


# Command groups kept in their own modules; imported last because they use this module's helpers.
from xizmat import cli_audit, cli_backup, cli_insights  # noqa: E402

cli_insights.register(cli)  # `xizmat insights unanswered`, `xizmat logs purge`
cli_audit.register(cli)  # `xizmat audit services`
cli_backup.register(cli)  # `xizmat backup`, `xizmat restore`


def main() -> None:
    """Entry point of the ``xizmat`` script."""
    cli(prog_name="xizmat")


if __name__ == "__main__":
    main()
