"""A local HTTP server that plays arXiv, Crossref and arbitrary link targets, and a temporary repository.

Nothing here touches the network: the server listens on 127.0.0.1 on an ephemeral port, and the
``SITE_BUILDER_*`` variables point the commands at it with tiny timeouts and delays.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from site_builder.contribute import commands
from site_builder.contribute.http import HttpClient, HttpSettings

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
ARXIV_PATH = "/arxiv/api/query"


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep before answering (longer than the client timeout = a timeout)

    def payload(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


Route = list[Reply] | Callable[[str, str], Reply]


class FakeServer:
    """Routes by path+query first, then by path, then by the longest prefix route (a key ending in
    "/"); a list of replies is served in order (the last one
    repeats). Every request is recorded as (method, path+query, headers)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def add_handler(self, path: str, handler: Callable[[str, str], Reply]) -> None:
        self.routes[path] = handler

    def requests_to(self, prefix: str) -> list[tuple[str, str, dict[str, str]]]:
        return [r for r in self.requests if r[1].startswith(prefix)]

    def _reply(self, method: str, target: str) -> Reply:
        with self._lock:
            path = urlsplit(target).path
            route = self.routes.get(target) or self.routes.get(path)
            if route is None:  # a key ending in "/" is a prefix route
                prefixes = [k for k in self.routes if k.endswith("/") and path.startswith(k)]
                route = self.routes[max(prefixes, key=len)] if prefixes else None
            if route is None:
                return Reply(404, "not found")
            if not callable(route):
                reply = route[0]
                if len(route) > 1:
                    route.pop(0)
                return reply
        return route(method, target)  # outside the lock: handlers may run concurrently

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                server.requests.append((self.command, self.path, dict(self.headers)))
                reply = server._reply(self.command, self.path)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.payload()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_HEAD = _serve

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def arxiv_feed_for(ids: list[str]) -> str:
    """What the arXiv API answers for ``id_list``: the recorded feed for one known id, the entries of
    the recorded feeds for several, an empty feed for unknown ids."""
    known = {i: (FIXTURES / "arxiv" / f"{i.replace('/', '_')}.xml") for i in ids}
    if len(ids) == 1 and known[ids[0]].is_file():
        return known[ids[0]].read_text(encoding="utf-8")
    empty = (FIXTURES / "arxiv" / "empty_feed.xml").read_text(encoding="utf-8")
    entries = [re.search(r"  <entry>.*</entry>\n", p.read_text(encoding="utf-8"), re.S).group(0)
               for p in known.values() if p.is_file()]
    feed = empty.replace(">0</opensearch:totalResults>", f">{len(entries)}</opensearch:totalResults>")
    return feed.replace("</feed>", "".join(entries) + "</feed>")


def _arxiv_handler(method: str, target: str) -> Reply:
    ids = parse_qs(urlsplit(target).query).get("id_list", [""])[0].split(",")
    return Reply(200, arxiv_feed_for([i for i in ids if i]), {"Content-Type": "application/atom+xml"})


def _crossref_handler(method: str, target: str) -> Reply:
    doi = urlsplit(target).path.removeprefix("/crossref/works/")
    path = FIXTURES / "crossref" / f"{doi.replace('/', '_')}.json"
    if path.is_file():
        return Reply(200, path.read_bytes(), {"Content-Type": "application/json"})
    return Reply(404, (FIXTURES / "crossref" / "not_found.txt").read_bytes(), {"Content-Type": "text/plain"})


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        fake.add_handler(ARXIV_PATH, _arxiv_handler)
        fake.add_handler("/crossref/works/", _crossref_handler)
        yield fake


@pytest.fixture
def env(server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every command at the local server, with a fresh cache and tiny timeouts and delays."""
    cache = tmp_path / "cache"
    settings = {
        "SITE_BUILDER_ARXIV_API": f"{server.url}{ARXIV_PATH}",
        "SITE_BUILDER_CROSSREF_API": f"{server.url}/crossref",
        "SITE_BUILDER_ARXIV_ABS": f"{server.url}/abs/",
        "SITE_BUILDER_DOI_RESOLVER": f"{server.url}/doi/",
        "SITE_BUILDER_CACHE": str(cache),
        "SITE_BUILDER_HTTP_TIMEOUT": "0.5",
        "SITE_BUILDER_HTTP_RETRIES": "2",
        "SITE_BUILDER_HTTP_BACKOFF": "0.01",
        "SITE_BUILDER_MAX_RETRY_AFTER": "0.05",
        "SITE_BUILDER_ARXIV_DELAY": "0",
        "SITE_BUILDER_HOST_DELAY": "0",
        "SITE_BUILDER_MAILTO": "tests@example.org",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return cache


@pytest.fixture
def client(env: Path) -> Iterator[HttpClient]:
    with HttpClient(HttpSettings.from_env()) as http:
        yield http


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the repository's taxonomy and a few of its papers, in a temporary folder."""
    root = tmp_path / "repo"
    (root / "papers").mkdir(parents=True)
    shutil.copy(REPO / "taxonomy.yaml", root / "taxonomy.yaml")
    for name in ("EXAMPLE.yaml", "jia2022visual.yaml", "han2023e2vpt.yaml", "bahng2022exploring.yaml"):
        shutil.copy(REPO / "papers" / name, root / "papers" / name)
    return root


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run a contributor command; returns (exit status, stdout, stderr)."""

    def invoke(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = commands.main(list(argv))
        out, err = capsys.readouterr()
        return status, out, err

    return invoke
