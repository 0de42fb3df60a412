"""The one HTTP layer every contributor command goes through.

A :class:`HttpClient` wraps ``requests`` with what a polite, dependable client needs:

- a timeout on every request, and a User-Agent naming the project and a contact address;
- retries with exponential backoff for 429 and 5xx answers (and timeouts), honouring the server's
  ``Retry-After`` (capped, so a server asking for an hour cannot stall a command);
- a minimum interval between requests to one host (the arXiv API asks for one request every 3 s);
- an on-disk cache keyed by method and URL, with an age limit chosen per request.

Failures become :class:`~.errors.FetchError` with a message a person can act on, never a traceback.
All settings come from :class:`HttpSettings`, read from the environment so tests (and CI) can point
the commands at a local server and make every delay tiny.
"""

from __future__ import annotations

import base64
import email.utils
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from .cache import DiskCache, default_cache_dir
from .errors import ContributeError, FetchError

USER_AGENT_NAME = "site_builder (Awesome Prompt-Based Adaptation contributor tools)"
DAY = 24 * 3600.0


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

    def to_record(self) -> dict[str, Any]:
        return {"url": self.url, "status": self.status, "reason": self.reason, "headers": dict(self.headers),
                "body": base64.b64encode(self.body).decode("ascii")}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Response:
        return cls(url=record["url"], status=int(record["status"]), reason=record.get("reason", ""),
                   headers=record.get("headers", {}), body=base64.b64decode(record.get("body", "")),
                   from_cache=True)


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


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _connection_reason(exc: Exception) -> str:
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "the host name does not resolve"
    if "reset" in text.lower():
        return "the connection was reset"
    return "the connection failed"


class HttpClient:
    """Thread-safe: one ``requests.Session`` per thread, one shared pacer and cache."""

    def __init__(self, settings: HttpSettings | None = None, *, sleep: Callable[[float], None] = time.sleep,
                 refresh: bool = False):
        self.settings = settings or HttpSettings.from_env()
        self.cache = DiskCache(self.settings.cache_dir, refresh=refresh)
        self._sleep = sleep
        self._pacer = HostPacer(sleep)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = self.settings.user_agent
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        """Close every thread's session (and so its pooled connections)."""
        with self._sessions_lock:
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
        key = f"{method} {url}" + (f" Range={headers['Range']}" if headers and "Range" in headers else "")
        cached = self.cache.get(key, cache_ttl) if cache_ttl > 0 else None
        if cached is not None:
            return Response.from_record(cached)

        attempts = 1 + (self.settings.retries if retries is None else retries)
        interval = self.settings.delay_for(host) if min_interval is None else min_interval
        timeout = self.settings.timeout
        for attempt in range(1, attempts + 1):
            self._pacer.wait(host, interval)
            try:
                response = self._send(method, url, headers, max_bytes)
            except requests.exceptions.Timeout:
                if attempt < attempts:
                    self._sleep(self._backoff(attempt))
                    continue
                raise FetchError("timeout", f"{what}: no answer from {host} within {timeout:g} s "
                                 f"({_times(attempts)}): the service may be slow or down; try again later "
                                 "or raise SITE_BUILDER_HTTP_TIMEOUT") from None
            except requests.exceptions.TooManyRedirects:
                raise FetchError("connection", f"{what}: {url} redirects in a loop") from None
            except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                    requests.exceptions.InvalidSchema) as exc:
                raise FetchError("invalid-url", f"{what}: {url!r} is not a valid URL ({exc})") from None
            except requests.exceptions.RequestException as exc:
                if "timed out" in str(exc).lower():  # a read timeout while streaming the body
                    if attempt < attempts:
                        self._sleep(self._backoff(attempt))
                        continue
                    raise FetchError("timeout", f"{what}: {host} stopped sending within {timeout:g} s "
                                     f"({_times(attempts)}); try again later") from None
                raise FetchError("connection", f"{what}: cannot connect to {parts.netloc}: "
                                 f"{_connection_reason(exc)}. Check the address ({url}) and your "
                                 "network connection") from None

            if response.status == 429 or response.status >= 500:
                if attempt < attempts:
                    wait = parse_retry_after(response.headers.get("retry-after"))
                    self._sleep(min(wait if wait is not None else self._backoff(attempt),
                                    self.settings.max_retry_after))
                    continue
                if response.status == 429:
                    raise FetchError("rate-limited", f"{what}: {host} is still refusing requests as too "
                                     f"many (HTTP 429) after {_times(attempts)}; wait a few minutes and run "
                                     "the command again")
                raise FetchError("server-error", f"{what}: {host} answered HTTP {response.status} "
                                 f"{response.reason} ({_times(attempts)}): the service is having "
                                 "trouble; try again later")
            if cache_ttl > 0 and (response.status < 400 or response.status in (404, 410)):
                self.cache.put(key, response.to_record())
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return min(self.settings.backoff * 2 ** (attempt - 1), self.settings.max_retry_after)

    def _send(self, method: str, url: str, headers: Mapping[str, str] | None, max_bytes: int | None) -> Response:
        with self._session().request(method, url, headers=dict(headers or {}), timeout=self.settings.timeout,
                                     allow_redirects=True, stream=True) as raw:
            if max_bytes is None:
                body = raw.content
            else:
                body = b""
                for chunk in raw.iter_content(chunk_size=max(1, max_bytes)):
                    body = chunk[:max_bytes]
                    break
            return Response(url=raw.url, status=raw.status_code, reason=raw.reason or "",
                            headers={k.lower(): v for k, v in raw.headers.items()}, body=body)


def _times(n: int) -> str:
    return "tried once" if n == 1 else f"tried {n} times"
