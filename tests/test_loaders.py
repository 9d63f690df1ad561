"""Loaders on real files: good ones in tests/data/, bad ones in tests/data/bad/ or built in tmp_path."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ingest.loaders
from ingest.errors import IngestError
from ingest.loaders import LoadedRecords, LoadedText, LoadLimits, load_bytes, load_file, sniff_format

DATA = Path(__file__).parent / "data"


def _builders():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_test_files", DATA / "make_test_files.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_test_files", module)
    spec.loader.exec_module(module)
    return module


make = _builders()
SMALL_PAGES = LoadLimits(max_pages=2)
SMALL_UNZIP = LoadLimits(max_decompressed_bytes=2**20)

# (file, expected code or None for success, substring of the text, substrings that must not appear, limits)
CASES = [
    ("act.pdf", None, "1-modda. Oʻzbekiston Respublikasi", ["Xizmat sinov hujjati"], None),
    ("act.pdf", None, "2-модда. Ўзбекистон Республикаси", [], None),
    ("act.pdf", None, "Статья 3. Граждане", [], None),
    ("act.pdf", "too_many_pages", "3 pages", [], SMALL_PAGES),
    ("service.html", None, "Pasport olish tartibi\n1-modda.",
     ["secretScript", "color: red", "Menyu", "Footer", "Reklama", "Yashirin", "Shablon", "JavaScript yoqing",
      "Sayt sarlavhasi"], None),
    ("service.html", None, "Xizmat | Muddat\nPasport | 15 kun", [], None),
    ("regulation.docx", None, "1-modda. Oʻzbekiston", [], None),
    ("regulation.docx", None, "1) pasport nusxasi;\n2) ariza;", [], None),
    ("regulation.docx", None, "Pasport berish | 15 kun", [], None),
    ("act.txt", None, "2-модда. Ўзбекистон", [], None),
    ("service.md", None, "Pasport olish\n\nKimlar murojaat", ["#", "**", "https://"], None),
    ("bad/empty.pdf", "empty_file", "empty.pdf", [], None),
    ("bad/truncated.pdf", "invalid_pdf", "truncated.pdf", [], None),
    ("bad/header_garbage.pdf", "invalid_pdf", "header_garbage.pdf", [], None),
    ("bad/header_garbage_eof.pdf", "invalid_pdf", "header_garbage_eof.pdf", [], None),
    ("bad/no_root.pdf", "invalid_pdf", "no_root.pdf", [], None),
    ("bad/encrypted.pdf", "encrypted_pdf", "remove the password", [], None),
    ("bad/empty_password.pdf", None, "1-modda. Oʻzbekiston", [], None),
    ("bad/scanned.pdf", "no_extractable_text", "OCR", [], None),
    ("bad/pdf_named.html", None, "Статья 3. Граждане", [], None),
    ("bad/utf16_bom.html", None, "Pasport olish tartibi", ["Yashirin"], None),
    ("bad/wrong_charset_cp1251.html", None, "Статья 3. Граждане", [], None),
    ("bad/wrong_charset_utf8.html", None, "1-modda. Oʻzbekiston", [], None),
    ("bad/xxe.html", None, "1-modda. Oʻzbekiston", ["root:", "]>"], None),
    ("bad/billion_laughs.html", None, "1-modda. Oʻzbekiston", ["hahahahaha"], None),
    ("bad/entity.docx", "invalid_docx", "DTD", [], None),
    ("bad/dotdot.docx", "invalid_docx", "unsafe member name", [], None),
    ("bad/not_a_zip.docx", "invalid_docx", "not a valid DOCX", [], None),
    ("bad/ole_encrypted.docx", "encrypted_docx", "password", [], None),
    ("bad/no_document_xml.docx", "unsupported_type", "no_document_xml.docx", [], None),
    ("bad/random.txt", "not_text", "binary", [], None),
    ("bad/cp1251.txt", None, "Статья 3. Граждане", [], None),
    ("bad/nul_bidi.txt", None, "beriladi.\nСтатья 3.", ["\x00", "\u202e", "\u200b", "\ufeff"], None),
    ("bad/whitespace.txt", "no_extractable_text", "whitespace.txt", [], None),
    ("bad/bad_line.jsonl", "invalid_json", "line 3", [], None),
    ("bad/not_object.json", "invalid_json", "record 2", [], None),
    ("bad/nan.json", "invalid_json", "NaN", [], None),
]


@pytest.mark.parametrize(("relative", "code", "expected", "forbidden", "limits"), CASES)
def test_load_file_table(
    relative: str, code: str | None, expected: str, forbidden: list[str], limits: LoadLimits | None
) -> None:
    path = DATA / relative
    if code is not None:
        with pytest.raises(IngestError) as caught:
            load_file(path, limits=limits or LoadLimits())
        assert caught.value.code == code
        assert expected in caught.value.message
        assert path.name in caught.value.message
        return
    loaded = load_file(path, limits=limits or LoadLimits())
    assert isinstance(loaded, LoadedText)
    assert expected in loaded.text
    for text in forbidden:
        assert text not in loaded.text


# Built at test time: bombs and huge inputs are not committed.
GENERATED = [
    ("bomb.pdf", lambda: make.build_flate_bomb_pdf(30 * 2**20), "decompression_limit", SMALL_UNZIP),
    pytest.param(  # 4 s and 500 MB of RAM: the same bomb against the default 200 MiB limit
        "bomb_default.pdf", lambda: make.build_flate_bomb_pdf(260 * 2**20), "decompression_limit", None,
        marks=[pytest.mark.slow, pytest.mark.skipif(not os.environ.get("XIZMAT_LONG_TESTS"), reason="long")],
    ),
    ("bomb.docx", lambda: make.build_docx_bomb(20 * 2**20), "decompression_limit", None),
    ("bomb_total.docx", lambda: make.build_docx_bomb(2**20), "decompression_limit", SMALL_UNZIP),
    ("deep.html", lambda: make.build_deep_html(100_000), "invalid_html", None),
    ("big.txt", lambda: b"a" * 2048, "file_too_large", LoadLimits(max_file_bytes=1024)),
]


@pytest.mark.parametrize(("name", "build", "code", "limits"), GENERATED)
def test_generated_bad_inputs(  # type: ignore[no-untyped-def]
    name: str, build, code: str, limits: LoadLimits | None, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(build())
    with pytest.raises(IngestError) as caught:
        load_file(path, limits=limits or LoadLimits())
    assert caught.value.code == code
    assert name in caught.value.message
    assert str(tmp_path) not in caught.value.message  # names only, never paths


def test_moderately_deep_html_is_read(tmp_path: Path) -> None:
    loaded = load_bytes(make.build_deep_html(1000), name="deep.html")
    assert isinstance(loaded, LoadedText) and loaded.text.endswith("deep")


def test_dotdot_docx_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path / "..")
    before = set(tmp_path.parent.parent.iterdir())
    with pytest.raises(IngestError):
        load_file(DATA / "bad" / "dotdot.docx")
    assert set(tmp_path.parent.parent.iterdir()) == before


def test_metadata() -> None:
    pdf = load_file(DATA / "act.pdf")
    html = load_file(DATA / "service.html")
    docx = load_file(DATA / "regulation.docx")
    utf16 = load_file(DATA / "bad" / "utf16_bom.html")
    md = load_file(DATA / "service.md")
    assert isinstance(pdf, LoadedText) and (pdf.format, pdf.pages) == ("pdf", 3)
    assert pdf.title == "Davlat xizmatlari toʻgʻrisida"
    assert isinstance(html, LoadedText) and (html.format, html.lang_hint) == ("html", "uz")
    assert html.title == "Pasport olish — Davlat xizmatlari"
    assert isinstance(docx, LoadedText) and docx.lang_hint == "uz"
    assert docx.title == "Davlat xizmatlari reglamenti"
    assert isinstance(utf16, LoadedText) and utf16.replacement_chars == 0
    assert isinstance(md, LoadedText) and (md.format, md.title) == ("markdown", "Pasport olish")


def test_pdf_page_numbers_and_running_header_are_stripped() -> None:
    loaded = load_file(DATA / "act.pdf")
    assert isinstance(loaded, LoadedText)
    lines = loaded.text.split("\n")
    assert not any(line.strip().isdigit() for line in lines)
    assert lines[0].startswith("1-modda.")


def test_replacement_characters_are_counted() -> None:
    data = ("<html><body><p>" + make.UZ_LATIN + "</p></body></html>").encode() + b"\xff\xfe\xfa"
    loaded = load_bytes(data.replace(b"<p>", b"<p>\x81\x98", 1), name="mixed.html")
    assert isinstance(loaded, LoadedText) and loaded.replacement_chars > 0


def test_records() -> None:
    records = load_file(DATA / "services.json")
    lines = load_file(DATA / "chunks.jsonl")
    assert isinstance(records, LoadedRecords) and records.format == "json"
    assert records.records[1]["lang"] == "ru"
    assert isinstance(lines, LoadedRecords) and [r["id"] for r in lines.records] == ["a1", "a2", "a3"]


def test_json_depth_limit() -> None:
    deep = b'{"a": ' * 100 + b"1" + b"}" * 100
    with pytest.raises(IngestError) as caught:
        load_bytes(deep, name="deep.json")
    assert caught.value.code == "invalid_json" and "levels deep" in caught.value.message
    very_deep = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(IngestError) as caught:
        load_bytes(very_deep, name="deeper.json")
    assert caught.value.code == "invalid_json"


SNIFF = [
    (b"%PDF-1.7\n...", "notes.html", "pdf"),
    (b"PK\x03\x04garbage", "x.docx", "docx"),
    ((DATA / "bad" / "no_document_xml.docx").read_bytes(), "x.docx", "unsupported"),
    ((DATA / "regulation.docx").read_bytes(), "upload.bin", "docx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old.doc", "unsupported"),
    (b"\xff\xfe" + "<html>".encode("utf-16-le"), "x.txt", "html"),
    (b"\xef\xbb\xbf<!DOCTYPE html><html>", "page", "html"),
    (b"  <!doctype html>", "x.txt", "html"),
    (b"<b>bold</b> in markdown", "x.md", "markdown"),
    (b'[{"a": 1}]', "x", "json"),
    (b'{"a": 1}\n{"a": 2}\n', "x", "jsonl"),
    (b'{"a": 1}\n{"a": 2}\n', "x.json", "json"),
    (b"# Sarlavha", "x.md", "markdown"),
    (b"oddiy matn", "x", "text"),
    (b"\x00\x01\x02binary", "x", "unsupported"),
]


@pytest.mark.parametrize(("data", "name", "expected"), SNIFF)
def test_sniff_format(data: bytes, name: str, expected: str) -> None:
    assert sniff_format(data, name) == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=2000),
        st.binary(max_size=2000).map(lambda tail: b"%PDF-1.4\n" + tail + b"\n%%EOF"),
        st.binary(max_size=2000).map(lambda tail: b"PK\x03\x04" + tail),
        st.text(max_size=500).map(lambda text: ("<html><body>" + text).encode()),
    ),
    suffix=st.sampled_from([".pdf", ".html", ".docx", ".txt", ".md", ".json", ".jsonl", ""]),
)
def test_any_bytes_load_or_raise_ingest_error(data: bytes, suffix: str) -> None:
    try:
        loaded = load_bytes(data, name="fuzz" + suffix)
    except IngestError as exc:
        assert exc.code in {"empty_file", "not_text", "invalid_pdf", "encrypted_pdf", "no_extractable_text",
                            "decompression_limit", "unsupported_type", "invalid_docx", "encrypted_docx",
                            "invalid_html", "invalid_json"}
    else:
        assert isinstance(loaded, (LoadedText, LoadedRecords))


def test_public_surface() -> None:
    assert sorted(ingest.loaders.__all__) == sorted(
        ["FORMATS", "LoadLimits", "LoadedRecords", "LoadedText", "load_bytes", "load_file", "sniff_format"]
    )


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as caught:
        load_file(tmp_path / "nowhere.pdf")
    assert "nowhere.pdf" in caught.value.message and str(tmp_path) not in caught.value.message


PATHOLOGICAL = [
    ("bold.md", b"**x " * 250_000),
    ("brackets.md", b"[" * 1_000_000),
    ("links.md", b"[a](" * 250_000),
    ("doctypes.html", b"<!DOCTYPE [" * 100_000),
    ("blank_lines.txt", b"\n" * 1_000_000 + b"1-modda. " * 10),
    ("one_line.txt", b"1-modda. " + b"a" * 1_000_000),
]


@pytest.mark.parametrize(("name", "data"), PATHOLOGICAL)
def test_pathological_lines_take_linear_time(name: str, data: bytes) -> None:
    started = time.monotonic()
    try:
        load_bytes(data, name=name)
    except IngestError as exc:
        assert exc.code == "no_extractable_text"
    assert time.monotonic() - started < 3.0
