"""Crossref: ``GET {api}/works/{doi}?mailto=...`` answers with ``{"status": "ok", "message-type": "work",
"message": {...}}`` (https://api.crossref.org/swagger-ui/index.html); an unknown DOI gets HTTP 404.
``GET {api}/works?query.bibliographic=TITLE&query.author=NAME&rows=N&mailto=...`` searches, and
answers ``{"message-type": "work-list", "message": {"items": [work, ...]}}``, best match first.

In a work, ``title`` and ``container-title`` are lists of strings (titles may hold JATS/HTML tags
such as ``<i>``), ``author`` is a list of ``{given, family, sequence}`` (or ``{name}`` for a group),
and dates are ``{"date-parts": [[year, month, day]]}`` with month and day optional.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

from .http import DAY, HttpClient
from .sources import ContributeError, SourceError, SourceRecord

DOI = re.compile(r"^10\.\d{4,9}/\S+$")
SEARCH_TTL = 7 * DAY  # a preprint's search is asked again each week: publication is what it looks for
_DATE_FIELDS = ("published-print", "published-online", "issued", "published")


def normalise_doi(text: str) -> str:
    """``https://doi.org/10.1109/X`` or ``doi:10.1109/X`` -> ``10.1109/X``."""
    value = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", text.strip(), flags=re.IGNORECASE)
    if not DOI.match(value):
        raise ContributeError(f"{text!r} is not a DOI: a DOI looks like 10.1109/ICCV51070.2023.01604")
    return value


def _clean(text: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def _year(date: Any) -> int | None:
    try:
        year = date["date-parts"][0][0]
    except (KeyError, IndexError, TypeError):
        return None
    return year if isinstance(year, int) else None


def _record(work: dict[str, Any], doi: str) -> SourceRecord:
    """One work's record. Raises :class:`SourceError` when it lacks a title, authors or a date."""
    titles = [_clean(t) for t in work.get("title") or [] if isinstance(t, str) and t.strip()]
    people = [a for a in work.get("author") or [] if isinstance(a, dict)]
    authors = tuple(_clean(" ".join(p for p in (a.get("given"), a.get("family")) if p) or a.get("name", ""))
                    for a in people)
    authors = tuple(a for a in authors if a)
    years = {field: _year(work.get(field)) for field in _DATE_FIELDS}
    year = years["published-print"] or years["issued"] or years["published"] or years["published-online"]
    if not titles or not authors or year is None:
        missing = [n for n, ok in (("title", titles), ("authors", authors), ("a date", year)) if not ok]
        raise SourceError(f"the Crossref record of {doi} has no {' and no '.join(missing)}")
    first = people[0]
    containers = [_clean(c) for c in work.get("container-title") or [] if isinstance(c, str) and c.strip()]
    return SourceRecord(
        source="Crossref", key=doi, title=titles[0], authors=authors,
        first_family=_clean(first.get("family") or first.get("name") or authors[0].split()[-1]),
        year=year, accepted_years=tuple(sorted({y for y in years.values() if y})),
        doi=str(work.get("DOI") or doi), venue_text=" / ".join(containers) or None,
        published=str(year), work_type=str(work.get("type") or "") or None,
    )


def _message(body: bytes | str, what: str, message_type: str) -> Any:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise SourceError(f"Crossref answered for {what} with something that is not JSON ({exc}); Crossref "
                          "may be having trouble: try again later") from None
    if not isinstance(data, dict) or data.get("message-type") != message_type or not isinstance(data.get("message"), dict):
        kind = "a work record" if message_type == "work" else "a list of works"
        raise SourceError(f"Crossref answered for {what} with JSON that is not {kind}")
    return data["message"]


def parse_work(body: bytes | str, doi: str) -> SourceRecord:
    """The record of one work. Raises :class:`SourceError` when the body is not a Crossref work."""
    return _record(_message(body, doi, "work"), doi)


def parse_search(body: bytes | str, what: str) -> list[SourceRecord]:
    """The usable works of a search answer, in Crossref's order (items without a DOI, title, author
    or date are skipped: they cannot be a paper's published version)."""
    items = _message(body, what, "work-list").get("items")
    records = []
    for work in items if isinstance(items, list) else []:
        if not isinstance(work, dict) or not isinstance(work.get("DOI"), str):
            continue
        try:
            records.append(_record(work, work["DOI"]))
        except SourceError:
            continue
    return records


def work_url(api: str, doi: str, contact: str) -> str:
    query = f"?{urlencode({'mailto': contact})}" if contact else ""
    return f"{api}/works/{quote(doi, safe='/:;()')}{query}"


def fetch_crossref(client: HttpClient, doi: str) -> SourceRecord:
    settings = client.settings
    response = client.get(work_url(settings.crossref_api, doi, settings.contact), what="Crossref",
                          cache_ttl=settings.metadata_ttl)
    if response.status == 404:
        raise SourceError(f"Crossref does not know the DOI {doi} (HTTP 404): check it for typos; DOIs "
                          "registered elsewhere (DataCite: Zenodo, arXiv's own 10.48550) are not in Crossref")
    if response.status >= 400:
        raise SourceError(f"Crossref answered HTTP {response.status} {response.reason} for {doi}")
    return parse_work(response.body, doi)


def search_works(client: HttpClient, title: str, author: str, *, rows: int = 5) -> list[SourceRecord]:
    """Crossref's best matches for a title and an author's name (not yet checked to be that paper)."""
    settings = client.settings
    params = {"query.bibliographic": title, "query.author": author, "rows": str(rows)}
    if settings.contact:
        params["mailto"] = settings.contact
    what = f'the title "{title}"'
    response = client.get(f"{settings.crossref_api}/works", params=params, what="Crossref search",
                          cache_ttl=SEARCH_TTL)
    if response.status >= 400:
        raise SourceError(f"Crossref search answered HTTP {response.status} {response.reason} for {what}")
    return parse_search(response.body, what)
