"""The HTTP layer: retries honouring Retry-After, timeouts, refused connections, pacing, the cache."""

from __future__ import annotations

import dataclasses
import email.utils
import socket
import time
from pathlib import Path

import pytest

from site_builder.contribute.http import HostPacer, HttpClient, HttpSettings
from site_builder.contribute.sources import FetchError

from .conftest import FakeServer, Reply


def _client(env: Path, waits: list[float] | None = None, **changes: object) -> HttpClient:
    settings = dataclasses.replace(HttpSettings.from_env(), **changes)
    return HttpClient(settings, sleep=waits.append if waits is not None else time.sleep)


def test_429_with_retry_after_is_retried_after_the_asked_wait(server: FakeServer, env: Path) -> None:
    server.add("/busy", Reply(429, "slow down", {"Retry-After": "7"}), Reply(200, "ok"))
    waits: list[float] = []
    with _client(env, waits, max_retry_after=60.0) as client:
        response = client.get(f"{server.url}/busy")
    assert response.status == 200 and response.text == "ok"
    assert waits == [7.0]  # the server's Retry-After, not the client's own backoff
    assert len(server.requests_to("/busy")) == 2


def test_retry_after_is_capped(server: FakeServer, env: Path) -> None:
    server.add("/busy", Reply(429, "", {"Retry-After": "3600"}), Reply(200, "ok"))
    waits: list[float] = []
    with _client(env, waits, max_retry_after=2.5) as client:
        assert client.get(f"{server.url}/busy").status == 200
    assert waits == [2.5]


def test_429_exhausted_is_a_clear_error(server: FakeServer, client: HttpClient) -> None:
    server.add("/busy", Reply(429, "", {"Retry-After": "1"}))
    with pytest.raises(FetchError) as info:
        client.get(f"{server.url}/busy", what="the arXiv API")
    assert info.value.kind == "rate-limited"
    assert "the arXiv API" in str(info.value) and "HTTP 429" in str(info.value) and "tried 3 times" in str(info.value)
    assert len(server.requests_to("/busy")) == 3


def test_503_then_success(server: FakeServer, client: HttpClient) -> None:
    server.add("/flaky", Reply(503, "down"), Reply(200, "back"))
    assert client.get(f"{server.url}/flaky").text == "back"


def test_5xx_exhausted_is_a_clear_error(server: FakeServer, client: HttpClient) -> None:
    server.add("/down", Reply(502, "bad gateway"))
    with pytest.raises(FetchError) as info:
        client.get(f"{server.url}/down", what="Crossref")
    assert info.value.kind == "server-error"
    assert "Crossref" in str(info.value) and "HTTP 502" in str(info.value) and "try again later" in str(info.value)


def test_backoff_doubles_without_retry_after(server: FakeServer, env: Path) -> None:
    server.add("/down", Reply(500, ""), Reply(500, ""), Reply(200, "ok"))
    waits: list[float] = []
    with _client(env, waits, backoff=0.5, max_retry_after=60.0) as client:
        assert client.get(f"{server.url}/down").status == 200
    assert waits == [0.5, 1.0]


def test_timeout_is_a_clear_error(server: FakeServer, env: Path) -> None:
    server.add("/slow", Reply(200, "late", delay=1.0))
    started = time.monotonic()
    with _client(env, timeout=0.2, retries=0) as client, pytest.raises(FetchError) as info:
        client.get(f"{server.url}/slow", what="the arXiv API")
    assert time.monotonic() - started < 0.9
    assert info.value.kind == "timeout"
    assert "no answer" in str(info.value) and "0.2 s" in str(info.value)


def test_connection_refused_is_a_clear_error(client: HttpClient) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and now has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError) as info:
        client.get(f"http://127.0.0.1:{port}/api", what="Crossref")
    assert info.value.kind == "connection"
    assert "connection refused" in str(info.value) and f"127.0.0.1:{port}" in str(info.value)


def test_not_an_http_url(client: HttpClient) -> None:
    with pytest.raises(FetchError) as info:
        client.get("ftp://example.org/x")
    assert info.value.kind == "invalid-url"


def test_answers_are_cached_by_url(server: FakeServer, client: HttpClient) -> None:
    server.add("/meta", Reply(200, "first"), Reply(200, "second"))
    assert client.get(f"{server.url}/meta", cache_ttl=60).text == "first"
    again = client.get(f"{server.url}/meta", cache_ttl=60)
    assert again.text == "first" and again.from_cache
    assert len(server.requests_to("/meta")) == 1
    assert client.get(f"{server.url}/meta", cache_ttl=0).text == "second"  # no cache asked: fetched


def test_cache_expires(server: FakeServer, client: HttpClient) -> None:
    server.add("/meta", Reply(200, "first"), Reply(200, "second"), Reply(200, "third"))
    assert client.get(f"{server.url}/meta", cache_ttl=1).text == "first"
    assert client.get(f"{server.url}/meta", cache_ttl=1).text == "first"
    time.sleep(1.1)
    assert client.get(f"{server.url}/meta", cache_ttl=60).text == "second"  # the stored answer expired


def test_refresh_fetches_again_and_stores_the_new_answer(server: FakeServer, env: Path) -> None:
    server.add("/meta", Reply(200, "first"), Reply(200, "second"))
    with _client(env) as client:
        assert client.get(f"{server.url}/meta", cache_ttl=60).text == "first"
    with HttpClient(HttpSettings.from_env(), refresh=True) as client:
        assert client.get(f"{server.url}/meta", cache_ttl=60).text == "second"
    with _client(env) as client:
        again = client.get(f"{server.url}/meta", cache_ttl=60)
    assert again.text == "second" and again.from_cache


def test_an_unusable_cache_folder_only_costs_the_cache(server: FakeServer, env: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    server.add("/meta", Reply(200, "fresh"))
    with _client(env, cache_dir=blocker / "cache") as client:
        assert client.get(f"{server.url}/meta", cache_ttl=60).text == "fresh"


def test_server_errors_are_not_cached(server: FakeServer, env: Path) -> None:
    server.add("/x", Reply(500, ""), Reply(200, "ok"))
    with _client(env, retries=0) as client:
        with pytest.raises(FetchError):
            client.get(f"{server.url}/x", cache_ttl=60)
        assert client.get(f"{server.url}/x", cache_ttl=60).text == "ok"


def test_user_agent_names_the_contact(server: FakeServer, client: HttpClient) -> None:
    server.add("/ua", Reply(200, ""))
    client.get(f"{server.url}/ua")
    agent = server.requests_to("/ua")[0][2]["User-Agent"]
    assert "site_builder" in agent and "mailto:tests@example.org" in agent


def test_pacer_spaces_requests_to_one_host() -> None:
    waits: list[float] = []
    pacer = HostPacer(sleep=waits.append)
    pacer.wait("export.arxiv.org", 3.0)
    pacer.wait("export.arxiv.org", 3.0)
    pacer.wait("api.crossref.org", 3.0)
    assert len(waits) == 1 and 2.9 < waits[0] <= 3.0  # only the second arXiv request waits


def test_polite_delay_applies_between_real_requests(server: FakeServer, env: Path) -> None:
    server.add("/p", Reply(200, ""))
    with _client(env, default_delay=0.15) as client:
        started = time.monotonic()
        client.get(f"{server.url}/p")
        client.get(f"{server.url}/p")
    assert time.monotonic() - started >= 0.15


def test_arxiv_hosts_default_to_three_seconds() -> None:
    settings = HttpSettings()
    assert settings.delay_for("export.arxiv.org") == 3.0 and settings.delay_for("arxiv.org") == 3.0
    assert settings.delay_for("api.crossref.org") == 0.0


def test_retry_after_as_an_http_date(server: FakeServer, env: Path) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    server.add("/busy", Reply(503, "", {"Retry-After": when}), Reply(200, "ok"))
    waits: list[float] = []
    with _client(env, waits, max_retry_after=60.0) as client:
        assert client.get(f"{server.url}/busy").status == 200
    assert len(waits) == 1 and 27.0 < waits[0] <= 30.0


@pytest.mark.parametrize("value", ["soon", "Tue, 14 Nov 2023 22:00:00 GMT"])
def test_unreadable_or_past_retry_after_falls_back_or_goes_at_once(server: FakeServer, env: Path, value: str) -> None:
    server.add("/busy", Reply(429, "", {"Retry-After": value}), Reply(200, "ok"))
    waits: list[float] = []
    with _client(env, waits, backoff=0.5, max_retry_after=60.0) as client:
        assert client.get(f"{server.url}/busy").status == 200
    assert waits == ([0.5] if value == "soon" else [])  # a date in the past: no wait at all


def test_a_retry_keeps_the_polite_interval(server: FakeServer, env: Path) -> None:
    server.add("/flaky", Reply(503, ""), Reply(200, "ok"))
    waits: list[float] = []
    with _client(env, waits, backoff=0.01, default_delay=2.0) as client:
        assert client.get(f"{server.url}/flaky").status == 200
    assert waits[0] == 0.01 and len(waits) == 2 and 1.5 < waits[1] <= 2.0  # backoff, then the rest of 2 s


def test_bad_setting_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from site_builder.contribute.sources import ContributeError

    monkeypatch.setenv("SITE_BUILDER_HTTP_TIMEOUT", "ten")
    with pytest.raises(ContributeError, match="SITE_BUILDER_HTTP_TIMEOUT"):
        HttpSettings.from_env()
