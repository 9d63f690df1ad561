"""Take the README's screenshots of the web pages: both pages, desktop and phone width, Uzbek and Russian.

    .venv/bin/python scripts/take_screenshots.py --data-dir data        # serves the index itself
    .venv/bin/python scripts/take_screenshots.py --url http://127.0.0.1:8000

Drives Debian's chromium through Playwright (never a downloaded browser) and writes
docs/screenshots/<page>-<lang>-<width>.png.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
LANGS = {"uz": "uz-Latn", "ru": "ru"}
# What each page shows: a search with results, and a question the sample corpus answers.
QUERIES = {
    "uz": {"search": "pasport olish", "agent": "Murojaat necha kunda koʻrib chiqiladi?"},
    "ru": {"search": "получить паспорт", "agent": "В какой срок рассматривается обращение?"},
}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def serve(data_dir: Path) -> str:
    """Start the app on a free loopback port in a daemon thread; return its base URL once ready."""
    import httpx
    import uvicorn

    from api.main import create_app
    from xizmat.settings import settings_from_env

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(settings_from_env({}, data_dir=data_dir, rate_limit_per_minute=0))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the app on {base} did not become ready; check that {data_dir} holds an index")


def shoot(base: str) -> list[Path]:
    """Write one PNG per page, language and width; return their paths."""
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for short, hl in LANGS.items():
            for size, (width, height) in SIZES.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(f"{base}/?hl={hl}&q={quote(QUERIES[short]['search'])}")
                page.wait_for_selector(".group mark")
                page.focus("#q")  # the focus ring is part of what the picture should show
                written.append(_save(page, f"search-{short}-{size}.png"))
                page.goto(f"{base}/agent?hl={hl}&question={quote(QUERIES[short]['agent'])}")
                page.wait_for_selector(".passage-card, .no-answer:not([hidden])")
                # On a desktop the article opens beside the answer; on a phone it would push the answer away.
                if size == "desktop" and page.locator(".passage-card .open").count():
                    page.locator(".passage-card .open").first.click()
                    page.wait_for_selector(".article-text")
                    page.evaluate("window.scrollTo(0, 0)")  # the click scrolled to the button
                written.append(_save(page, f"agent-{short}-{size}.png"))
                page.close()
        browser.close()
    return written


def _save(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    path = OUT / name
    page.screenshot(path=str(path), type="png")  # the viewport only: keeps each file small
    try:
        from PIL import Image  # installed with the test extra (fpdf2); without it the PNG stays full-colour
    except ImportError:
        return path
    with Image.open(path) as image:  # a 256-colour palette halves the file; flat UI colours survive it
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    small.save(path, optimize=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="a running Xizmat, e.g. http://127.0.0.1:8000")
    source.add_argument("--data-dir", type=Path, help="a data dir with a built index to serve")
    args = parser.parse_args()
    if shutil.which("chromium") is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium chromium-driver")
    base = args.url.rstrip("/") if args.url else serve(args.data_dir)
    for path in shoot(base):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
