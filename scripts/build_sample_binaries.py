#!/usr/bin/env python3
"""Build the PDF, DOCX and HTML files of the sample corpus from plain-text sources.

The sources live in ``scripts/sample_sources/`` (UTF-8 text written by the Xizmat team, CC0). Each source
has the same shape: the title on line 1, a subtitle on line 2, a blank line, the preamble, then the
body, where structural headings (sections, chapters, articles) are recognised by the patterns below.

Run from the repository root with the project venv (fpdf2 and python-docx are needed)::

    .venv/bin/python scripts/build_sample_binaries.py          # build and verify
    .venv/bin/python scripts/build_sample_binaries.py --check  # only verify the existing files

The output is deterministic: PDF creation dates and DOCX core properties are pinned, so rebuilding
from unchanged sources gives byte-identical files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "scripts" / "sample_sources"
ACTS = ROOT / "corpus" / "acts"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PINNED = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
MAX_BYTES = 200_000

# Heading patterns, level 1 = section, 2 = chapter, 3 = article.
HEADINGS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(r"^[IVXLC]+ BOʻLIM\. ")),
    (1, re.compile(r"^Раздел [IVXLC]+\. ")),
    (1, re.compile(r"^ПОЛОЖЕНИЕ$")),
    (2, re.compile(r"^\d+-bob\. ")),
    (2, re.compile(r"^\d+-боб\. ")),
    (2, re.compile(r"^Глава \d+\. ")),
    (2, re.compile(r"^[IVXLC]+\. \S")),
    (2, re.compile(r"^Chapter \d+\. ")),
    (3, re.compile(r"^\d+[¹²³]?-\s?modda\. ")),
    (3, re.compile(r"^\d+[¹²³]?-модда\. ")),
    (3, re.compile(r"^Статья \d+[¹²³]?\. ")),
    (3, re.compile(r"^Article \d+[¹²³]?\. ")),
]


def heading_level(line: str) -> int:
    for level, pattern in HEADINGS:
        if pattern.match(line):
            return level
    return 0


@dataclass(frozen=True)
class Source:
    title: str
    subtitle: str
    preamble: list[str]
    body: list[str]  # non-empty lines after the preamble

    @classmethod
    def read(cls, path: Path) -> Source:
        lines = path.read_text(encoding="utf-8").splitlines()
        title, subtitle = lines[0].strip(), lines[1].strip()
        rest = lines[2:]
        preamble: list[str] = []
        i = 0
        while i < len(rest) and not heading_level(rest[i].strip()):
            if rest[i].strip():
                preamble.append(rest[i].strip())
            i += 1
        body = [ln.strip() for ln in rest[i:] if ln.strip()]
        return cls(title, subtitle, preamble, body)


@dataclass(frozen=True)
class Target:
    source: str
    output: str
    fmt: str  # pdf | docx-styles | docx-plain | html
    lang: str  # BCP-47 tag for HTML / DOCX


TARGETS: list[Target] = [
    Target("pasport-nizomi.uz-latn.txt", "pasport-nizomi.uz-latn.pdf", "pdf", "uz-Latn"),
    Target("polozhenie-zags.ru.txt", "polozhenie-zags.ru.pdf", "pdf", "ru"),
    Target("davlat-xizmatlari-nizomi-2018.uz-cyrl.txt", "davlat-xizmatlari-nizomi-2018.uz-cyrl.pdf", "pdf", "uz-Cyrl"),
    Target("tadbirkorlik-royxat.uz-cyrl.txt", "tadbirkorlik-royxat.uz-cyrl.docx", "docx-styles", "uz-Cyrl"),
    Target("social-benefits.en.txt", "social-benefits.en.docx", "docx-plain", "en"),
    Target("zakon-ob-obrashcheniyakh.ru.txt", "zakon-ob-obrashcheniyakh.ru.html", "html", "ru"),
    Target("construction-permits.en.txt", "construction-permits.en.html", "html", "en"),
]


# --------------------------------------------------------------------------------------------- PDF
def build_pdf(src: Source, out: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(PINNED)
    pdf.set_title(src.title)
    pdf.set_author("Xizmat team (CC0 sample corpus)")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_page()

    def para(text: str, size: float = 10.5, style: str = "", align: str = "J", before: float = 0) -> None:
        if before:
            pdf.ln(before)
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(0, size * 0.5, text, align=align, new_x="LMARGIN", new_y="NEXT")

    para(src.title, 12.5, "B", "C")
    para(src.subtitle, 9.5, "", "C", before=2)
    for p in src.preamble:
        para(p, before=4)
    for line in src.body:
        level = heading_level(line)
        if level == 1:
            para(line, 11.5, "B", "C", before=6)
        elif level == 2:
            para(line, 11, "B", "C", before=5)
        elif level == 3:
            para(line, 10.5, "B", "L", before=4)
        else:
            para(line, before=1.5)
    pdf.output(str(out))


# -------------------------------------------------------------------------------------------- DOCX
def build_docx(src: Source, out: Path, styled: bool) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = Document()
    props = doc.core_properties
    props.title = src.title
    props.author = "Xizmat team (CC0 sample corpus)"
    props.created = PINNED.replace(tzinfo=None)
    props.modified = PINNED.replace(tzinfo=None)
    props.last_modified_by = "Xizmat team"
    props.revision = 1

    if styled:
        doc.add_heading(src.title, level=0)
        doc.add_paragraph(src.subtitle).alignment = WD_ALIGN_PARAGRAPH.CENTER
    else:
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        r = p.add_run(src.title)
        r.bold = True
        r.font.size = Pt(13)
        doc.add_paragraph(src.subtitle).alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text in src.preamble:
        doc.add_paragraph(text)
    top = min((heading_level(ln) for ln in src.body if heading_level(ln)), default=1)
    for line in src.body:
        level = heading_level(line)
        if level and styled:
            doc.add_heading(line, level=level - top + 1)
        elif level:
            # Table-free, style-free variant: headings are ordinary paragraphs in bold.
            p = doc.add_paragraph()
            if level < 3:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.add_run(line).bold = True
        else:
            doc.add_paragraph(line)
    doc.save(str(out))
    _pin_zip_dates(out)


def _pin_zip_dates(path: Path) -> None:
    """Rewrite a DOCX (zip) with fixed member timestamps so rebuilds are byte-identical."""
    import zipfile

    with zipfile.ZipFile(path) as zin:
        members = [(info, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in members:
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            zout.writestr(fixed, data)


# -------------------------------------------------------------------------------------------- HTML
HTML_CHROME = {
    "ru": {
        "site": "Xizmat — демонстрационная правовая база",
        "nav": ["Главная", "Государственные услуги", "Законодательство", "О проекте"],
        "crumb": "Законодательство › Законы",
        "footer": "© Команда Xizmat. Демонстрационный текст, лицензия CC0. Не является официальной публикацией.",
        "heads": {1: "h2", 2: "h3", 3: "h4"},
    },
    "en": {
        "site": "Xizmat — sample legal library",
        "nav": ["Home", "Public services", "Legislation", "About"],
        "crumb": "Legislation › Regulations",
        "footer": "© The Xizmat team. Sample text, CC0 licence. Not an official publication.",
        "heads": {1: "h2", 2: "h2", 3: "h3"},
    },
}


def build_html(src: Source, out: Path, lang: str) -> None:
    chrome = HTML_CHROME[lang]
    esc = html.escape
    nav = "\n".join(f'      <li><a href="#">{esc(x)}</a></li>' for x in chrome["nav"])
    body: list[str] = [f"      <h1>{esc(src.title)}</h1>", f'      <p class="subtitle">{esc(src.subtitle)}</p>']
    body += [f'      <p class="preamble">{esc(p)}</p>' for p in src.preamble]
    for line in src.body:
        level = heading_level(line)
        if level:
            tag = chrome["heads"][level]
            cls = {1: "section", 2: "chapter", 3: "article"}[level]
            body.append(f'      <{tag} class="{cls}">{esc(line)}</{tag}>')
        else:
            body.append(f"      <p>{esc(line)}</p>")
    page = f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <title>{esc(src.title.capitalize())} | {esc(chrome['site'])}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
  <header>
    <div class="logo">{esc(chrome['site'])}</div>
    <nav>
    <ul>
{nav}
    </ul>
    </nav>
    <div class="breadcrumbs">{esc(chrome['crumb'])}</div>
  </header>
  <main>
    <article class="act">
{chr(10).join(body)}
    </article>
  </main>
  <footer>
    <p>{esc(chrome['footer'])}</p>
  </footer>
</body>
</html>
"""
    out.write_text(page, encoding="utf-8")


# ------------------------------------------------------------------------------------------ checks
def extract(path: Path) -> str:
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    if path.suffix == ".docx":
        from docx import Document

        return "\n".join(p.text for p in Document(str(path)).paragraphs)
    from html.parser import HTMLParser

    class MainText(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0
            self.parts: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "main":
                self.depth += 1

        def handle_endtag(self, tag: str) -> None:
            if tag == "main":
                self.depth -= 1
            elif self.depth and tag in {"p", "h1", "h2", "h3", "h4"}:
                self.parts.append("\n")

        def handle_data(self, data: str) -> None:
            if self.depth:
                self.parts.append(data)

    parser = MainText()
    parser.feed(path.read_text(encoding="utf-8"))
    return "".join(parser.parts)


def check(target: Target) -> list[str]:
    src = Source.read(SOURCES / target.source)
    out = ACTS / target.output
    problems: list[str] = []
    size = out.stat().st_size
    if size >= MAX_BYTES:
        problems.append(f"{size} bytes, over the {MAX_BYTES} limit")
    text = extract(out)
    lines = {re.sub(r"\s+", " ", ln).strip() for ln in text.splitlines()}
    heads = [ln for ln in src.body if heading_level(ln)]
    missing = [h for h in heads if h not in lines]
    if missing:
        problems.append(f"{len(missing)} headings not intact, e.g. {missing[:2]}")
    flat = re.sub(r"\s+", " ", text)
    for para in src.body + src.preamble:
        if re.sub(r"\s+", " ", para) not in flat:
            problems.append(f"text not found: {para[:60]!r}")
            break
    extra = ""
    if out.suffix == ".pdf":
        from pypdf import PdfReader

        extra = f", {len(PdfReader(str(out)).pages)} pages"
    elif out.suffix == ".docx":
        from docx import Document

        styles = sorted({p.style.name for p in Document(str(out)).paragraphs})
        extra = f", paragraph styles {styles}"
    status = "OK " if not problems else "BAD"
    print(f"{status} {target.output}: {size / 1024:.1f} KB, {len(heads)} headings{extra}")
    for p in problems:
        print(f"    - {p}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only verify the existing files")
    args = ap.parse_args()
    ACTS.mkdir(parents=True, exist_ok=True)
    if not args.check:
        for t in TARGETS:
            src = Source.read(SOURCES / t.source)
            out = ACTS / t.output
            if t.fmt == "pdf":
                build_pdf(src, out)
            elif t.fmt.startswith("docx"):
                build_docx(src, out, styled=t.fmt == "docx-styles")
            elif t.fmt == "html":
                build_html(src, out, t.lang)
            else:
                raise ValueError(t.fmt)
    failures = sum(bool(check(t)) for t in TARGETS)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
