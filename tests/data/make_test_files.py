"""Build the loader test files: ``python tests/data/make_test_files.py`` rewrites tests/data/ and bad/.

Bombs and very large inputs are not written here; the tests build them in a temporary folder with the
``build_*`` functions below, so the repository stays small.
"""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

UZ_LATIN = ("1-modda. Oʻzbekiston Respublikasi fuqarolari davlat xizmatlaridan foydalanish huquqiga ega. "
            "Ariza elektron shaklda yoki bevosita davlat xizmatlari markaziga beriladi.")
UZ_CYRILLIC = ("2-модда. Ўзбекистон Республикаси фуқаролари давлат хизматларидан фойдаланиш ҳуқуқига эга. "
               "Ариза ўн беш кун ичида кўриб чиқилади.")
RUSSIAN = ("Статья 3. Граждане Республики Узбекистан имеют право на получение государственных услуг. "
           "Заявление рассматривается в течение пятнадцати дней.")
POINTS = "1) pasport nusxasi;\n2) ariza;\n3) davlat boji toʻlanganligi toʻgʻrisidagi kvitansiya."


def build_pdf(pages: int = 3) -> bytes:
    """A real multi-page PDF with a running header and page numbers, in three languages."""
    from fpdf import FPDF

    class Act(FPDF):
        def header(self) -> None:
            self.set_font("DejaVu", size=9)
            self.cell(0, 8, "Xizmat sinov hujjati — Qonun hujjatlari", align="C")
            self.ln(12)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("DejaVu", size=9)
            self.cell(0, 8, str(self.page_no()), align="C")

    pdf = Act()
    pdf.add_font("DejaVu", fname=FONT)
    pdf.set_title("Davlat xizmatlari toʻgʻrisida")
    bodies = [UZ_LATIN + "\n" + POINTS, UZ_CYRILLIC, RUSSIAN]
    for number in range(pages):
        pdf.add_page()
        pdf.set_font("DejaVu", size=12)
        pdf.multi_cell(0, 8, bodies[number % 3])
    return bytes(pdf.output())


def build_scanned_pdf() -> bytes:
    """One page holding only an image: no text layer, as from a scanner."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("L", (400, 120), 255)
    ImageDraw.Draw(image).text((10, 50), "1-modda. Skaner qilingan matn", fill=0)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=180)
    return bytes(pdf.output())


def build_encrypted_pdf(user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(build_pdf())))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raw_pdf(objects: list[bytes], *, root: bool = True) -> bytes:
    """Assemble numbered objects into a PDF with a correct xref table (object 1 is the catalog)."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"/Root 1 0 R " if root else b""
    out += b"trailer\n<< /Size %d %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def build_flate_bomb_pdf(expanded_bytes: int) -> bytes:
    """A one-page PDF whose content stream inflates to ``expanded_bytes`` of spaces."""
    packed = zlib.compress(b" " * expanded_bytes, 9)
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream",
    ])


def build_docx() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = "Davlat xizmatlari reglamenti"
    document.core_properties.language = "uz"
    document.add_heading("Davlat xizmatlari reglamenti", level=1)
    for paragraph in [UZ_LATIN, *POINTS.split("\n"), UZ_CYRILLIC, RUSSIAN]:
        document.add_paragraph(paragraph)
    table = document.add_table(rows=2, cols=2)
    for row, (left, right) in zip(table.rows, [("Xizmat", "Muddat"), ("Pasport berish", "15 kun")]):
        row.cells[0].text, row.cells[1].text = left, right
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def rewrite_zip(
    data: bytes, *, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None
) -> bytes:
    """Copy a zip, replacing or adding members (names are written exactly as given)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, (replace or {}).get(info.filename, source.read(info)))
        for name, content in (add or {}).items():
            target.writestr(zipfile.ZipInfo(name), content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def build_docx_bomb(expanded_bytes: int) -> bytes:
    return rewrite_zip(build_docx(), add={"word/media/bomb.bin": b"\0" * expanded_bytes})


def build_docx_with_entity() -> bytes:
    with zipfile.ZipFile(io.BytesIO(build_docx())) as source:
        xml = source.read("word/document.xml")
    doctype = b'<!DOCTYPE w:document [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    head, rest = xml.split(b"?>", 1)
    xml = head + b"?>" + doctype + rest.replace(b"1-modda.", b"1-modda. &e;", 1)
    return rewrite_zip(build_docx(), replace={"word/document.xml": xml})


HTML = """<!DOCTYPE html>
<html lang="uz">
<head><meta charset="utf-8"><title>Pasport olish — Davlat xizmatlari</title>
<style>p { color: red } .secret-style { }</style>
<script>var secretScript = "must not be indexed";</script></head>
<body>
<header>Sayt sarlavhasi</header>
<nav><a href="/">Bosh sahifa</a> | <a href="/x">Menyu havolasi</a></nav>
<main>
<h1>Pasport olish tartibi</h1>
<p>{uz}</p>
<ol><li>1) pasport nusxasi;</li><li>2) ariza;</li></ol>
<div hidden>Yashirin matn hidden</div>
<div style="display: none">Yashirin matn display</div>
<span aria-hidden="true">Yashirin matn aria</span>
<template><p>Shablon matni</p></template>
<p>{ru}</p>
<table><tr><th>Xizmat</th><th>Muddat</th></tr><tr><td>Pasport</td><td>15 kun</td></tr></table>
</main>
<aside>Reklama bloki</aside>
<footer>© 2025 Footer matni</footer>
<noscript>JavaScript yoqing</noscript>
</body></html>
""".replace("{uz}", UZ_LATIN).replace("{ru}", RUSSIAN)

BODY = f"<p>{UZ_LATIN}</p><p>{RUSSIAN}</p>"
XXE_HTML = ('<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
            f"<html><body><p>Fayl: &e;</p>{BODY}</body></html>")
LAUGHS_HTML = ('<!DOCTYPE html [<!ENTITY a "hahahahaha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
               '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
               f"<html><body><p>&d;&d;&d;</p>{BODY}</body></html>")


def page(charset: str, body: str) -> str:
    return f'<html><head><meta charset="{charset}"></head><body>{body}</body></html>'


def build_deep_html(depth: int) -> bytes:
    return (b"<html><body><p>" + UZ_LATIN.encode() + b"</p>" + b"<div>" * depth + b"deep"
            + b"</div>" * depth + b"</body></html>")


def files() -> dict[str, bytes]:
    """Every committed test file, by path relative to tests/data/."""
    rng = random.Random(20250101)
    pdf = build_pdf()
    json_records = ('[{"id": "pasport", "title": "Pasport olish", "lang": "uz"},\n'
                    ' {"id": "passport-ru", "title": "Получение паспорта", "lang": "ru"}]\n')
    jsonl = "\n".join([
        '{"id": "a1", "text": "1-modda. Oʻzbekiston"}', '{"id": "a2", "text": "Статья 2. Граждане"}', "",
        '{"id": "a3", "text": "2-модда. Ўзбекистон"}',
    ]) + "\n"
    return {
        "act.pdf": pdf,
        "service.html": HTML.encode(),
        "regulation.docx": build_docx(),
        "act.txt": f"{UZ_LATIN}\n{POINTS}\n{UZ_CYRILLIC}\n{RUSSIAN}\n".encode(),
        "service.md": f"# Pasport olish\n\n## Kimlar murojaat qilishi mumkin\n\n{UZ_LATIN}\n\n**{RUSSIAN}**\n"
                      "\nBatafsil: [my.gov.uz](https://my.gov.uz)\n".encode(),
        "services.json": json_records.encode(),
        "chunks.jsonl": jsonl.encode(),
        "bad/empty.pdf": b"",
        "bad/truncated.pdf": pdf[: len(pdf) // 2],
        "bad/header_garbage.pdf": b"%PDF-1.7\n" + rng.randbytes(3000),
        "bad/header_garbage_eof.pdf": b"%PDF-1.7\n" + rng.randbytes(3000) + b"\n%%EOF\n",
        "bad/no_root.pdf": raw_pdf([b"<< /Type /Pages /Kids [] /Count 0 >>"], root=False),
        "bad/encrypted.pdf": build_encrypted_pdf("secret"),
        "bad/empty_password.pdf": build_encrypted_pdf(""),
        "bad/scanned.pdf": build_scanned_pdf(),
        "bad/pdf_named.html": pdf,
        "bad/utf16_bom.html": b"\xff\xfe" + HTML.replace('"utf-8"', '"utf-16"').encode("utf-16-le"),
        "bad/wrong_charset_cp1251.html": page("utf-8", f"<p>{RUSSIAN}</p>").encode("cp1251"),
        "bad/wrong_charset_utf8.html": page("windows-1251", BODY).encode(),
        "bad/xxe.html": XXE_HTML.encode(),
        "bad/billion_laughs.html": LAUGHS_HTML.encode(),
        "bad/entity.docx": build_docx_with_entity(),
        "bad/dotdot.docx": rewrite_zip(build_docx(), add={"../../evil.txt": b"x", "/abs/evil.txt": b"x"}),
        "bad/not_a_zip.docx": b"This is plain text with a .docx name, not a zip archive at all.\n",
        "bad/ole_encrypted.docx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024),
        "bad/no_document_xml.docx": build_docx().replace(b"word/document.xml", b"word/documenx.xml"),
        "bad/random.txt": rng.randbytes(2048),
        "bad/cp1251.txt": f"{RUSSIAN}\n{RUSSIAN.replace('Статья 3', 'Статья 4')}\n".encode("cp1251"),
        "bad/nul_bidi.txt": f"{UZ_LATIN}\u202e\u200b\x00\n{RUSSIAN}\ufeff\n".encode(),
        "bad/bad_line.jsonl": b'{"id": "a1"}\n{"id": "a2"}\n{"id": "a3",, }\n{"id": "a4"}\n',
        "bad/not_object.json": b'[{"id": "a1"}, 42]\n',
        "bad/nan.json": b'{"id": "a1", "score": NaN}\n',
        "bad/whitespace.txt": b" \n\t\n   \n",
    }


def main() -> None:
    for relative, content in files().items():
        target = HERE / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        print(f"{relative}: {len(content)} bytes")


if __name__ == "__main__":
    main()
