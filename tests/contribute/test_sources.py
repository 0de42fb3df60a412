"""Parsing the arXiv Atom feed and Crossref's work JSON, and fetching them from the local server."""

from __future__ import annotations

import pytest

from site_builder.contribute.arxiv import (
    ArxivApiError,
    fetch_arxiv,
    fetch_arxiv_many,
    normalise_arxiv_id,
    parse_feed,
)
from site_builder.contribute.crossref import fetch_crossref, normalise_doi, parse_work
from site_builder.contribute.http import HttpClient
from site_builder.contribute.sources import ContributeError, SourceError

from .conftest import ARXIV_PATH, FIXTURES, FakeServer, Reply


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_arxiv_entry_is_parsed() -> None:
    (record,) = parse_feed(_fixture("arxiv/2203.12119.xml"))
    assert not isinstance(record, ArxivApiError)
    assert record.key == record.arxiv == "2203.12119"  # the version suffix is dropped
    assert record.title == "Visual Prompt Tuning"
    assert record.authors[0] == "Menglin Jia" and record.authors[-1] == "Ser-Nam Lim" and len(record.authors) == 7
    assert record.first_family == "Jia"
    assert record.year == 2022 and record.published == "2022-03-23T01:17:16Z"  # the first version's date
    assert record.doi is None and record.venue_text is None


def test_arxiv_optional_elements_and_hard_wrapping() -> None:
    (record,) = parse_feed(_fixture("arxiv/0710.2073.xml"))
    assert not isinstance(record, ArxivApiError)
    assert record.title == "On coincidence of Alday-Maldacena-regularized $σ$-model and Nambu-Goto areas of minimal surfaces"
    assert record.doi == "10.1134/S0021364007210011"
    assert record.venue_text == "JETP Lett.86:559-561,2008"
    assert record.comment is not None and "\n" not in record.comment and "missing factors" in record.comment


def test_arxiv_error_entry_is_an_error_not_a_paper() -> None:
    (entry,) = parse_feed(_fixture("arxiv/error_incorrect_id.xml"))
    assert isinstance(entry, ArxivApiError)
    assert entry.message == "incorrect id format for 2203.1211"


def test_empty_feed_has_no_entries() -> None:
    assert parse_feed(_fixture("arxiv/empty_feed.xml")) == []


@pytest.mark.parametrize("body", [_fixture("arxiv/malformed.xml"), b"Rate exceeded.", b"<html><body>busy</body></html>"])
def test_not_a_feed_is_a_clear_error(body: bytes) -> None:
    with pytest.raises(SourceError, match="arXiv API"):
        parse_feed(body)


@pytest.mark.parametrize("text", ["2203.12119", "2203.12119v2", "arXiv:2203.12119", "https://arxiv.org/abs/2203.12119v1",
                                  "https://arxiv.org/pdf/2203.12119.pdf"])
def test_arxiv_id_forms(text: str) -> None:
    assert normalise_arxiv_id(text) == "2203.12119"


def test_old_style_and_bad_arxiv_ids() -> None:
    assert normalise_arxiv_id("cs/0101001v1") == "cs/0101001"
    with pytest.raises(ContributeError, match="not an arXiv id"):
        normalise_arxiv_id("22031.2119")


def test_fetch_known_error_and_unknown_ids(server: FakeServer, client: HttpClient) -> None:
    assert fetch_arxiv(client, "2203.12119").title == "Visual Prompt Tuning"
    server.add(f"{ARXIV_PATH}?id_list=2203.1211&max_results=1", Reply(200, _fixture("arxiv/error_incorrect_id.xml")))
    with pytest.raises(SourceError, match="rejected the id 2203.1211: incorrect id format"):
        fetch_arxiv(client, "2203.1211")
    with pytest.raises(SourceError, match="arXiv has no paper 2203.99999"):
        fetch_arxiv(client, "2203.99999")


def test_many_ids_go_in_one_request(server: FakeServer, client: HttpClient) -> None:
    results = fetch_arxiv_many(client, ["2203.12119", "0710.2073", "2203.99999"])
    assert len(server.requests_to(ARXIV_PATH)) == 1
    assert results["2203.12119"].title == "Visual Prompt Tuning"  # type: ignore[union-attr]
    assert results["0710.2073"].doi == "10.1134/S0021364007210011"  # type: ignore[union-attr]
    assert isinstance(results["2203.99999"], SourceError)


def test_an_error_entry_in_a_batch_is_pinned_to_its_id(server: FakeServer, client: HttpClient) -> None:
    server.add(f"{ARXIV_PATH}?id_list=0710.2073,2203.1211&max_results=2", Reply(200, _fixture("arxiv/error_incorrect_id.xml")))
    server.add(f"{ARXIV_PATH}?id_list=2203.1211&max_results=1", Reply(200, _fixture("arxiv/error_incorrect_id.xml")))
    results = fetch_arxiv_many(client, ["2203.1211", "0710.2073"])
    assert isinstance(results["2203.1211"], SourceError)
    assert results["0710.2073"].title.startswith("On coincidence")  # type: ignore[union-attr]


def test_crossref_work_is_parsed() -> None:
    record = parse_work(_fixture("crossref/10.1109_ICCV51070.2023.01604.json"), "10.1109/ICCV51070.2023.01604")
    assert record.title == "E^2VPT: An Effective and Efficient Approach for Visual Prompt Tuning"
    assert record.authors[:2] == ("Cheng Han", "Qifan Wang") and len(record.authors) == 7
    assert record.first_family == "Han"
    assert record.year == 2023 and record.accepted_years == (2023,)
    assert record.venue_text == "2023 IEEE/CVF International Conference on Computer Vision (ICCV)"


def test_crossref_markup_in_titles_is_removed() -> None:
    body = b'{"status": "ok", "message-type": "work", "message": {"title": ["Learning <i>to</i> Prompt &amp; Tune"], ' \
           b'"author": [{"given": "A", "family": "B"}], "issued": {"date-parts": [[2022]]}, ' \
           b'"published-online": {"date-parts": [[2021, 12, 3]]}}}'
    record = parse_work(body, "10.1/x")
    assert record.title == "Learning to Prompt & Tune"
    assert record.year == 2022 and record.accepted_years == (2021, 2022)


def test_crossref_failures(server: FakeServer, client: HttpClient) -> None:
    with pytest.raises(SourceError, match=r"Crossref does not know the DOI 10.1109/NOPE.2023 \(HTTP 404\)"):
        fetch_crossref(client, "10.1109/NOPE.2023")
    server.add("/crossref/works/10.1109/BROKEN", Reply(200, _fixture("crossref/malformed.json")))
    with pytest.raises(SourceError, match="not JSON"):
        fetch_crossref(client, "10.1109/BROKEN")
    with pytest.raises(SourceError, match="not a work record"):
        parse_work(b'{"status": "ok", "message-type": "work-list", "message": {}}', "10.1/x")


def test_crossref_request_carries_mailto(server: FakeServer, client: HttpClient) -> None:
    fetch_crossref(client, "10.1109/ICCV51070.2023.01604")
    (request,) = server.requests_to("/crossref/works/")
    assert request[1] == "/crossref/works/10.1109/ICCV51070.2023.01604?mailto=tests%40example.org"


@pytest.mark.parametrize("text", ["10.1109/ICCV51070.2023.01604", "https://doi.org/10.1109/ICCV51070.2023.01604",
                                  "doi:10.1109/ICCV51070.2023.01604"])
def test_doi_forms(text: str) -> None:
    assert normalise_doi(text) == "10.1109/ICCV51070.2023.01604"
    with pytest.raises(ContributeError, match="not a DOI"):
        normalise_doi("ICCV51070.2023.01604")
