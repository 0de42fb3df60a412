"""The one HTTP layer every contributor command goes through, assembled from kept libraries.

- ``requests`` sessions with a timeout on every request and a User-Agent naming the project and a
  contact address;
- retries: urllib3's :class:`~urllib3.util.Retry` mounted through a ``requests`` ``HTTPAdapter``, for
  429, 5xx, timeouts and failed connections, with exponential backoff and the server's
  ``Retry-After`` honoured (capped, so a server asking for an hour cannot stall a command);
- an on-disk cache (``requests-cache``, one SQLite file), with the age limit chosen per request;
- a minimum interval between requests to one host (the arXiv API asks for one request every 3 s),
  which no library above does as a strict spacing: :class:`HostPacer`, before every attempt.

Failures become :class:`~.sources.FetchError` with a message a person can act on, never a traceback.
All settings come from :class:`HttpSettings`, read from the environment so tests (and CI) can point
the commands at a local server and make every delay tiny.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import takewhile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import requests_cache
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.util import Retry

from .sources import ContributeError, FetchError

USER_AGENT_NAME = "site_builder (Awesome Prompt-Based Adaptation contributor tools)"
DAY = 24 * 3600.0
RETRY_STATUS = frozenset([429, *range(500, 600)])
# Answers worth keeping: every success or redirect, and the two that say "this does not exist".
CACHED_STATUS = (*range(200, 400), 404, 410)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ContributeError(f"{name}={raw!r} is not a number of seconds") from None
    if value < 0:
        raise ContributeError(f"{name}={raw!r} must not be negative")
    return value


def default_cache_dir() -> Path:
    """``$SITE_BUILDER_CACHE``, else ``~/.cache/site_builder``."""
    configured = os.environ.get("SITE_BUILDER_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "site_builder"


@dataclass(frozen=True)
class HttpSettings:
    """Everything the client needs; :meth:`from_env` reads the ``SITE_BUILDER_*`` variables."""

    timeout: float = 20.0  # seconds to connect and between bytes read
    retries: int = 3  # further attempts after the first, for 429 / 5xx / timeouts
    backoff: float = 1.0  # first retry waits this long, then 2x, 4x, ... (unless Retry-After says)
    max_retry_after: float = 60.0  # cap on any single wait
    arxiv_delay: float = 3.0  # seconds between requests to arXiv (its API terms ask for 3)
    default_delay: float = 0.0  # seconds between requests to any other host
    metadata_ttl: float = 30 * DAY  # how long fetched metadata is reused
    contact: str = ""  # an e-mail address for the User-Agent and Crossref's mailto
    cache_dir: Path | None = None  # None: no disk cache
    arxiv_api: str = "https://export.arxiv.org/api/query"
    crossref_api: str = "https://api.crossref.org"
    arxiv_abs: str = "https://arxiv.org/abs/"
    doi_resolver: str = "https://doi.org/"
    host_delays: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> HttpSettings:
        env = os.environ.get
        return cls(
            timeout=_env_float("SITE_BUILDER_HTTP_TIMEOUT", 20.0),
            retries=int(_env_float("SITE_BUILDER_HTTP_RETRIES", 3)),
            backoff=_env_float("SITE_BUILDER_HTTP_BACKOFF", 1.0),
            max_retry_after=_env_float("SITE_BUILDER_MAX_RETRY_AFTER", 60.0),
            arxiv_delay=_env_float("SITE_BUILDER_ARXIV_DELAY", 3.0),
            default_delay=_env_float("SITE_BUILDER_HOST_DELAY", 0.0),
            metadata_ttl=_env_float("SITE_BUILDER_CACHE_DAYS", 30.0) * DAY,
            contact=env("SITE_BUILDER_MAILTO", "").strip(),
            cache_dir=default_cache_dir(),
            arxiv_api=env("SITE_BUILDER_ARXIV_API") or cls.arxiv_api,
            crossref_api=(env("SITE_BUILDER_CROSSREF_API") or cls.crossref_api).rstrip("/"),
            arxiv_abs=env("SITE_BUILDER_ARXIV_ABS") or cls.arxiv_abs,
            doi_resolver=env("SITE_BUILDER_DOI_RESOLVER") or cls.doi_resolver,
        )

    @property
    def user_agent(self) -> str:
        contact = f"; mailto:{self.contact}" if self.contact else ""
        return f"{USER_AGENT_NAME}{contact}"

    def delay_for(self, host: str) -> float:
        if host in self.host_delays:
            return self.host_delays[host]
        if host == "arxiv.org" or host.endswith(".arxiv.org"):
            return self.arxiv_delay
        return self.default_delay


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    from_cache: bool = False

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class HostPacer:
    """Spaces requests to one host at least ``interval`` seconds apart, across threads."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep):
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._sleep = sleep

    def wait(self, host: str, interval: float) -> None:
        if interval <= 0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + interval
        if start > now:
            self._sleep(start - now)


class PoliteRetry(Retry):
    """urllib3's Retry with this client's waits.

    urllib3 waits nothing before the first retry and ``backoff * 2**(n-1)`` after; here the first
    retry already waits ``backoff`` (then 2x, 4x, ...). A ``Retry-After`` header wins; an unreadable
    one falls back to the backoff; every wait is capped by ``backoff_max``. ``sleep`` is
    injectable (tests record the waits), and ``pace`` runs before every new attempt so a retry keeps
    the host's polite interval too.
    """

    def __init__(self, *args: Any, sleep: Callable[[float], None] = time.sleep,
                 pace: Callable[[], None] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sleep_function = sleep
        self.pace = pace

    def new(self, **kw: Any) -> PoliteRetry:
        retry = super().new(**kw)
        retry.sleep_function, retry.pace = self.sleep_function, self.pace
        return retry

    def get_backoff_time(self) -> float:
        errors = len(list(takewhile(lambda h: h.redirect_location is None, reversed(self.history))))
        if errors == 0:
            return 0.0
        return float(min(self.backoff_factor * 2 ** (errors - 1), self.backoff_max))

    def sleep(self, response: Any = None) -> None:
        wait = None
        if response is not None and self.respect_retry_after_header:
            try:
                wait = self.get_retry_after(response)
            except InvalidHeader:
                wait = None
        if wait is None:
            wait = self.get_backoff_time()
        wait = min(wait, self.backoff_max)
        if wait > 0:
            self.sleep_function(wait)
        if self.pace is not None:
            self.pace()


class PacedAdapter(HTTPAdapter):
    """An adapter that waits the host's polite interval before sending. It sits below the cache, so
    an answer from the cache never waits; retries wait again through :class:`PoliteRetry`."""

    def __init__(self, pace: Callable[[], None], **kwargs: Any):
        super().__init__(**kwargs)
        self.pace = pace

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.pace()
        return super().send(request, *args, **kwargs)


def _connection_reason(text: str) -> str:
    low = text.lower()
    if "refused" in low:
        return "connection refused"
    if "name or service not known" in low or "nodename nor servname" in low or "getaddrinfo" in low:
        return "the host name does not resolve"
    if "reset" in low:
        return "the connection was reset"
    return "the connection failed"


def _times(n: int) -> str:
    return "tried once" if n == 1 else f"tried {n} times"


class HttpClient:
    """Thread-safe: each thread gets its own sessions; the pacer and the cache file are shared."""

    def __init__(self, settings: HttpSettings | None = None, *, sleep: Callable[[float], None] = time.sleep,
                 refresh: bool = False):
        self.settings = settings or HttpSettings.from_env()
        self.refresh = refresh  # write new answers but never read old ones
        self._sleep = sleep
        self._pacer = HostPacer(sleep)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._cache = self._open_cache(self.settings.cache_dir)

    @staticmethod
    def _open_cache(folder: Path | None) -> requests_cache.SQLiteCache | None:
        """The shared SQLite cache, or None when there is no usable folder: the cache only ever
        saves work, it never fails a command."""
        if folder is None:
            return None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return requests_cache.SQLiteCache(folder / "http.sqlite", serializer="json", wal=True)
        except (OSError, sqlite3.Error):
            return None

    def _session(self, retries: int) -> requests.Session:
        sessions = self._local.__dict__.setdefault("sessions", {})
        session = sessions.get(retries)
        if session is None:
            if self._cache is not None:
                session = requests_cache.CachedSession(
                    backend=self._cache, allowable_codes=CACHED_STATUS, allowable_methods=("GET", "HEAD"),
                    cache_control=False, expire_after=requests_cache.DO_NOT_CACHE)
            else:
                session = requests.Session()
            session.headers["User-Agent"] = self.settings.user_agent
            retry = PoliteRetry(
                total=retries, status_forcelist=RETRY_STATUS, allowed_methods=frozenset({"GET", "HEAD"}),
                raise_on_status=False, respect_retry_after_header=True, backoff_factor=self.settings.backoff,
                backoff_max=self.settings.max_retry_after,
                sleep=self._sleep, pace=self._pace_current)
            adapter = PacedAdapter(self._pace_current, max_retries=retry)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            sessions[retries] = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _pace_current(self) -> None:
        """Wait the polite interval of the host this thread is talking to (set by :meth:`request`)."""
        host, interval = getattr(self._local, "pacing", ("", 0.0))
        self._pacer.wait(host, interval)

    def close(self) -> None:
        """Close every thread's sessions (and so their pooled connections)."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str = "",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        cache_ttl: float = 0.0,
        retries: int | None = None,
        min_interval: float | None = None,
        max_bytes: int | None = None,
    ) -> Response:
        """Send one request (plus retries). Returns any answer below 500 except 429, from the cache
        when a stored one is younger than ``cache_ttl``; raises :class:`FetchError` otherwise.

        ``what`` names the request in messages ("the arXiv API"); ``max_bytes`` stops reading a body
        early (the link checker needs none of it).
        """
        what = what or url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FetchError("invalid-url", f"{what}: {url!r} is not an http(s) URL")
        host = parts.hostname or parts.netloc
        retries = self.settings.retries if retries is None else retries
        attempts = 1 + retries
        interval = self.settings.delay_for(host) if min_interval is None else min_interval
        self._local.pacing = (host, interval)
        session = self._session(retries)
        options: dict[str, Any] = {}
        if isinstance(session, requests_cache.CachedSession):
            options = {"expire_after": cache_ttl if cache_ttl > 0 else requests_cache.DO_NOT_CACHE,
                       "force_refresh": self.refresh}
        try:
            raw = session.request(method, url, params=params, headers=dict(headers or {}),
                                  timeout=self.settings.timeout, allow_redirects=True,
                                  stream=max_bytes is not None, **options)
            response = self._response(raw, max_bytes)
        except requests.exceptions.RequestException as exc:
            raise self._failure(exc, what, url, attempts) from None
        if response.status == 429:
            raise FetchError("rate-limited", f"{what}: {host} is still refusing requests as too many (HTTP 429) "
                             f"after {_times(attempts)}; wait a few minutes and run the command again")
        if response.status >= 500:
            raise FetchError("server-error", f"{what}: {host} answered HTTP {response.status} {response.reason} "
                             f"({_times(attempts)}): the service is having trouble; try again later")
        return response

    @staticmethod
    def _response(raw: requests.Response, max_bytes: int | None) -> Response:
        with raw:
            if max_bytes is None:
                body = raw.content
            else:
                body = next(raw.iter_content(chunk_size=max(1, max_bytes)), b"")[:max_bytes]
            return Response(url=raw.url, status=raw.status_code, reason=raw.reason or "",
                            headers={k.lower(): v for k, v in raw.headers.items()}, body=body,
                            from_cache=bool(getattr(raw, "from_cache", False)))

    def _failure(self, exc: requests.exceptions.RequestException, what: str, url: str, attempts: int) -> FetchError:
        parts = urlsplit(url)
        host = parts.hostname or parts.netloc
        timeout = self.settings.timeout
        text = str(exc)
        if isinstance(exc, requests.exceptions.TooManyRedirects):
            return FetchError("connection", f"{what}: {url} redirects in a loop")
        if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                            requests.exceptions.InvalidSchema)):
            return FetchError("invalid-url", f"{what}: {url!r} is not a valid URL ({exc})")
        if isinstance(exc, requests.exceptions.Timeout) or "timed out" in text.lower():
            return FetchError("timeout", f"{what}: no answer from {host} within {timeout:g} s "
                              f"({_times(attempts)}): the service may be slow or down; try again later "
                              "or raise SITE_BUILDER_HTTP_TIMEOUT")
        return FetchError("connection", f"{what}: cannot connect to {parts.netloc}: {_connection_reason(text)}. "
                          f"Check the address ({url}) and your network connection")
