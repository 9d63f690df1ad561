"""R6: every item of the bad-input table of ../shared/RELIABILITY.md, then invariants I1–I6 and the
API's memory growth over the whole table.

The API runs as a real uvicorn subprocess on a copy of the sample index (tests/api_server.py). Rows
go through it wherever the table names an API behaviour: admin upload → task state and error code,
or a request → status and error code. Rows about what a loader keeps or drops (the document would
be accepted) are checked on the loader, in the sandbox, so the served index stays unchanged until
the accepted-uploads phase at the end. Long variants run with XIZMAT_LONG_TESTS=1.
"""

from __future__ import annotations

import concurrent.futures
import functools
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from ingest.errors import IngestError
from ingest.loaders import LoadedText, LoadLimits, load_bytes
from ingest.sandbox import SandboxLimits, run_in_sandbox
from tests.api_server import ApiServer, start_server
from tests.conftest import TEST_DATA
from tests.hostile_inputs import (
    BODY, chained_bomb_pdf, docx_with, flate_bomb_pdf, lzw_bomb_pdf, make, many_pages_pdf, rle_bomb_pdf, text_pdf,
    zip_bytes,
)

LONG = bool(os.environ.get("XIZMAT_LONG_TESTS"))
ADMIN = "admin-key-bad-inputs-0123456789"
AGENT = "agent-key-bad-inputs-0123456789"
ORIGIN = "https://xizmat.example.uz"
AS_ADMIN = {"Authorization": f"Bearer {ADMIN}"}
AS_AGENT = {"Authorization": f"Bearer {AGENT}"}
UPLOAD_LIMIT = 16 * 2**20  # XIZMAT_MAX_UPLOAD_BYTES of the test server
SMALL_UNZIP = LoadLimits(max_decompressed_bytes=2**20)
GOLDEN = ["pensiya", "murojaat qancha muddatda koʻrib chiqiladi", "статья 15", "pasport olish",
          "yer uchastkasi", "обращение граждан", "15¹-modda"]
# What must never appear in a response body (I4): tracebacks, paths, SQL, library names, keys.
LEAKS = ("Traceback", 'File "', "/work/", "/tmp/", "/home/", ".py", "sqlite", "SELECT ", "INSERT ", "pypdf",
         "lxml", "starlette", "fastapi", "uvicorn", "zipfile", "docx.", ADMIN, AGENT)

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(scope="module")
def server(sample_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    env = {"XIZMAT_ADMIN_KEYS": ADMIN, "XIZMAT_AGENT_KEYS": AGENT, "XIZMAT_RATE_LIMIT_PER_MINUTE": "0",
           "XIZMAT_AUTH_FAILURES_PER_MINUTE": "0", "XIZMAT_CORS_ORIGINS": ORIGIN,
           "XIZMAT_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)}
    running = start_server(sample_index, tmp_path_factory.mktemp("bad-inputs"), env)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=120) as http:
        yield http


def golden_ids(client: httpx.Client) -> list[list[Any]]:
    answers = []
    for query in GOLDEN:
        body = client.get("/v1/search", params={"q": query}).json()
        answers.append([(g["id"], [p["chunk_id"] for p in g["passages"]]) for g in body["groups"]])
    return answers


@pytest.fixture(scope="module")
def baseline(server: ApiServer, client: httpx.Client) -> dict[str, Any]:
    """Taken before any row: golden answers, the served generation, and memory after a warm-up."""
    for _ in range(3):
        golden = golden_ids(client)
    ready = client.get("/readyz").json()
    return {"golden": golden, "generation": ready["generation"], "documents": ready["documents"],
            "rss": server.rss_bytes(), "task_ids": []}


def assert_clean(text: str) -> None:
    """I4: no traceback, path, SQL, library name or key in a response body."""
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} leaked into a response: {text[:300]}"


def error_of(response: httpx.Response) -> tuple[int, str]:
    assert_clean(response.text)
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "request_id"}, body
    assert body["error"]["message"] and body["error"]["request_id"]
    return response.status_code, str(body["error"]["code"])


def wait_for_task(client: httpx.Client, task_id: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/admin/tasks/{task_id}", headers=AS_ADMIN)
        body = response.json()
        if body["state"] in ("succeeded", "failed"):
            assert_clean(response.text)
            return body  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish in {timeout} s")


def upload(client: httpx.Client, *files: tuple[str, bytes, str]) -> list[str]:
    response = client.post("/v1/admin/documents", headers=AS_ADMIN,
                           files=[("file", (name, data, ctype)) for name, data, ctype in files])
    assert response.status_code == 202, response.text
    return list(response.json()["task_ids"])


def bad(name: str) -> Callable[[], bytes]:
    return lambda: (TEST_DATA / "bad" / name).read_bytes()


def _header_garbage() -> bytes:
    return b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def _inline_image() -> bytes:
    return text_pdf(ops=b"BT /F1 12 Tf 72 700 Td (" + BODY + b") Tj ET BI /W 100 /H 100 /BPC 8 /CS /G ID " + b"\0" * 64)


def _broken_startxref() -> bytes:
    good = text_pdf()
    return good[: good.rfind(b"startxref")] + b"startxref\nabc\n%%EOF\n"


def _xref_loop() -> bytes:
    return (b"%PDF-1.5\n1 0 obj\n<< /Type /XRef /Size 2 /W [1 2 1] /Prev 9 /Length 0 >>\nstream\n\nendstream\n"
            b"endobj\nstartxref\n9\n%%EOF\n")


def _huge_length() -> bytes:
    good = text_pdf()
    start = good.index(b"4 0 obj\n<< /Length ") + len(b"4 0 obj\n<< /Length ")
    end = good.index(b" ", start)
    return good[:start] + b"999999999999".rjust(end - start) + good[end:]


# -- 1. uploads the API must refuse: admin upload → 202, then the task fails with the code -------------

UPLOAD_ROWS = [
    # PDF
    pytest.param("bomb.pdf", lambda: flate_bomb_pdf(210 * 2**20), "decompression_limit", id="pdf-flate-bomb-210MiB",
                 marks=[pytest.mark.slow, pytest.mark.skipif(not LONG, reason="long: XIZMAT_LONG_TESTS=1")]),
    pytest.param("xref-loop.pdf", _xref_loop, "invalid_pdf", id="pdf-circular-xref-chain"),
    pytest.param("inline.pdf", _inline_image, "invalid_pdf", id="pdf-unterminated-inline-image"),
    pytest.param("startxref.pdf", _broken_startxref, "invalid_pdf", id="pdf-malformed-startxref"),
    pytest.param("length.pdf", _huge_length, "invalid_pdf", id="pdf-huge-length"),
    pytest.param("no-root.pdf", bad("no_root.pdf"), "invalid_pdf", id="pdf-missing-root"),
    pytest.param("truncated.pdf", bad("truncated.pdf"), "invalid_pdf", id="pdf-truncated"),
    pytest.param("zero.pdf", lambda: b"", "empty_file", id="pdf-zero-bytes"),
    pytest.param("garbage.pdf", _header_garbage, "invalid_pdf", id="pdf-header-then-garbage"),
    pytest.param("encrypted.pdf", bad("encrypted.pdf"), "encrypted_pdf", id="pdf-encrypted"),
    pytest.param("scanned.pdf", bad("scanned.pdf"), "no_extractable_text", id="pdf-scanned-no-text"),
    pytest.param("pages.pdf", lambda: many_pages_pdf(5000), "too_many_pages", id="pdf-5000-pages"),
    # HTML
    pytest.param("deep.html", lambda: make.build_deep_html(100_000), "invalid_html", id="html-100000-deep"),
    pytest.param("zip.html", lambda: zip_bytes({"a.txt": BODY}), "unsupported_type", id="html-named-zip-sniffed"),
    # Text
    pytest.param("random.txt", bad("random.txt"), "not_text", id="text-random-bytes"),
    pytest.param("digits.txt", lambda: b"12 345 6789 " * 20, "no_extractable_text", id="text-digits-only-no-articles"),
    pytest.param("blank.txt", lambda: b"\n" * 1_000_000, "no_extractable_text", id="text-million-empty-lines"),
    # DOCX
    pytest.param("bomb.docx", lambda: make.build_docx_bomb(20 * 2**20), "decompression_limit", id="docx-zip-bomb"),
    pytest.param("entity.docx", bad("entity.docx"), "invalid_docx", id="docx-entities"),
    pytest.param("dotdot.docx", bad("dotdot.docx"), "invalid_docx", id="docx-dotdot-member"),
    pytest.param("ole.docx", bad("ole_encrypted.docx"), "encrypted_docx", id="docx-encrypted"),
    # Upload: the declared type is ignored, magic bytes decide (a DOCX bomb sent as text/plain .txt)
    pytest.param("notes.txt", lambda: make.build_docx_bomb(20 * 2**20), "decompression_limit",
                 id="upload-wrong-content-type"),
]


@pytest.mark.parametrize(("name", "build", "code"), UPLOAD_ROWS)
def test_rejected_upload(
    client: httpx.Client, baseline: dict[str, Any], name: str, build: Callable[[], bytes], code: str
) -> None:
    ctype = "text/plain" if name.endswith(".txt") else "application/octet-stream"
    started = time.monotonic()
    (task_id,) = upload(client, (name, build(), ctype))
    baseline["task_ids"].append(task_id)
    task = wait_for_task(client, task_id)
    assert (task["state"], task["error"]["code"]) == ("failed", code), task
    assert name in task["error"]["message"], task  # the client's own file name, never the server's path
    assert time.monotonic() - started < 60


# -- 2. what loaders keep and drop (accepted documents; checked in the sandbox) -------------------------

def _js_attachment_pdf() -> bytes:
    catalog = (b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R "
               b"/Names << /EmbeddedFiles << /Names [(secret.txt) 7 0 R] >> >> >>")
    return text_pdf(catalog=catalog, more=(
        b"<< /S /JavaScript /JS (app.alert('JSMARKER');) >>",
        b"<< /Type /Filespec /F (secret.txt) /EF << /F 8 0 R >> >>",
        b"<< /Length 27 >>\nstream\nATTACHMARKER attached text\nendstream",
    ))


def _circular_prev() -> bytes:
    good = text_pdf()
    return good.replace(b"trailer\n<< ", b"trailer\n<< /Prev %d " % good.rfind(b"xref\n0"))


def _cyclic_outlines() -> bytes:
    return text_pdf(catalog=b"<< /Type /Catalog /Pages 2 0 R /Outlines 6 0 R >>", more=(
        b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>",
        b"<< /Title (a) /Parent 6 0 R /Next 7 0 R /Prev 7 0 R /First 7 0 R >>",
    ))


def _wrong_startxref() -> bytes:
    good = text_pdf()
    return good[: good.rfind(b"startxref")] + b"startxref\n99999999\n%%EOF\n"


XXE = (b'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]><html><body>'
       b"<p>&x; " + BODY + b"</p></body></html>")
LAUGHS = (b'<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
          + b"".join(b'<!ENTITY %c "%s">' % (c, b"&%c;" % (c - 1) * 10) for c in range(ord("c"), ord("j")))
          + b"]><html><body><p>&i; " + BODY + b"</p></body></html>")
HIDDEN = (b"<html><head><style>.x{color:red}</style><script>SCRIPTMARKER()</script></head><body><main><p>1-modda. "
          + BODY + b"</p><template>TEMPLATEMARKER</template><div hidden>HIDDENMARKER</div>"
          b'<p style="display:none">STYLEHIDDENMARKER</p><noscript>NOSCRIPTMARKER</noscript></main></body></html>')
UTF16 = "\ufeff<html><body><p>Статья 3. Граждане имеют право на получение государственных услуг.</p></body></html>"


def _utf16_with_lone_surrogate() -> bytes:
    data = UTF16.encode("utf-16-le")
    return data.replace("3.".encode("utf-16-le"), "3.".encode("utf-16-le") + b"\x00\xd8", 1)


def _docx_nested_and_macro() -> bytes:
    inner = zip_bytes({"word/document.xml": b"<w:document>NESTEDMARKER</w:document>"})
    return docx_with(word__embeddings__inner__docx=inner, word__vbaProject__bin=b"MACROMARKER Sub AutoOpen()")


# (input, bytes, limits, expected code or None when it loads, text that must appear, texts that must not)
LOADER_ROWS = [
    pytest.param("lzw.pdf", lambda: lzw_bomb_pdf(3 * 2**19), SMALL_UNZIP, "decompression_limit", "", (),
                 id="pdf-lzw-bomb"),
    pytest.param("rle.pdf", lambda: rle_bomb_pdf(30 * 2**20), SMALL_UNZIP, "decompression_limit", "", (),
                 id="pdf-runlength-bomb"),
    pytest.param("chained.pdf", lambda: chained_bomb_pdf(30 * 2**20), SMALL_UNZIP, "decompression_limit", "", (),
                 id="pdf-chained-filters-bomb"),
    pytest.param("flate.pdf", lambda: flate_bomb_pdf(30 * 2**20), SMALL_UNZIP, "decompression_limit", "", (),
                 id="pdf-flate-bomb-small-limit"),
    # Damage pypdf can repair in bounded time: the text layer is read and nothing else.
    pytest.param("prev.pdf", _circular_prev, None, None, "Fuqarolar davlat", (), id="pdf-circular-prev-repaired"),
    pytest.param("outlines.pdf", _cyclic_outlines, None, None, "Fuqarolar davlat", (), id="pdf-cyclic-outlines"),
    pytest.param("offset.pdf", _wrong_startxref, None, None, "Fuqarolar davlat", (), id="pdf-wrong-startxref-repaired"),
    pytest.param("js.pdf", _js_attachment_pdf, None, None, "Fuqarolar davlat", ("JSMARKER", "ATTACHMARKER", "app.alert"),
                 id="pdf-javascript-attachment"),
    # Invisible text (render mode 3) is the text layer of OCR'd scans: it is read, like any text.
    pytest.param("invisible.pdf", lambda: text_pdf(ops=b"BT /F1 12 Tf 3 Tr 72 700 Td (" + BODY + b") Tj ET"),
                 None, None, "Fuqarolar davlat", (), id="pdf-invisible-text"),
    pytest.param("pdf.html", bad("pdf_named.html"), None, None, "Статья 3. Граждане", (), id="html-named-pdf-sniffed"),
    pytest.param("xxe.html", lambda: XXE, None, None, "Fuqarolar davlat", ("root:", "/bin/", "]>"), id="html-xxe"),
    pytest.param("laughs.html", lambda: LAUGHS, None, None, "Fuqarolar davlat", ("aaaaaaaaaa",),
                 id="html-entity-expansion"),
    pytest.param("hidden.html", lambda: HIDDEN, None, None, "Fuqarolar davlat",
                 ("SCRIPTMARKER", "color:red", "TEMPLATEMARKER", "HIDDENMARKER", "STYLEHIDDENMARKER", "NOSCRIPTMARKER"),
                 id="html-script-style-template-hidden"),
    pytest.param("charset.html", bad("wrong_charset_cp1251.html"), None, None, "Статья 3. Граждане", (),
                 id="html-wrong-declared-charset"),
    pytest.param("utf16.html", _utf16_with_lone_surrogate, None, None, "Статья 3.", ("\x00",), id="html-utf16-bom"),
    pytest.param("controls.txt", lambda: ("1-modda. Fuqarolar\x00 davlat\u202e xizmat\u200blaridan \u2066foydalanish "
                                          "huquqiga ega.\u200d Ariza beriladi. ").encode() + BODY * 3 + b"\xed\xa0\x80",
                 None, None, "1-modda. Fuqarolar davlat xizmatlaridan foydalanish",
                 ("\x00", "\u202e", "\u200b", "\u2066", "\u200d", "\ud800"), id="text-nul-surrogate-bidi-zero-width"),
    pytest.param("nested.docx", _docx_nested_and_macro, None, None, "1-modda. Oʻzbekiston", ("NESTEDMARKER", "MACROMARKER"),
                 id="docx-nested-archive-and-macro"),
]


@pytest.mark.parametrize(("name", "build", "limits", "code", "present", "absent"), LOADER_ROWS)
def test_loader_row(
    name: str, build: Callable[[], bytes], limits: LoadLimits | None, code: str | None, present: str,
    absent: tuple[str, ...],
) -> None:
    data = build()
    started = time.monotonic()
    sandbox = SandboxLimits(memory_bytes=512 * 2**20, cpu_seconds=10, wall_seconds=20)
    if code is not None:
        with pytest.raises(IngestError) as caught:
            run_in_sandbox(functools.partial(load_bytes, name=name, limits=limits or LoadLimits()), data,
                           limits=sandbox)
        assert caught.value.code == code and name in caught.value.message
    else:
        loaded = run_in_sandbox(functools.partial(load_bytes, name=name, limits=limits or LoadLimits()), data,
                           limits=sandbox)
        assert isinstance(loaded, LoadedText)
        assert present in loaded.text
        for text in absent:
            assert text not in loaded.text, text
        if name == "utf16.html":
            assert loaded.replacement_chars >= 1  # the lone surrogate is replaced and counted
    assert time.monotonic() - started < 10


def test_text_pipeline_rows() -> None:
    """5 MB line against the splitting regexes (linear), digits-only text (``und``), a million empty lines
    (no empty chunks): load, structure and chunking, each in bounded time."""
    from ingest.chunking import chunk_document
    from ingest.documents import documents_from_loaded
    from ingest.langid import detect_language

    size = 5 * 2**20 if LONG else 2**20  # the full 5 MB line under XIZMAT_LONG_TESTS=1
    for name, data in (("line.txt", b"1-modda. " + b"a) 1. " * (size // 6)), ("dots.txt", b"1-modda. " + b"1." * (size // 2))):
        started = time.monotonic()
        try:
            docs = documents_from_loaded(load_bytes(data, name=name), path=Path(name), entry=None)
            assert docs
        except IngestError as exc:
            assert exc.code == "no_extractable_text"
        assert time.monotonic() - started < 10, name
    assert detect_language("12 345 6789 " * 20).tag == "und"
    blank = b"\n" * 1_000_000 + ("1-modda. " + BODY.decode() + "\n").encode() * 3 + b"\n" * 1_000_000
    started = time.monotonic()
    (doc,) = documents_from_loaded(load_bytes(blank, name="b.txt"), path=Path("b.txt"), entry=None)
    chunks = chunk_document(doc, count_tokens=lambda text: len(text.split()), max_tokens=64)
    assert chunks and all(chunk.text.strip() for chunk in chunks)
    assert time.monotonic() - started < 10


# -- 3. upload requests refused before buffering -------------------------------------------------------

def raw_request(server: ApiServer, data: bytes, *, read_timeout: float = 30.0) -> tuple[int, bytes]:
    """Send bytes on a socket; the status and body of the answer (the server may close early)."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.find(b"\r\n\r\n") + 4 + _length(answer):
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


def _length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def _multipart(parts: int, *, files: bool = True) -> bytes:
    disposition = b'name="file"; filename="a%d.txt"' if files else b'name="field%d"'
    one = b"--B\r\nContent-Disposition: form-data; " + disposition + b"\r\n\r\nx\r\n"
    return b"".join(one % i for i in range(parts)) + b"--B--\r\n"


def _chunked_file(size: int) -> bytes:
    """One multipart file of ``size`` bytes sent in 1 MiB chunks, without a Content-Length."""
    head = b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
    chunks = [head] + [b"a" * 2**20] * (size // 2**20)
    return b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"


ADMIN_POST = (b"POST /v1/admin/documents HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + ADMIN.encode()
              + b"\r\nContent-Type: multipart/form-data; boundary=B\r\n")
UPLOAD_REQUEST_ROWS = [
    pytest.param(lambda: ADMIN_POST + b"Content-Length: %d\r\n\r\n" % (UPLOAD_LIMIT + 1), 413, "payload_too_large",
                 id="upload-body-over-limit-declared"),
    pytest.param(lambda: ADMIN_POST + b"Content-Length: 999999999999\r\n\r\n" + b"x" * 1000, 413, "payload_too_large",
                 id="upload-lying-content-length-huge"),
    pytest.param(lambda: ADMIN_POST + b"Content-Length: 40\r\n\r\n" + _multipart(3), 400, "invalid_upload",
                 id="upload-lying-content-length-short"),
    pytest.param(lambda: ADMIN_POST + b"Transfer-Encoding: chunked\r\n\r\n" + _chunked_file(UPLOAD_LIMIT + 2**21),
                 413, "payload_too_large", id="upload-missing-content-length-chunked"),
    pytest.param(lambda: ADMIN_POST + b"Content-Length: %d\r\n\r\n" % len(_multipart(10_000)) + _multipart(10_000),
                 400, "invalid_upload", id="upload-10000-multipart-parts"),
    pytest.param(lambda: ADMIN_POST + b"Content-Length: %d\r\n\r\n" % len(_multipart(10_000, files=False))
                 + _multipart(10_000, files=False), 400, "invalid_upload", id="upload-10000-form-fields"),
]


@pytest.mark.parametrize(("build", "status", "code"), UPLOAD_REQUEST_ROWS)
def test_upload_request_row(server: ApiServer, baseline: dict[str, Any], build: Callable[[], bytes], status: int,
                            code: str) -> None:
    started = time.monotonic()
    got, body = raw_request(server, build())
    assert time.monotonic() - started < 5
    assert got == status, body[:300]
    assert_clean(body.decode("utf-8", "replace"))
    assert f'"code":"{code}"' in body.decode().replace(" ", "")


@pytest.mark.parametrize("filename", ["../../etc/passwd.txt", "/etc/absolute.txt", "a\x00b.txt", "..\\..\\win.txt"])
def test_upload_names_are_server_made(client: httpx.Client, server: ApiServer, baseline: dict[str, Any],
                                      filename: str) -> None:
    quoted = filename.replace("\\", "\\\\").encode("utf-8")
    body = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="' + quoted + b'"\r\n\r\n'
            + (TEST_DATA / "bad" / "random.txt").read_bytes() + b"\r\n--B--\r\n")
    response = client.post("/v1/admin/documents", content=body,
                           headers={**AS_ADMIN, "Content-Type": "multipart/form-data; boundary=B"})
    assert response.status_code == 202, response.text
    (task_id,) = response.json()["task_ids"]
    baseline["task_ids"].append(task_id)
    task = wait_for_task(client, task_id)
    assert task["state"] == "failed" and task["error"]["code"] == "not_text"
    assert "/" not in task["original_name"] and "\\" not in task["original_name"] and "\x00" not in task["original_name"]
    stored = [p for p in (server.data_dir / "uploads" / task_id).iterdir()]
    assert len(stored) == 1 and stored[0].parent.name == task_id and "\x00" not in stored[0].name
    assert not list(server.data_dir.parent.glob("*.txt")) and not (server.data_dir.parent / "etc").exists()


# -- 4. queries: 4xx with the allowed range stated, never 5xx ---------------------------------------------

Q = "pensiya"
NESTED = b'{"question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
QUERY_ROWS = [
    pytest.param("GET", "/v1/search?q=", None, 422, "empty_query", id="query-empty"),
    pytest.param("GET", "/v1/search?q=%20%20%09", None, 422, "empty_query", id="query-whitespace"),
    pytest.param("GET", "/v1/search?q=va%20the%20%D0%B8", None, 422, "empty_query", id="query-stop-words-only"),
    pytest.param("GET", "/v1/search?q=" + "a" * 100_000, None, 422, "query_too_long", id="query-100KB"),
    pytest.param("GET", f"/v1/search?q={Q}&k=0", None, 422, "invalid_k", id="query-k-0"),
    pytest.param("GET", f"/v1/search?q={Q}&k=-1", None, 422, "invalid_k", id="query-k-minus-1"),
    pytest.param("GET", f"/v1/search?q={Q}&k={10**9}", None, 422, "invalid_k", id="query-k-1e9"),
    pytest.param("GET", f"/v1/search?q={Q}&k=abc", None, 422, "invalid_k", id="query-k-abc"),
    pytest.param("GET", f"/v1/search?q={Q}&k=NaN", None, 422, "invalid_k", id="query-k-nan"),
    pytest.param("POST", "/v1/ask", b'{"question": NaN}', 422, "invalid_request", id="json-nan"),
    pytest.param("POST", "/v1/ask", b'{"question": "pensiya", "filters": {"lang": Infinity}}', 422,
                 "invalid_request", id="json-infinity"),
    pytest.param("POST", "/v1/ask", NESTED, 400, "bad_request", id="json-100000-deep"),
    pytest.param("POST", "/v1/feedback", b"[" * 100_000 + b"]" * 100_000, 400, "bad_request", id="json-deep-feedback"),
    pytest.param("GET", f"/v1/search?q={Q}&foo=bar", None, 422, "unknown_filter", id="query-unknown-filter"),
    pytest.param("GET", f"/v1/search?q={Q}&lang=xx", None, 422, "invalid_filter", id="query-bad-filter-value"),
    pytest.param("GET", f"/v1/search?q={Q}&" + "&".join(["kind=law"] * 1000), None, 422, "invalid_filter",
                 id="query-1000-filter-clauses"),
    pytest.param("GET", f"/v1/search?q={Q}&" + "&".join(f"f{i}=x" for i in range(1000)), None, 422, "unknown_filter",
                 id="query-1000-unknown-filters"),
    pytest.param("POST", "/v1/ask", b'{"question": "pensiya", "filters": {%s}}'
                 % b",".join(b'"f%d": "x"' % i for i in range(1000)), 422, "unknown_filter", id="ask-1000-filters"),
]


@pytest.mark.parametrize(("method", "url", "body", "status", "code"), QUERY_ROWS)
def test_query_row(server: ApiServer, baseline: dict[str, Any], method: str, url: str, body: bytes | None,
                   status: int, code: str) -> None:
    head = f"{method} {url} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {AGENT}\r\n".encode()
    if body is not None:
        head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    started = time.monotonic()
    got, answer = raw_request(server, head + b"\r\n" + (body or b""))
    assert time.monotonic() - started < 5
    text = answer.decode("utf-8", "replace")
    assert_clean(text)
    assert (got, code) == (status, code) and f'"code":"{code}"' in text.replace(" ", ""), text[:300]


SAME_AS_PLAIN = [
    pytest.param("pensiya%00", id="query-nul"),
    pytest.param("pen%E2%80%8Bsiya%E2%80%AE", id="query-zero-width-bidi"),
    pytest.param("%ED%A0%80pensiya", id="query-lone-surrogate-bytes"),
]


@pytest.mark.parametrize("encoded", SAME_AS_PLAIN)
def test_invisible_characters_in_queries_are_stripped(client: httpx.Client, baseline: dict[str, Any],
                                                      encoded: str) -> None:
    plain = client.get("/v1/search", params={"q": "pensiya"}).json()
    response = client.get(f"/v1/search?q={encoded}")
    assert response.status_code == 200, response.text
    assert [g["id"] for g in response.json()["groups"]] == [g["id"] for g in plain["groups"]]


@pytest.mark.parametrize(("one", "other"), [
    pytest.param("статья 15 обращение", "статья 15 обращение".replace("й", "и\u0306"), id="query-nfc-vs-nfd"),
    pytest.param("pensiya ta'minoti", "pensiya taʼminoti", id="query-apostrophe-variants"),
    pytest.param("обращение граждан", "oбpaщение граждан", id="query-latin-homoglyphs-in-cyrillic"),
])
def test_equivalent_queries_give_the_same_answer(client: httpx.Client, baseline: dict[str, Any], one: str,
                                                 other: str) -> None:
    first = client.get("/v1/search", params={"q": one}).json()
    second = client.get("/v1/search", params={"q": other}).json()
    assert [g["id"] for g in first["groups"]][:5] == [g["id"] for g in second["groups"]][:5]


# -- 5. auth and HTTP ------------------------------------------------------------------------------------

HTTP_ROWS = [
    pytest.param("GET /v1/admin/tasks/x", {}, 401, "unauthorized", id="admin-no-key"),
    pytest.param("GET /v1/admin/tasks/x", {"Authorization": "Bearer wrong-key-0123456789abcd"}, 401, "unauthorized",
                 id="admin-wrong-key"),
    pytest.param("GET /v1/admin/tasks/x", {"Authorization": "Bearer "}, 401, "unauthorized", id="admin-public-empty-key"),
    pytest.param("GET /v1/admin/tasks/x", AS_AGENT, 403, "forbidden", id="admin-agent-key"),
    pytest.param(f"GET /v1/admin/tasks/x?key={ADMIN}", {}, 400, "key_in_query", id="admin-key-in-query"),
    pytest.param(f"GET /v1/admin/tasks/x?api_key={ADMIN}", AS_ADMIN, 400, "key_in_query", id="admin-key-in-query-too"),
    pytest.param("GET //v1/admin/tasks/x", AS_AGENT, 404, "not_found", id="path-double-slash"),
    pytest.param("GET /v1//admin/tasks/x", AS_AGENT, 404, "not_found", id="path-inner-double-slash"),
    pytest.param("GET /V1/ADMIN/tasks/x", AS_AGENT, 404, "not_found", id="path-upper-case"),
    pytest.param("GET /v1/search/%2e%2e/admin/tasks/x", AS_AGENT, 404, "not_found", id="path-encoded-dotdot"),
    pytest.param("GET /v1/search/../admin/tasks/x", AS_AGENT, 404, "not_found", id="path-raw-dotdot"),
    pytest.param("GET /v1/admin%2ftasks/x", {}, 401, "unauthorized", id="path-encoded-slash"),
    pytest.param("GET /v1/admin/tasks/x/", {"Host": "evil.example"}, 404, "not_found", id="path-trailing-slash-no-redirect"),
    pytest.param("GET /v1/admin/tasks/x", {"Host": "localhost", "X-Forwarded-For": "10.0.0.9",
                                           "X-Forwarded-Host": "localhost"}, 401, "unauthorized", id="spoofed-forwarded"),
    pytest.param("GET /v1/admin/tasks/x", {"Host": "evil.example"}, 401, "unauthorized", id="spoofed-host"),
    pytest.param("GET /healthz", {"X-Big": "a" * 100_000}, 431, "headers_too_large", id="huge-header"),
    pytest.param("GET /healthz", {f"X-H{i}": "v" for i in range(500)}, 431, "headers_too_large", id="many-headers"),
]


@pytest.mark.parametrize(("line", "headers", "status", "code"), HTTP_ROWS)
def test_http_row(server: ApiServer, baseline: dict[str, Any], line: str, headers: dict[str, str], status: int,
                  code: str) -> None:
    fields = {"Host": "localhost", **headers}
    head = f"{line} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    got, body = raw_request(server, head.encode())
    text = body.decode("utf-8", "replace")
    assert_clean(text)
    assert "evil.example" not in text
    assert got == status and f'"code":"{code}"' in text.replace(" ", ""), (got, text[:300])


def test_cors_preflight_from_an_unknown_origin(client: httpx.Client, baseline: dict[str, Any]) -> None:
    ask = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    unknown = client.options("/v1/search", headers={"Origin": "https://evil.example", **ask})
    assert "access-control-allow-origin" not in unknown.headers
    admin = client.options("/v1/admin/tasks/x", headers={"Origin": ORIGIN, **ask})
    assert "access-control-allow-origin" not in admin.headers
    known = client.options("/v1/search", headers={"Origin": ORIGIN, **ask})
    assert known.headers["access-control-allow-origin"] == ORIGIN


def test_many_ranges_and_slow_clients(server: ApiServer, client: httpx.Client, baseline: dict[str, Any]) -> None:
    ranges = "bytes=" + ",".join(f"{i}-{i}" for i in range(1000))  # 8 KB of ranges, under the header limit
    css = client.get("/static/app.css", headers={"Range": ranges})
    assert css.status_code in (200, 206, 416) and len(css.content) < 200_000
    more = client.get("/static/app.css", headers={"Range": "bytes=" + ",".join(f"{i}-{i}" for i in range(3000))})
    assert error_of(more) == (431, "headers_too_large")
    host, port = server.url.removeprefix("http://").split(":")
    slow = [socket.create_connection((host, int(port))) for _ in range(50)]
    try:
        for sock in slow:  # headers started, never finished: a slowloris
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        started = time.monotonic()
        assert client.get("/healthz").status_code == 200
        assert time.monotonic() - started < 1.0
    finally:
        for sock in slow:
            sock.close()


def test_failed_admin_attempts_are_rate_limited() -> None:
    """1,000 wrong keys a minute: 401 until the budget is spent, then 429 with Retry-After (in process,
    so the test server's own admin calls are not locked out)."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from xizmat.settings import Settings

    settings = Settings(data_dir=Path("/nonexistent-xizmat"), admin_keys=(ADMIN,), auth_failures_per_minute=10)
    embedder = SimpleNamespace(id="none", dim=384)  # the index is absent: only the policy answers
    with TestClient(create_app(settings, embedder=embedder)) as app_client:  # type: ignore[arg-type]
        statuses = []
        for i in range(1000):
            response = app_client.get("/v1/admin/tasks/x", headers={"Authorization": f"Bearer wrong-{i:06d}-abcdefghij"})
            statuses.append(response.status_code)
        assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
        assert 1 <= int(response.headers["retry-after"]) <= 10
        assert error_of(response) == (429, "rate_limited")


# -- 6. invariants after the rejections --------------------------------------------------------------------

def test_invariants_after_rejections(server: ApiServer, client: httpx.Client, baseline: dict[str, Any]) -> None:
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200 and server.alive()
    assert time.monotonic() - started < 1.0, "I1"
    assert golden_ids(client) == baseline["golden"], "I2"
    ready = client.get("/readyz").json()
    assert (ready["generation"], ready["documents"]) == (baseline["generation"], baseline["documents"]), "I3"
    assert baseline["task_ids"], "the rejection rows ran first"
    for task_id in baseline["task_ids"]:  # I3: each rejected upload failed with a code and a message
        task = client.get(f"/v1/admin/tasks/{task_id}", headers=AS_ADMIN).json()
        assert task["state"] == "failed" and task["error"]["code"] and task["error"]["message"]
    assert_no_leftovers(server)


def assert_no_leftovers(server: ApiServer) -> None:
    """I5: no temporary files in the server's TMPDIR, no partial uploads, no half-built generations."""
    assert not list(server.tmp_dir.iterdir()), list(server.tmp_dir.iterdir())
    leftovers = [p for p in server.data_dir.rglob("*")
                 if p.name.startswith((".tmp-", ".partial")) or p.name.endswith((".tmp", ".partial"))]
    assert not leftovers, leftovers


def test_sandbox_limits_are_enforced() -> None:
    """I6: a parser over its memory or time budget is killed and reported with its code."""
    with pytest.raises(IngestError) as memory:
        run_in_sandbox(functools.partial(load_bytes, name="bomb.pdf", limits=LoadLimits(max_decompressed_bytes=2**30)),
                       flate_bomb_pdf(300 * 2**20), limits=SandboxLimits(memory_bytes=128 * 2**20, cpu_seconds=20, wall_seconds=30))
    assert memory.value.code == "parse_memory_limit"
    with pytest.raises(IngestError) as slow:
        run_in_sandbox(functools.partial(load_bytes, name="pages.pdf"), many_pages_pdf(1900),
                       limits=SandboxLimits(cpu_seconds=1, wall_seconds=0.2))
    assert slow.value.code == "parse_timeout"


# -- 7. accepted uploads: the same file twice, two at once, hidden blocks never indexed ------------------

def test_accepted_uploads(client: httpx.Client, server: ApiServer, baseline: dict[str, Any]) -> None:
    act = (TEST_DATA / "act.txt").read_bytes()
    # I3: in one batch a rejected file fails alone and the rest is processed.
    rejected, accepted = upload(client, ("random.txt", (TEST_DATA / "bad" / "random.txt").read_bytes(), "text/plain"),
                                ("act.txt", act, "text/plain"))
    assert wait_for_task(client, rejected)["error"]["code"] == "not_text"
    first = wait_for_task(client, accepted)
    assert first["state"] == "succeeded" and first["result"]["added"] == 1, first
    chunks = first["result"]["chunks"]
    again = wait_for_task(client, upload(client, ("act.txt", act, "text/plain"))[0])
    assert again["state"] == "succeeded" and again["result"]["unchanged"] == 1 and again["result"]["chunks"] == chunks
    found = client.get("/v1/search", params={"q": "pasport nusxasi davlat boji kvitansiya", "act": "act", "k": 100})
    refs = [p["chunk_id"] for g in found.json()["groups"] for p in g["passages"]]
    assert len(refs) == len(set(refs)), "the same file twice must not duplicate chunks"

    # Two uploads of one document at once: both tasks end, the served version is exactly one of them.
    versions = [("1-modda. " + BODY.decode() + f" Versiya {tag} {tag} {tag}.\n").encode() * 3 for tag in ("alfa", "beta")]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        ids = list(pool.map(lambda data: upload(client, ("twice.txt", data, "text/plain"))[0], versions))
    tasks = [wait_for_task(client, task_id) for task_id in ids]
    assert all(t["state"] == "succeeded" for t in tasks), tasks
    text = client.get("/v1/documents/twice/articles/1").json()["text"]
    assert ("alfa" in text) != ("beta" in text), "a mix of both uploads is served"

    hidden = wait_for_task(client, upload(client, ("hidden.html", HIDDEN, "text/html"))[0])
    assert hidden["state"] == "succeeded", hidden
    assert "Fuqarolar davlat" in client.get("/v1/documents/hidden/articles/1").text  # title or text
    for marker in ("SCRIPTMARKER", "TEMPLATEMARKER", "HIDDENMARKER", "NOSCRIPTMARKER"):
        body = client.get("/v1/search", params={"q": marker.lower()}).json()
        assert all(marker not in p["text"] for g in body["groups"] for p in g["passages"])
    assert_no_leftovers(server)


# -- 8. memory over the whole table, and log hygiene of the server (R11) -------------------------------------

def test_memory_growth_over_the_table(server: ApiServer, client: httpx.Client, baseline: dict[str, Any]) -> None:
    assert len(baseline["task_ids"]) >= 20, "run the whole table first"
    assert client.get("/healthz").status_code == 200
    growth = server.rss_bytes() - baseline["rss"]
    print(f"\nAPI memory: {baseline['rss'] / 2**20:.1f} MiB before the table, growth {growth / 2**20:+.1f} MiB")
    assert growth < 50 * 2**20, f"the API grew by {growth / 2**20:.1f} MiB over the bad-input table"


def test_server_log_hygiene(server: ApiServer) -> None:
    from tests.log_hygiene import assert_log_hygiene, document_texts

    log = server.log()
    assert "task" in log and "refused" in log  # the log did capture uploads and auth failures
    assert_log_hygiene(log.splitlines(), keys=(ADMIN, AGENT), texts=document_texts(server.data_dir))
