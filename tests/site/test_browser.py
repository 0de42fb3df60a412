"""The built site in a real browser: Debian's Chromium, headless, driven by Playwright for Python.

The site is served on 127.0.0.1 from a thread; the test records every request and console message of
the pages it visits, and fails on any console error, any page error, any dialog (an escaped title
that ran as script would open one) and any request to a host other than 127.0.0.1.
Never runs ``playwright install``: it uses /usr/bin/chromium, and skips when that or playwright is
missing (``apt-get install -y chromium``; ``pip install playwright``).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.util
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"{CHROMIUM} not found (apt-get install -y chromium)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="playwright is not installed (pip install playwright)"),
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) from a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Headless Debian Chromium, started once for the module (one Playwright instance at a time)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def chromium_page(browser, base: str, viewport: dict[str, int] | None = None) -> Iterator[tuple[object, Watch]]:
    """A fresh watched page (desktop-sized unless ``viewport``), with clipboard access granted for ``base``."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base.rstrip("/"))
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = Watch()
    watch.attach(page)
    try:
        yield page, watch
    finally:
        context.close()


class Watch:
    """Everything a page did that the site must never do."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.foreign_requests: list[str] = []
        self.dialogs: list[str] = []

    def attach(self, page) -> None:
        page.on("console", lambda m: self.console_errors.append(f"{m.text} @ {m.location}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("request", self._request)

    def _request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname != "127.0.0.1":
            self.foreign_requests.append(request.url)

    def assert_clean(self) -> None:
        assert not self.foreign_requests, self.foreign_requests
        assert not self.console_errors, self.console_errors
        assert not self.page_errors, self.page_errors
        assert not self.dialogs, self.dialogs


@pytest.fixture(scope="module")
def browser_page(chromium, mkdocs_site) -> Iterator[tuple[object, Watch, str]]:
    with serve(mkdocs_site.site) as base, chromium_page(chromium, base) as (page, watch):
        yield page, watch, base


def test_home_renders_the_taxonomy_diagram(browser_page, mkdocs_site):
    page, watch, base = browser_page
    page.goto(base)
    diagram = page.locator("svg.pa-taxonomy-svg")
    diagram.wait_for(state="visible")
    box = diagram.bounding_box()
    assert box and box["width"] > 500 and box["height"] > 200
    n_categories = sum(len(list(f.walk())) for f in mkdocs_site.kb.taxonomy.facets.values())
    assert page.locator("svg.pa-taxonomy-svg a.pa-node").count() == n_categories + len(mkdocs_site.kb.taxonomy.facets)
    # A box is a link: the first click lands on the category page.
    page.locator("svg.pa-taxonomy-svg a.pa-node", has_text="VP-Learnable").click()
    page.wait_for_url("**/categories/method/vp-learnable/")
    assert page.locator("h1").first.inner_text() == "VP-Learnable"
    # The page arrived by instant navigation (no reload); its table lists the category's paper.
    link = page.locator("#pa-papers a", has_text="Visual Prompting for Frozen Models")
    assert link.count() == 1
    link.click()
    page.wait_for_url("**/papers/alpha2022visual/")
    watch.assert_clean()


def test_search_finds_prompt(browser_page):
    page, watch, base = browser_page
    page.goto(base)
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("prompt")
    results = page.locator(".md-search-result__item")
    results.first.wait_for(state="visible")
    assert results.count() > 0
    assert "prompt" in page.locator(".md-search-result").inner_text().lower()
    watch.assert_clean()


def test_paper_page_shows_bibtex_and_copies_it(browser_page):
    page, watch, base = browser_page
    page.goto(base + "papers/alpha2022visual/")
    code = page.locator("pre code").filter(has_text="@inproceedings{alpha2022visual,")
    code.wait_for(state="visible")
    block = page.locator("div.highlight").filter(has=code)
    block.hover()
    # Material's copy button (content.code.copy); older releases called it .md-clipboard.
    button = block.locator("button[data-md-type=copy], button.md-clipboard").first
    button.wait_for(state="visible")
    button.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("@inproceedings{alpha2022visual,")
    assert "title = {Visual Prompting for Frozen Models}" in copied
    watch.assert_clean()


def test_special_characters_render_as_text(browser_page):
    page, watch, base = browser_page
    page.goto(base + "papers/evil2024tags/")
    assert page.locator("h1").first.inner_text().startswith('E<V>&P: Prompts <script>alert("x")</script> & Tokens')
    assert "<img src=x onerror=alert(1)>" in page.locator(".pa-summary").inner_text()
    watch.assert_clean()  # no dialog: nothing from the data ran as script


def test_all_papers_filter_narrows_the_table(browser_page, mkdocs_site):
    page, watch, base = browser_page
    page.goto(base + "papers/")
    rows = page.locator("#pa-all-papers tbody tr:visible")
    total = len(mkdocs_site.kb.papers)
    assert rows.count() == total
    page.select_option('select[data-pa-facet="method"]', "vp-learnable")
    assert rows.count() == 1 and "AlphaVP" in rows.first.inner_text()
    assert page.locator('[data-pa-count="pa-all-papers"]').inner_text() == f"1 of {total} papers"
    page.select_option('select[data-pa-facet="method"]', "vpt")  # a parent matches its children's papers
    assert rows.count() == 3
    page.fill("input[data-pa-text]", "ada alpha")  # every word must match, in any field
    assert rows.count() == 0
    page.select_option('select[data-pa-facet="method"]', "")
    assert rows.count() == 1
    page.fill("input[data-pa-text]", "")
    page.select_option('select[data-pa-field="year"]', "2024")
    assert rows.count() == 2
    assert "year=2024" in page.url  # the filtered view is a link
    page.click("form[data-pa-papers-filter] button[type=reset]")
    page.wait_for_function(f"document.querySelectorAll('#pa-all-papers tbody tr:not([hidden])').length === {total}")
    watch.assert_clean()


def test_category_table_sorts_and_filters(browser_page):
    page, watch, base = browser_page
    page.goto(base + "categories/tasks/classification/")
    titles = page.locator("#pa-papers tbody tr:visible td:first-child")
    assert titles.count() == 4
    page.click("#pa-papers th:has-text('Year')")
    years = page.locator("#pa-papers tbody tr td:nth-child(3)").all_inner_texts()
    assert years == sorted(years)
    page.click("#pa-papers th:has-text('Year')")
    assert page.locator("#pa-papers tbody tr td:nth-child(3)").all_inner_texts() == sorted(years, reverse=True)
    page.fill("input[data-pa-filter='pa-papers']", "survey")
    assert titles.count() == 1
    watch.assert_clean()


def test_zensical_site_works_in_the_browser(chromium, zensical_site):
    """The Zensical build of the same mkdocs.yml: diagram, filter, copy button, nothing foreign."""
    with serve(zensical_site.site) as base, chromium_page(chromium, base) as (page, watch):
        page.goto(base)
        page.locator("svg.pa-taxonomy-svg").wait_for(state="visible")
        page.locator("svg.pa-taxonomy-svg a.pa-node", has_text="VPT-Learnable").click()
        page.wait_for_url("**/categories/method/vpt-learnable/")
        page.goto(base + "papers/")
        rows = page.locator("#pa-all-papers tbody tr:visible")
        assert rows.count() == len(zensical_site.kb.papers)
        page.select_option('select[data-pa-facet="tasks"]', "segmentation")
        assert rows.count() == 2
        page.goto(base + "papers/gamma2023deep/")
        block = page.locator("div.highlight").filter(has_text="@inproceedings{gamma2023deep,")
        block.hover()
        block.locator("button[data-md-type=copy], button.md-clipboard").first.click()
        assert page.evaluate("navigator.clipboard.readText()").startswith("@inproceedings{gamma2023deep,")
        watch.assert_clean()


# --- A researcher's checks: phones, search, the offline copy, accessibility ---------------------------

AXE = next((p for p in (Path(os.environ.get("AXE_CORE_JS", "/nonexistent")),
                        Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js") if p.is_file()),
           None)


@pytest.mark.parametrize("url", ["papers/alpha2022visual/", "categories/tasks/classification/", "papers/"])
def test_phone_shows_title_year_and_code_without_sideways_scrolling(chromium, mkdocs_site, url):
    with serve(mkdocs_site.site) as base:
        context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(base + url, wait_until="networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        if url.startswith("papers/alpha"):
            for selector in ("h1", ".pa-byline", ".pa-actions", ".pa-summary"):
                box = page.locator(selector).first.bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, selector
        else:
            row = page.locator("table[data-pa-cards] tbody tr").first
            for cls in ("pa-col-title", "pa-col-year", "pa-col-code"):
                box = row.locator(f"td.{cls}").bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, cls
        context.close()


def test_vision_only_view_hides_text_prompt_papers_and_is_remembered(browser_page, mkdocs_site):
    page, watch, base = browser_page
    total = len(mkdocs_site.kb.papers)
    page.goto(base + "papers/")
    rows = page.locator("#pa-all-papers tbody tr:visible")
    assert rows.count() == total
    page.check("form[data-pa-papers-filter] input[data-pa-vision-only]")
    assert rows.count() == total - 1 and "TexP" not in page.locator("#pa-all-papers").inner_text()
    assert page.locator('[data-pa-count="pa-all-papers"]').inner_text() == f"{total - 1} of {total} papers (vision only)"
    page.goto(base + "categories/tasks/classification/")  # remembered on the next page
    assert page.locator("#pa-papers input[data-pa-vision-only], .pa-table-tools input[data-pa-vision-only]").first.is_checked()
    assert page.locator("#pa-papers tbody tr:visible").count() == 3
    page.uncheck(".pa-table-tools input[data-pa-vision-only]")
    assert page.locator("#pa-papers tbody tr:visible").count() == 4
    page.goto(base + "papers/?vision=only")  # the dedicated link
    assert rows.count() == total - 1
    watch.assert_clean()


def test_search_index_is_loaded_only_when_searching(chromium, mkdocs_site):
    with serve(mkdocs_site.site) as base, chromium_page(chromium, base) as (page, watch):
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(base + "papers/alpha2022visual/", wait_until="networkidle")
        assert not [u for u in requested if "search_index" in u]
        search = page.locator("input.md-search__input")
        search.click()
        search.press_sequentially("DeepTok")
        page.locator(".md-search-result__item").first.wait_for(state="visible")
        assert [u for u in requested if "search_index" in u]
        assert "gamma2023deep" in page.locator(".md-search-result__item a").first.get_attribute("href")
        watch.assert_clean()


def search_rank(page, query: str, paper_id: str) -> int | None:
    search = page.locator("input.md-search__input")
    search.fill("")
    search.click()
    search.press_sequentially(query)
    page.wait_for_function("() => /match/i.test(document.querySelector('.md-search-result__meta').textContent)")
    # The worker answers every prefix typed, so the list can still change: read it until two reads
    # 300 ms apart agree (at most ~9 s), then rank.
    hrefs: list[str] | None = None
    for _ in range(30):
        page.wait_for_timeout(300)
        now = page.eval_on_selector_all(".md-search-result__item > a", "els => els.map(e => e.href)")
        if now == hrefs:
            break
        hrefs = now
    seen: list[str] = []
    for href in hrefs or []:
        path = urlsplit(href).path
        if path not in seen:
            seen.append(path)
    return next((i for i, path in enumerate(seen, 1) if path.endswith(f"/papers/{paper_id}/")), None)


def test_search_finds_the_key_papers_first(chromium, real_site):
    """The real corpus: each key paper in the top 3 for its name (CoOp once its entry exists)."""
    by_short = {p.short_name: p.id for p in real_site.kb.papers if p.short_name}
    queries = [("visual prompt tuning", "VPT"), ("VPT", "VPT"), ("SAM", "SAM"), ("CoOp", "CoOp")]
    with serve(real_site.site) as base, chromium_page(chromium, base) as (page, watch):
        page.goto(base)
        for query, short in queries:
            if short not in by_short:
                assert short == "CoOp", f"{short} is missing from the corpus"
                continue
            rank = search_rank(page, query, by_short[short])
            assert rank is not None and rank <= 3, (query, rank)
        watch.assert_clean()


@pytest.mark.parametrize("fixture", ["mkdocs_site", "zensical_site"])
def test_offline_copy_works_from_the_file_system(chromium, fixture, request):
    offline = request.getfixturevalue(fixture).root / "site-offline"
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = Watch()
    watch.attach(page)
    try:
        page.goto((offline / "index.html").as_uri())
        page.locator("svg.pa-taxonomy-svg a.pa-node", has_text="VP-Learnable").click()  # navigates
        page.wait_for_url("**/categories/method/vp-learnable/index.html")
        page.locator("#pa-papers a", has_text="Visual Prompting for Frozen Models").click()
        page.wait_for_url("**/papers/alpha2022visual/index.html")
        block = page.locator("div.highlight").filter(has_text="@inproceedings{alpha2022visual,")
        block.hover()
        block.locator("button[data-md-type=copy], button.md-clipboard").first.click()  # copies
        assert page.evaluate("navigator.clipboard.readText()").startswith("@inproceedings{alpha2022visual,")
        page.goto((offline / "papers" / "index.html").as_uri())
        page.select_option('select[data-pa-facet="method"]', "vp-learnable")  # filters
        assert page.locator("#pa-all-papers tbody tr:visible").count() == 1
        if page.locator("button.md-search__button").count():  # Zensical: a button opens its own dialog
            page.locator("button.md-search__button").click()
            box = page.get_by_role("combobox", name="Search")
            box.wait_for()
            page.keyboard.type("DeepTok", delay=60)  # key by key: each one is a query to the stand-in worker
            page.locator("a[href*='papers/gamma2023deep/']").first.wait_for(state="attached")  # in a shadow root
            assert box.input_value() == "DeepTok"  # a message shared with the worker emptied the box once
        else:
            search = page.locator("input.md-search__input")  # searches
            search.click()
            search.press_sequentially("DeepTok")
            page.locator(".md-search-result__item").first.wait_for(state="visible")
            assert "gamma2023deep" in page.locator(".md-search-result__item a").first.get_attribute("href")
        assert not watch.page_errors and not watch.dialogs
        assert not [u for u in watch.foreign_requests if not u.startswith("file:")]
    finally:
        context.close()


AXE_PAGES = ["", "categories/method/vp-learnable/", "papers/alpha2022visual/", "leaderboards/vtab1k-natural/",
             "papers/", "errata/"]


@pytest.mark.skipif(AXE is None, reason="axe-core not found: npm install axe-core@4 (or set AXE_CORE_JS)")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violation(chromium, mkdocs_site, scheme):
    found = {}
    with serve(mkdocs_site.site) as base:
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
        page = context.new_page()
        for url in AXE_PAGES:
            page.goto(base + url, wait_until="networkidle")
            page.add_script_tag(path=str(AXE))
            violations = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
                ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))")
            if violations:
                found[url or "home"] = violations
        context.close()
    assert not found, found
