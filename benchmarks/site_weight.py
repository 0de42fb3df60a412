"""What a reader's browser pays for the site: bytes per first page load, search index, search ranks, phones.

    python benchmarks/site_weight.py                       # real corpus and 1,000 synthetic papers
    python benchmarks/site_weight.py --synthetic 0 --ranks --phone --axe --screenshots /tmp/shots
    python benchmarks/site_weight.py --builder zensical --synthetic 400

Each corpus is copied into a throw-away repository (as ``site_build.py`` does), built with the chosen
builder, and served on 127.0.0.1 by a server that counts the bytes of every response. Debian's Chromium
(through Playwright) then opens home, a paper page and "All papers", each in a fresh context (empty
cache), waits until the network is quiet, and the bytes served for that load are summed: as served
(the test server does not compress) and gzip-compressed (what a static host such as GitHub Pages sends).

``--ranks`` (real corpus): where the key papers land in the site's own search for a few queries.
``--phone``: page heights at 390x844 and how much of each table's width is visible without scrolling.
``--axe``: axe-core's serious and critical violations on six pages, light and dark (needs
``npm install axe-core@4``: ``node_modules/axe-core/axe.min.js`` or ``$AXE_CORE_JS``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import http.server
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from site_build import corpus_repos  # noqa: E402

from site_builder import load_knowledge_base  # noqa: E402
from site_builder.site import build_site, builder_available  # noqa: E402

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE_CANDIDATES = [Path(os.environ["AXE_CORE_JS"])] if os.environ.get("AXE_CORE_JS") else []
AXE_CANDIDATES += [ROOT / "node_modules" / "axe-core" / "axe.min.js"]
# (query, short name of the paper that must come first)
RANK_QUERIES = (("visual prompt tuning", "VPT"), ("VPT", "VPT"), ("SAM", "SAM"), ("CoOp", "CoOp"))
SEARCH_INDEXES = ("search/search_index.json", "search.json")  # MkDocs Material, Zensical


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder and records (path, bytes written) for every response."""

    log: list[tuple[str, int]]

    def setup(self) -> None:
        super().setup()
        raw = self.wfile
        handler = self

        class Counter:
            def write(self, data: bytes) -> int:
                handler._sent += len(data)
                return raw.write(data)

            def __getattr__(self, name: str) -> object:
                return getattr(raw, name)

        self._sent = 0
        self.wfile = Counter()  # type: ignore[assignment]

    def handle_one_request(self) -> None:
        self._sent = 0
        super().handle_one_request()
        if getattr(self, "path", None) and self._sent:
            self.log.append((self.path.split("?")[0], self._sent))

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    log: list[tuple[str, int]] = []
    handler = functools.partial(type("H", (CountingHandler,), {"log": log}), directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", log
    finally:
        server.shutdown()
        server.server_close()


@functools.cache
def gzip_size(path: Path) -> int:
    try:
        return len(gzip.compress(path.read_bytes(), compresslevel=6))
    except OSError:
        return 0


def served_file(site: Path, url_path: str) -> Path:
    path = site / url_path.lstrip("/")
    return path / "index.html" if url_path.endswith("/") else path


def kb_text(n: int) -> str:
    return f"{n / 1000:8.1f} KB"


def first_loads(browser, site: Path, pages: list[tuple[str, str]]) -> list[tuple[str, int, int, int]]:
    """(label, raw bytes, gzip bytes, requests) of a first load of each page."""
    out = []
    with serve(site) as (base, log):
        for label, url in pages:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            log.clear()
            page.goto(base + url, wait_until="networkidle")
            page.wait_for_timeout(600)  # a late worker or index request still counts
            entries = list(log)
            context.close()
            raw = sum(n for _, n in entries)
            compressed = sum(gzip_size(served_file(site, p)) for p, _ in entries)
            out.append((label, raw, compressed, len(entries)))
    return out


def search_ranks(browser, site: Path, kb) -> list[tuple[str, str]]:
    by_short = {p.short_name: p.id for p in kb.papers if p.short_name}
    out = []
    with serve(site) as (base, _):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(base, wait_until="networkidle")
        for query, short in RANK_QUERIES:
            target = by_short.get(short)
            if target is None:
                out.append((query, f"({short} not in the corpus)"))
                continue
            out.append((query, str(search_rank(page, query, target) or "not found")))
        context.close()
    return out


def search_rank(page, query: str, paper_id: str) -> int | None:
    """Rank (1-based, one per page) of ``papers/<paper_id>/`` in the site's search results."""
    box = page.locator("input.md-search__input")
    if not box.is_visible():
        page.locator("label[for=__search]").first.click()
    box.fill("")
    box.click()
    box.press_sequentially(query, delay=20)
    page.wait_for_function(
        "() => { const m = document.querySelector('.md-search-result__meta');"
        " return m && /match|no match/i.test(m.textContent) }", timeout=20_000)
    page.wait_for_timeout(300)
    hrefs = page.eval_on_selector_all(
        ".md-search-result__item > a, .md-search-result__item > .md-search-result__link",
        "els => els.map(e => e.getAttribute('href'))")
    pages: list[str] = []
    for href in hrefs:
        path = urlsplit(href or "").path.removesuffix("index.html").removesuffix(".html").rstrip("/")
        if path not in pages:
            pages.append(path)
    for i, path in enumerate(pages, start=1):
        if path.endswith(f"papers/{paper_id}"):
            return i
    return None


PHONE_PAGES = (("home", ""), ("paper VPT", "papers/jia2022visual/"),
               ("VPT-Learnable", "categories/method/vpt-learnable/"), ("all papers", "papers/"))


def phone_heights(browser, site: Path, shots: Path | None) -> list[tuple[str, int, str]]:
    out = []
    with serve(site) as (base, _):
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                      device_scale_factor=1)
        page = context.new_page()
        for label, url in PHONE_PAGES:
            page.goto(base + url, wait_until="networkidle")
            height = page.evaluate("document.documentElement.scrollHeight")
            widths = page.evaluate(
                "() => Array.from(document.querySelectorAll('article table')).map(t => {"
                " const w = t.closest('.md-typeset__scrollwrap') || t.parentElement;"
                " return Math.round(100 * Math.min(1, w.clientWidth / t.scrollWidth)); })")
            out.append((label, height, ", ".join(f"{w} %" for w in widths[:4]) or "-"))
            if shots is not None:
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shots / f"phone-{label.replace(' ', '-')}.png"))
        context.close()
    return out


AXE_PAGES = (("home", ""), ("category", "categories/method/vpt-learnable/"), ("paper", "papers/jia2022visual/"),
             ("leaderboard", "leaderboards/vtab1k-natural/"), ("all papers", "papers/"), ("errata", "errata/"))


def axe_counts(browser, site: Path, axe: Path) -> list[tuple[str, str, int, str]]:
    out = []
    with serve(site) as (base, _):
        for scheme in ("light", "dark"):
            context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
            page = context.new_page()
            for label, url in AXE_PAGES:
                page.goto(base + url, wait_until="networkidle")
                page.add_script_tag(path=str(axe))
                found = page.evaluate(
                    "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                    ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
                    ".map(v => [v.id, v.nodes.length])")
                total = sum(n for _, n in found)
                out.append((label, scheme, total, ", ".join(f"{i} {n}" for i, n in found)))
            context.close()
    return out


def build(root: Path, builder: str) -> object:
    kb = load_knowledge_base(root)
    build_site(kb, root, builder=builder, strict=True)  # type: ignore[arg-type]
    return kb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic", type=int, default=1000, help="synthetic corpus size (0: skip)")
    parser.add_argument("--no-real", action="store_true", help="skip the real corpus")
    parser.add_argument("--builder", choices=("mkdocs", "zensical"), default="mkdocs")
    parser.add_argument("--ranks", action="store_true", help="search ranks of key papers (real corpus)")
    parser.add_argument("--phone", action="store_true", help="page heights and table widths at 390x844")
    parser.add_argument("--axe", action="store_true", help="axe-core serious/critical counts")
    parser.add_argument("--screenshots", type=Path, default=None, help="folder for phone screenshots")
    args = parser.parse_args(argv)
    if not builder_available(args.builder):
        print(f"{args.builder} is not installed", file=sys.stderr)
        return 2
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("playwright is not installed (pip install playwright)", file=sys.stderr)
        return 2
    if not CHROMIUM.is_file():
        print(f"{CHROMIUM} not found (apt-get install -y chromium)", file=sys.stderr)
        return 2
    axe = next((p for p in AXE_CANDIDATES if p.is_file()), None)
    if args.axe and axe is None:
        print("axe-core not found: npm install axe-core@4 (or set AXE_CORE_JS)", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="site-weight-") as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for label, root, synthetic in corpus_repos(Path(tmp), real=not args.no_real, synthetic=args.synthetic):
            started = time.perf_counter()
            kb = build(root, args.builder)
            site = root / "site"
            print(f"\n{label}: {len(kb.papers)} papers, built with {args.builder} in "
                  f"{time.perf_counter() - started:.1f} s")
            index = next((site / p for p in SEARCH_INDEXES if (site / p).is_file()), None)
            if index is not None:
                print(f"  search index {index.relative_to(site)}: {kb_text(index.stat().st_size)} "
                      f"(gzip {kb_text(gzip_size(index)).strip()})")
            pages = [("home", ""), ("paper page", next(
                (f"papers/{p.id}/" for p in kb.papers if p.id == "jia2022visual"), f"papers/{kb.papers[0].id}/")),
                ("all papers", "papers/")]
            print(f"  {'first load (empty cache)':<26}{'as served':>12}{'gzip':>12}{'requests':>10}")
            for name, raw, compressed, requests in first_loads(browser, site, pages):
                print(f"  {name:<26}{kb_text(raw):>12}{kb_text(compressed):>12}{requests:>10}")
            if args.ranks and not synthetic:
                print("  search ranks (1 = first result):")
                for query, rank in search_ranks(browser, site, kb):
                    print(f"    {query!r:<24} {rank}")
            if args.phone and not synthetic:
                print("  phone 390x844: page height, visible share of each table's width")
                for name, height, widths in phone_heights(browser, site, args.screenshots):
                    print(f"    {name:<16}{height:>7} px   tables: {widths}")
            if args.axe and not synthetic and axe is not None:
                print("  axe-core serious + critical elements:")
                for name, scheme, total, detail in axe_counts(browser, site, axe):
                    print(f"    {name:<12}{scheme:<6}{total:>5}  {detail}")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
