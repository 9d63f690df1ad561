"""The web pages in headless Chromium (Debian's ``chromium`` driven by Playwright), plus static checks
of the strings and the page weight. Failing browser tests leave a screenshot in test-artifacts/."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.web import STATIC_DIR
from tests.conftest import ROOT, serve_app

LANGS = ("uz-Latn", "uz-Cyrl", "ru", "en")
ARTIFACTS = ROOT / "test-artifacts"
STRINGS: dict[str, dict[str, str]] = json.loads((STATIC_DIR / "i18n.json").read_text(encoding="utf-8"))


# Static checks: no browser needed.

def test_every_string_exists_in_all_four_languages() -> None:
    assert set(STRINGS) == set(LANGS)
    keys = set().union(*(STRINGS[lang] for lang in LANGS))
    for lang in LANGS:
        missing = sorted(keys - set(STRINGS[lang]))
        assert not missing, f"{lang} lacks {missing}"
        empty = sorted(k for k, v in STRINGS[lang].items() if not v.strip())
        assert not empty, f"{lang} has empty strings {empty}"
        for key, text in STRINGS[lang].items():  # a translation keeps the placeholders of the English
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", STRINGS["en"][key])), key


def test_every_key_the_pages_use_is_translated() -> None:
    html = "".join((STATIC_DIR / name).read_text(encoding="utf-8") for name in ("index.html", "agent.html"))
    js = "".join(p.read_text(encoding="utf-8") for p in STATIC_DIR.glob("*.js"))
    used = set(re.findall(r'data-i18n="([\w-]+)"', html))
    used |= {key for attr in re.findall(r'data-i18n-attr="([^"]+)"', html) for key in re.findall(r":([\w-]+)", attr)}
    used |= set(re.findall(r'\bt\("([\w-]+)"', js))
    assert used and not sorted(used - set(STRINGS["en"]))


@pytest.mark.parametrize("page,script", [("index.html", "search.js"), ("agent.html", "agent.js")])
def test_page_weight_is_under_200_kb(page: str, script: str) -> None:
    files = (page, "app.css", "common.js", script, "i18n.json")
    weight = sum((STATIC_DIR / name).stat().st_size for name in files)
    assert weight < 200_000, f"{page} weighs {weight} bytes with its assets"


# The browser tests: one server over the sample index and one browser for the module.

@pytest.fixture(scope="module")
def base_url(sample_index: Path) -> Iterator[str]:
    from api.main import create_app
    from xizmat.settings import settings_from_env

    with serve_app(create_app(settings_from_env({}, data_dir=sample_index, rate_limit_per_minute=0))) as base:
        yield base


def expect(locator: Any) -> Any:
    """Playwright's retrying assertions (imported late: the module's static tests run without it)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture
def page(browser: Any, base_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    failed_before = request.session.testsfailed
    yield tab
    if request.session.testsfailed > failed_before:  # the call phase of this test failed
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def test_pick_a_suggestion_and_see_a_highlighted_cited_result(page: Any) -> None:
    page.goto("/?hl=uz-Latn")
    box = page.locator("#q")
    box.press_sequentially("pasp", delay=40)
    page.wait_for_selector("#suggestions [role=option]")
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "sug-0"
    assert page.locator("#sug-0").get_attribute("aria-selected") == "true"
    title = page.locator("#sug-0 span").first.inner_text()
    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if "/v1/search" in r.url else None)
    box.press("Enter")
    assert box.input_value() == title and page.locator("#suggestions").is_hidden()
    page.wait_for_function("() => document.querySelector('#status').innerText.startsWith('Topildi')")
    # Picking cancels the typed text's debounced search (450 ms): no second search starts afterwards.
    page.wait_for_timeout(700)
    assert len(searches) == 1, searches
    first = page.locator(".group").first
    first.locator("mark").first.wait_for()
    assert first.locator(".passage cite").first.inner_text().strip()
    assert title in page.locator(".group-title").all_inner_texts()
    assert re.match(r"Topildi: \d", page.locator("#status").inner_text())
    assert "q=" in page.url  # the search can be shared and reloaded


def test_the_interface_language_switches(page: Any) -> None:
    page.goto("/?hl=uz-Latn")
    expect(page.locator("h1")).to_have_text(STRINGS["uz-Latn"]["search_heading"])
    for lang in ("ru", "uz-Cyrl", "en"):
        page.click(f".langs button[lang={lang}]")
        # Retrying assertions: the page applies the language after the click's event handler.
        expect(page.locator("h1")).to_have_text(STRINGS[lang]["search_heading"])
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator(f".langs button[lang={lang}]")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#f-kind option").first).to_have_text(STRINGS[lang]["kind_any"])
        expect(page.locator("#q")).to_have_attribute("placeholder", STRINGS[lang]["search_placeholder"])
    page.goto("/agent")  # the choice is remembered
    expect(page.locator("h1")).to_have_text(STRINGS["en"]["agent_heading"])


@pytest.mark.parametrize("lang,date,number", [
    ("uz-Latn", "11-sentabr, 2017-yil", "12\u00a0345,5"),
    ("uz-Cyrl", "11 сентябр, 2017", "12\u00a0345,5"),
    ("ru", "11 сентября 2017 г.", "12\u00a0345,5"),
    ("en", "11 September 2017", "12,345.5"),
])
def test_dates_and_numbers_follow_the_interface_language(page: Any, lang: str, date: str, number: str) -> None:
    page.goto(f"/?hl={lang}")
    page.locator(f".langs button[lang={lang}][aria-pressed=true]").wait_for()
    shown = page.evaluate("import('/static/common.js').then((m) => [m.fmtDate('2017-09-11'), m.fmtNumber(12345.5)])")
    assert shown == [date, number]


def test_helpful_feedback_is_posted(page: Any) -> None:
    page.goto("/?hl=ru&q=" + "получить паспорт")
    page.locator(".group mark").first.wait_for()
    with page.expect_response(lambda r: r.url.endswith("/v1/feedback")) as response:
        page.locator(".group .yes").first.click()
    assert response.value.status == 201
    sent = response.value.request.post_data_json
    assert sent["helpful"] is True and sent["query_id"] and sent["result_id"]
    expect(page.locator(".group .thanks").first).to_have_text(STRINGS["ru"]["thanks"])


def test_document_text_is_never_parsed_as_html(page: Any) -> None:
    text = 'Pasport <img src=x onerror="document.title=1"> beriladi'
    group = {"id": "g", "kind": "law", "title": "<b>Act</b>", "url": "javascript:alert(1)", "status": "repealed",
             "score": 1, "lang": "uz-Latn", "authority": "",
             "passages": [{"chunk_id": 1, "ref": "a::1", "doc_id": "a", "text": text, "citation": "Act, 1-modda",
                           "highlights": [[0, 7]], "score": 1, "path": {}}]}
    body = {"query_id": "q1", "lang": "uz-Latn", "script": "Latn", "groups": [group], "total_groups": 1,
            "reference": None}
    page.route("**/v1/search?*", lambda route: route.fulfill(json=body))
    page.goto("/?hl=uz-Latn&q=pasport")
    page.locator(".group mark").wait_for()
    assert page.locator(".group img, .group b:text('Act')").count() == 0
    assert page.locator(".passage .text").inner_text() == text
    assert page.locator(".group mark").inner_text() == "Pasport"
    assert page.locator(".group .repealed").is_visible()
    assert page.locator(".title-link").get_attribute("href") is None


def test_nothing_found_says_so_and_how_to_ask_a_person(page: Any) -> None:
    empty = {"query_id": "q2", "lang": "en", "script": "Latn", "groups": [], "total_groups": 0, "reference": None}
    page.route("**/v1/search?*", lambda route: route.fulfill(json=empty))
    page.goto("/?hl=en&q=pasport")
    page.locator("#empty h3").wait_for()
    assert page.locator("#empty h3").inner_text() == STRINGS["en"]["none_title"]
    assert STRINGS["en"]["ask_person_text"] in page.locator("#empty").inner_text()
    page.locator("#empty .closest li").first.wait_for()  # the closest services, from the suggestions
    assert page.locator("#pager").is_hidden()


def test_without_suggestions_the_search_still_works(page: Any) -> None:
    calls: list[str] = []

    def not_found(route: Any) -> None:
        calls.append(route.request.url)
        route.fulfill(status=404, json={"error": {"code": "not_found", "message": "", "request_id": "r"}})

    page.route("**/v1/suggest?*", not_found)
    page.goto("/?hl=uz-Latn")
    page.locator("#q").press_sequentially("pasport olish", delay=30)
    page.locator(".group mark").first.wait_for()
    assert page.locator("#suggestions").is_hidden() and len(calls) == 1  # asked once, then left alone


def test_results_arrive_without_layout_shift(page: Any) -> None:
    page.goto("/?hl=uz-Latn")
    page.evaluate("""() => { window.cls = 0; new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.cls += e.value; }).observe({type: "layout-shift", buffered: true}); }""")
    page.locator("#q").fill("pasport")
    page.locator("#search-form button[type=submit]").click()
    page.locator(".group mark").first.wait_for()
    page.wait_for_timeout(300)
    assert page.evaluate("window.cls") < 0.05


def test_agent_answers_with_citations_opens_the_article_and_records_feedback(page: Any) -> None:
    page.goto("/agent?hl=ru")
    page.fill("#question", "В какой срок рассматривается обращение?")
    page.click("#ask-form button[type=submit]")
    card = page.locator(".passage-card").first
    card.wait_for()
    citation = card.locator(".cite cite").inner_text()
    assert citation.strip() and card.locator(".quote").inner_text().strip()
    assert re.match(r"Уверенность: \d", page.locator("#confidence").inner_text())
    with page.expect_response(re.compile(r"/v1/documents/[^/]+/articles/")) as article:
        card.locator(".open").click()
    assert article.value.status == 200
    page.locator("#article-body .article-text h3").wait_for()
    assert page.locator("#article-body h3").inner_text() == article.value.json()["citation"]
    card.locator(".copy").click()
    expect(card.locator(".done")).to_have_text(STRINGS["ru"]["copied"])
    assert page.evaluate("navigator.clipboard.readText()") == citation
    with page.expect_response(lambda r: r.url.endswith("/v1/feedback")) as response:
        card.locator(".answered").click()
    assert response.value.status == 201
    sent = response.value.request.post_data_json
    assert sent["answered_caller"] is True and sent["query_id"] and "::" in sent["result_id"]
    expect(card.locator(".answered")).to_have_attribute("aria-pressed", "true")


def test_agent_says_plainly_when_there_is_no_answer(page: Any) -> None:
    page.goto("/agent?hl=en")
    page.fill("#question", "how to bake bread at home")
    page.press("#question", "Control+Enter")
    page.locator("#no-answer").wait_for()
    assert page.locator("#answer").is_hidden()
    expect(page.locator("#reason")).to_have_text(STRINGS["en"]["reason_low_confidence"])


def test_assets_outside_the_list_are_not_served(base_url: str) -> None:
    page = httpx.get(f"{base_url}/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    missing = httpx.get(f"{base_url}/static/../pages.py")
    assert missing.status_code == 404
    response = httpx.get(f"{base_url}/static/nope.js")
    assert response.status_code == 404 and response.json()["error"]["code"] == "asset_not_found"
