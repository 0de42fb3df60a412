"""``links``: check every URL the data points to.

Each URL gets a HEAD request (redirects followed); a server that refuses HEAD (405, 403, 501) gets a
GET for one byte (``Range: bytes=0-0``). 404 and 410 are **broken**; 429, 401/403, other answers,
timeouts and connection failures are **unknown** (a rate limit or a network hiccup must not open an
issue about a good link). Hosts are checked in parallel, at most ``per_host`` requests at a time to
one host, paced by the HTTP layer; HEAD answers that are ok or broken are cached for a day (the
HTTP layer's cache; ``--refresh`` asks again). Progress is a ``tqdm`` bar on stderr.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import urlsplit

from tqdm import tqdm

from .http import DAY, HttpClient
from .repository import PaperFile, Repository
from .sources import FetchError

BROKEN_STATUS = (404, 410)
HEAD_REFUSED = (405, 403, 501)


@dataclass(frozen=True)
class LinkUse:
    path: str
    line: int | None
    field: str
    url: str


@dataclass(frozen=True)
class LinkResult:
    url: str
    outcome: str  # "ok", "broken" or "unknown"
    detail: str  # "200 OK", "404 Not Found", "timeout", ...


def collect_links(papers: list[PaperFile], arxiv_abs: str, doi_resolver: str) -> list[LinkUse]:
    uses: list[LinkUse] = []
    for paper in papers:
        arxiv, doi, url = paper.text("arxiv"), paper.text("doi"), paper.text("url")
        if arxiv:
            uses.append(LinkUse(paper.path, paper.line("arxiv"), "arxiv", f"{arxiv_abs}{arxiv}"))
        if doi:
            uses.append(LinkUse(paper.path, paper.line("doi"), "doi", f"{doi_resolver}{doi}"))
        if url:
            uses.append(LinkUse(paper.path, paper.line("url"), "url", url))
        code = paper.get("code")
        for i, link in enumerate(code if isinstance(code, list) else []):
            if isinstance(link, dict) and isinstance(link.get("url"), str):
                uses.append(LinkUse(paper.path, paper.line("code", i, "url"), f"code[{i}].url", link["url"]))
    return uses


def _classify(status: int, reason: str) -> LinkResult:
    detail = f"{status} {reason}".strip()
    if status < 400:
        return LinkResult("", "ok", detail)
    if status in BROKEN_STATUS:
        return LinkResult("", "broken", detail)
    return LinkResult("", "unknown", detail)


def check_url(client: HttpClient, url: str) -> LinkResult:
    try:
        response = client.request("HEAD", url, what=url, retries=1, max_bytes=0, cache_ttl=DAY)
        if response.status in HEAD_REFUSED:
            response = client.request("GET", url, what=url, retries=1, max_bytes=1,
                                      headers={"Range": "bytes=0-0"})
    except FetchError as exc:
        return LinkResult(url, "unknown", exc.kind)
    result = _classify(response.status, response.reason)
    return LinkResult(url, result.outcome, result.detail)


def progress_bar(total: int, label: str, stream: TextIO) -> tqdm:
    """A bar redrawn in place on a terminal; elsewhere (CI logs) the same line, seldom redrawn."""
    tty = bool(getattr(stream, "isatty", lambda: False)())
    return tqdm(total=total, desc=label, file=stream, ascii=True, dynamic_ncols=tty, mininterval=0.1 if tty else 30,
                bar_format="{desc}: {n_fmt}/{total_fmt} [{bar}] {elapsed}<{remaining} {postfix}")


def check_links(client: HttpClient, urls: list[str], *, per_host: int = 2, workers: int = 8,
                progress: tqdm | None = None) -> dict[str, LinkResult]:
    """Results for the distinct URLs: each host's URLs split into ``per_host`` sequential lanes."""
    by_host: dict[str, list[str]] = defaultdict(list)
    for url in sorted(set(urls)):
        by_host[urlsplit(url).netloc.lower()].append(url)
    lanes = [host_urls[i::per_host] for host_urls in by_host.values() for i in range(per_host)]
    results: dict[str, LinkResult] = {}

    def run(lane: list[str]) -> None:
        for url in lane:
            results[url] = check_url(client, url)
            if progress is not None:
                progress.set_postfix_str(urlsplit(url).netloc, refresh=False)
                progress.update()

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for future in [pool.submit(run, lane) for lane in lanes if lane]:
            future.result()
    return results


def run_link_check(repo: Repository, client: HttpClient, *, progress_stream: TextIO | None = None,
                   per_host: int = 2) -> tuple[list[LinkUse], dict[str, LinkResult]]:
    """Every link of every paper, checked; progress goes to ``progress_stream`` when given."""
    uses = collect_links(list(repo.papers), client.settings.arxiv_abs, client.settings.doi_resolver)
    urls = [u.url for u in uses]
    progress = progress_bar(len(set(urls)), "links", progress_stream) if progress_stream else None
    try:
        results = check_links(client, urls, progress=progress, per_host=per_host)
    finally:
        if progress is not None:
            progress.close()
    return uses, results


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_report(uses: list[LinkUse], results: dict[str, LinkResult], today: dt.date | None = None) -> str:
    """A Markdown report for a GitHub issue: counts, then a table of broken and one of unknown links."""
    today = today or dt.date.today()
    counts = {k: sum(1 for r in results.values() if r.outcome == k) for k in ("ok", "broken", "unknown")}
    papers = len({u.path for u in uses})
    lines = [
        "## Link check",
        "",
        f"Checked {len(results)} distinct links in {papers} papers on {today.isoformat()}: "
        f"**{counts['broken']} broken**, {counts['unknown']} unknown, {counts['ok']} fine.",
        "",
        "Run `python -m site_builder links --report report.md` to reproduce.",
    ]
    for outcome, heading in (("broken", "Broken (404 or 410): fix or remove"),
                             ("unknown", "Unknown (rate limits, refusals, timeouts): not counted as broken")):
        rows = [u for u in uses if results[u.url].outcome == outcome]
        if not rows:
            continue
        lines += ["", f"### {heading}", "", "| Where | Field | URL | Answer |", "|---|---|---|---|"]
        for use in sorted(rows, key=lambda u: (u.path, u.line or 0)):
            where = f"{use.path}:{use.line}" if use.line else use.path
            lines.append(f"| `{_cell(where)}` | `{_cell(use.field)}` | {_cell(use.url)} | "
                         f"{_cell(results[use.url].detail)} |")
    return "\n".join(lines) + "\n"
