"""``links``: HEAD with a ranged-GET fallback, broken vs unknown, per-host limits, the report, the cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.contribute.http import HttpClient
from site_builder.contribute.links import check_links, progress_bar, render_report

from .conftest import FakeServer, Reply

Run = Callable[..., tuple[int, str, str]]


def _paper_with_links(repo: Path, server: FakeServer) -> Path:
    """A paper whose code links exercise every kind of answer."""
    path = repo / "papers" / "jia2022visual.yaml"
    text = path.read_text(encoding="utf-8")
    links = "\n".join(f"  - url: {server.url}/{name}\n    official: false"
                      for name in ("ok", "gone", "head-refused", "limited", "slow", "forbidden", "removed"))
    path.write_text(text.replace("code:\n  - url: https://github.com/KMnP/vpt\n    official: true",
                                 f"code:\n{links}"), encoding="utf-8")
    for name in ("bahng2022exploring.yaml", "han2023e2vpt.yaml"):
        (repo / "papers" / name).unlink()
    return path


def _routes(server: FakeServer) -> None:
    server.add("/abs/2203.12119", Reply(200, "abstract page"))
    server.add("/ok", Reply(200, "fine"))
    server.add("/gone", Reply(404, "not here"))
    server.add("/removed", Reply(410, "gone for good"))
    server.add("/limited", Reply(429, "slow down", {"Retry-After": "1"}))
    server.add("/slow", Reply(200, "late", delay=1.0))
    server.add("/forbidden", Reply(403, "no robots"))

    def head_refused(method: str, target: str) -> Reply:
        return Reply(405, "") if method == "HEAD" else Reply(206, "x", {"Content-Range": "bytes 0-0/100"})

    server.add_handler("/head-refused", head_refused)


def test_links_end_to_end(repo: Path, env: Path, server: FakeServer, run: Run, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_BUILDER_HTTP_TIMEOUT", "0.25")
    path = _paper_with_links(repo, server)
    _routes(server)
    report = tmp_path / "report.md"
    status, out, err = run("links", "--report", str(report), "--root", str(repo))
    assert status == 1  # /gone and /removed are broken

    def line(name: str) -> int:
        lines = path.read_text(encoding="utf-8").splitlines()
        return next(i for i, text in enumerate(lines, 1) if text.endswith(f"/{name}"))

    assert f"papers/jia2022visual.yaml:{line('gone')}: code[1].url: broken link {server.url}/gone (404 Not Found)" in out
    assert f"code[6].url: broken link {server.url}/removed (410 Gone)" in out
    assert f"code[3].url: warning: unknown link {server.url}/limited (rate-limited)" in out
    assert f"code[4].url: warning: unknown link {server.url}/slow (timeout)" in out
    assert f"code[5].url: warning: unknown link {server.url}/forbidden (403 Forbidden)" in out
    assert "/ok " not in out and "head-refused" not in out and "arxiv:" not in out  # fine links are not listed
    assert "links: 8/8" in err and "2 broken, 3 unknown" in err  # a plain counter: stderr is not a terminal

    # HEAD refused -> a one-byte ranged GET
    refused = server.requests_to("/head-refused")
    assert [r[0] for r in refused] == ["HEAD", "GET"] and refused[1][2]["Range"] == "bytes=0-0"

    text = report.read_text(encoding="utf-8")
    assert "**2 broken**, 3 unknown, 3 fine" in text
    assert f"| `papers/jia2022visual.yaml:{line('gone')}` | `code[1].url` | {server.url}/gone | 404 Not Found |" in text
    assert "### Unknown" in text


def test_links_rerun_within_a_day_uses_the_cache(repo: Path, env: Path, server: FakeServer, run: Run,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_BUILDER_HTTP_TIMEOUT", "0.25")
    _paper_with_links(repo, server)
    _routes(server)
    run("links", "--root", str(repo))
    seen = {target for _, target, _ in server.requests}
    before = len(server.requests)
    run("links", "--root", str(repo))
    again = [target for _, target, _ in server.requests[before:]]
    # ok and broken answers are cached for a day; only the unknown ones are asked again
    assert "/ok" in seen and "/gone" in seen
    assert "/ok" not in again and "/gone" not in again and "/limited" in again


def test_links_exit_zero_when_nothing_is_broken(repo: Path, env: Path, server: FakeServer, run: Run) -> None:
    for name in ("bahng2022exploring.yaml", "han2023e2vpt.yaml"):
        (repo / "papers" / name).unlink()
    path = repo / "papers" / "jia2022visual.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("https://github.com/KMnP/vpt", f"{server.url}/ok"),
                    encoding="utf-8")
    server.add("/ok", Reply(200, "fine"))
    server.add("/abs/2203.12119", Reply(200, "abstract page"))
    status, out, err = run("links", "--root", str(repo))
    assert status == 0 and out == "" and "0 broken, 0 unknown" in err


def test_at_most_per_host_requests_at_a_time(server: FakeServer, client: HttpClient) -> None:
    active, peak, lock = [0], [0], threading.Lock()

    def slow(method: str, target: str) -> Reply:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.03)
        with lock:
            active[0] -= 1
        return Reply(200, "")

    server.add_handler("/p/", slow)
    urls = [f"{server.url}/p/{i}" for i in range(12)]
    results = check_links(client, urls, per_host=2, workers=8)
    assert all(r.outcome == "ok" for r in results.values()) and len(results) == 12
    assert peak[0] == 2


def test_progress_bar_on_a_terminal() -> None:
    class Terminal:
        def __init__(self) -> None:
            self.text = ""

        def write(self, text: str) -> None:
            self.text += text

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = progress_bar(4, "links", stream)  # type: ignore[arg-type]
    progress.mininterval = progress.miniters = 0  # redraw on every step
    for _ in range(4):
        progress.set_postfix_str("github.com", refresh=False)
        progress.update()
    progress.close()
    assert "\rlinks: 1/4 [" in stream.text and "\rlinks: 4/4 [" in stream.text and "github.com" in stream.text
    assert stream.text.endswith("\n")


def test_report_escapes_table_cells() -> None:
    from site_builder.contribute.links import LinkResult, LinkUse

    uses = [LinkUse("papers/a.yaml", 3, "url", "https://example.org/a|b")]
    text = render_report(uses, {uses[0].url: LinkResult(uses[0].url, "broken", "404 Not Found")})
    assert "https://example.org/a\\|b" in text
