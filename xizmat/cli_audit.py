"""``xizmat audit services``: how complete each service description is, per service and per authority."""

from __future__ import annotations

import html
import json
from pathlib import Path

import click

from ingest.audit import AuditReport, audit_services
from ingest.completeness import ELEMENTS
from ingest.store import Store
from xizmat.cli import data_dir_option, load_settings, user_errors

__all__ = ["audit", "register", "render_html", "render_table"]

_MARK = {"present": "+", "vague": "~", "missing": "-", "contradictory": "!"}
_SHORT = {"eligibility": "elig", "documents": "docs", "fee": "fee", "time_limit": "time", "result": "res",
          "channels": "chan", "legal_act": "act", "appeal": "appl"}


def render_table(report: AuditReport) -> str:
    """Plain-text tables: services (worst first) with one mark per element, then authorities."""
    header = f"{'score':>5}  {'service':<40} " + " ".join(f"{_SHORT[e]:>4}" for e in ELEMENTS)
    lines = [header, "-" * len(header)]
    for s in report.services:
        marks = " ".join(f"{_MARK[e.status]:>4}" for e in s.elements)
        lines.append(f"{s.score * 100:5.1f}  {s.service_id[:40]:<40} {marks}")
    lines += ["", "+ present  ~ vague (no amount, days or named act)  - missing  ! contradicts the regulation", ""]
    lines.append(f"{'mean':>5}  {'services':>8}  {'most missing':<12}  authority")
    for a in report.authorities:
        lines.append(f"{a.mean_score * 100:5.1f}  {a.services:8d}  {a.most_missing or '-':<12}  {a.authority}")
    return "\n".join(lines)


def render_html(report: AuditReport) -> str:
    """A self-contained HTML report (no scripts, no external assets): a table and a bar per authority."""
    esc = html.escape
    rows = []
    for s in report.services:
        cells = "".join(
            f'<td class="{e.status}" title="{esc(e.explanation)}">{esc(e.status)}</td>' for e in s.elements
        )
        rows.append(f"<tr><td>{s.score * 100:.1f}</td><td>{esc(s.title)}<br><small>{esc(s.service_id)}</small>"
                    f"</td><td>{esc(s.authority)}</td>{cells}</tr>")
    bars = []
    for a in report.authorities:
        width = round(a.mean_score * 100, 1)
        bars.append(f'<div class="bar"><span class="label">{esc(a.authority)} ({a.services})</span>'
                    f'<span class="track"><span class="fill" style="width:{width}%"></span></span>'
                    f"<span>{width}</span></div>")
    head = "".join(f"<th>{esc(e)}</th>" for e in ELEMENTS)
    return (
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Service completeness audit</title>"
        "<style>body{font:14px system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.25rem .4rem;vertical-align:top}.present{background:#d9f2d9}"
        ".vague{background:#fff3c4}.missing{background:#f6d0d0}.contradictory{background:#e6b3ff}"
        ".bar{display:flex;gap:.5rem;align-items:center;margin:.2rem 0}.label{width:28rem}"
        ".track{width:20rem;height:.9rem;background:#eee;display:inline-block}"
        ".fill{height:100%;background:#3a7bd5;display:block}</style>"
        f"<h1>Service completeness audit</h1><p>{len(report.services)} services.</p>"
        f"<h2>Authorities (mean score)</h2>{''.join(bars)}"
        f"<h2>Services</h2><table><tr><th>score</th><th>service</th><th>authority</th>{head}</tr>"
        f"{''.join(rows)}</table></html>\n"
    )


@click.group()
def audit() -> None:
    """Audit the stored content for gaps."""


@audit.command("services")
@click.option("--authority", default=None, help="Only services whose authority contains this text (any script).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@data_dir_option
@user_errors
def audit_services_command(authority: str | None, fmt: str, out: Path | None, data_dir: Path | None) -> None:
    """Score each service description: who may apply, documents, fee, time limit, result, channels,
    governing act and appeal, each present, vague, missing or contradicting its regulation.

    \b
    Example:
      xizmat audit services --authority "Adliya vazirligi" --format json
    """
    settings = load_settings(data_dir)
    store = Store.in_dir(settings.data_dir, readonly=True)
    try:
        report = audit_services(store, authority=authority)
    finally:
        store.close()
    if fmt == "json":
        text = json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
    elif fmt == "html":
        text = render_html(report)
    else:
        text = render_table(report)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        click.echo(f"wrote {out} ({len(report.services)} services)", err=True)


def register(group: click.Group) -> None:
    """Add ``audit`` to the ``xizmat`` group."""
    group.add_command(audit)
