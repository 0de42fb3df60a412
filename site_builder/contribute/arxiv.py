"""The arXiv API: ``GET {api}?id_list=ID[,ID...]&max_results=N`` answers with an Atom feed.

Three answers need care (see https://info.arxiv.org/help/api/user-manual.html):

- a malformed id gets HTTP 200 and a single ``<entry>`` whose title is ``Error`` and whose id is
  ``http://arxiv.org/api/errors#...``: an error, not a paper called "Error";
- a well-formed id that does not exist gets an empty feed (no entry at all);
- titles and author lists come hard-wrapped, and ids carry a version suffix (``2203.12119v2``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlencode

from .http import HttpClient
from .identity import family_name
from .sources import ContributeError, SourceError, SourceRecord

NS = {"atom": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}
ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})$")
_ABS_ID = re.compile(r"/abs/(?P<id>.+?)(v\d+)?$")
BATCH = 20  # ids per request: one polite request instead of twenty


def normalise_arxiv_id(text: str) -> str:
    """``arXiv:2203.12119v2`` or ``https://arxiv.org/abs/2203.12119`` -> ``2203.12119``."""
    value = text.strip()
    value = re.sub(r"^https?://(www\.|export\.)?arxiv\.org/(abs|pdf)/", "", value)
    value = re.sub(r"^arxiv:", "", value, flags=re.IGNORECASE)
    value = re.sub(r"\.pdf$", "", value)
    value = re.sub(r"v\d+$", "", value)
    if not ARXIV_ID.match(value):
        raise ContributeError(f"{text!r} is not an arXiv id: write it like 2203.12119 (or cs/0101001 for "
                              "old-style ids)")
    return value


def _text(element: ET.Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return " ".join(element.text.split()) or None


@dataclass(frozen=True)
class ArxivApiError:
    """arXiv's HTTP-200 error entry."""

    message: str


def parse_feed(body: bytes | str) -> list[SourceRecord | ArxivApiError]:
    """Every entry of an API answer, in order. Raises :class:`SourceError` if it is not an Atom feed."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise SourceError(f"the arXiv API answered with something that is not XML ({exc}); arXiv may be "
                          "having trouble: try again later") from None
    if root.tag != f"{{{NS['atom']}}}feed":
        raise SourceError(f"the arXiv API answered with XML that is not an Atom feed (root <{root.tag}>); "
                          "try again later")
    return [_parse_entry(entry) for entry in root.findall("atom:entry", NS)]


def _parse_entry(entry: ET.Element) -> SourceRecord | ArxivApiError:
    entry_id = _text(entry.find("atom:id", NS)) or ""
    title = _text(entry.find("atom:title", NS)) or ""
    if "/api/errors" in entry_id or title == "Error":
        return ArxivApiError(_text(entry.find("atom:summary", NS)) or entry_id or "unspecified error")
    match = _ABS_ID.search(entry_id)
    if not match or not title:
        raise SourceError(f"the arXiv API returned an entry without a usable id or title ({entry_id!r})")
    authors = tuple(n for n in (_text(a.find("atom:name", NS)) for a in entry.findall("atom:author", NS)) if n)
    published = _text(entry.find("atom:published", NS)) or ""
    if not authors or not re.match(r"^\d{4}-", published):
        raise SourceError(f"the arXiv API entry for {match['id']} has no authors or no publication date")
    year = int(published[:4])
    return SourceRecord(
        source="arXiv", key=match["id"], title=title, authors=authors, first_family=family_name(authors[0]),
        year=year, accepted_years=(year,), arxiv=match["id"], doi=_text(entry.find("arxiv:doi", NS)),
        venue_text=_text(entry.find("arxiv:journal_ref", NS)), comment=_text(entry.find("arxiv:comment", NS)),
        published=published,
    )


def query_url(api: str, ids: list[str]) -> str:
    return f"{api}?{urlencode({'id_list': ','.join(ids), 'max_results': len(ids)}, safe=',/')}"


def fetch_arxiv(client: HttpClient, arxiv_id: str) -> SourceRecord:
    """One paper's record; raises :class:`ContributeError` with the reason when there is none."""
    result = fetch_arxiv_many(client, [arxiv_id])[arxiv_id]
    if isinstance(result, ContributeError):
        raise result
    return result


def fetch_arxiv_many(client: HttpClient, ids: list[str]) -> dict[str, SourceRecord | ContributeError]:
    """Records for many ids, ``BATCH`` per request (sorted, so a re-run asks the same URLs and is
    answered from the cache). Network failures raise; a per-id problem is returned for that id."""
    wanted = sorted(set(ids))
    results: dict[str, SourceRecord | ContributeError] = {}
    for start in range(0, len(wanted), BATCH):
        results.update(_fetch_batch(client, wanted[start:start + BATCH]))
    return results


def _fetch_batch(client: HttpClient, ids: list[str]) -> dict[str, SourceRecord | ContributeError]:
    settings = client.settings
    response = client.get(query_url(settings.arxiv_api, ids), what="the arXiv API", cache_ttl=settings.metadata_ttl,
                          min_interval=settings.arxiv_delay)
    if response.status >= 400:
        raise SourceError(f"the arXiv API answered HTTP {response.status} {response.reason} for "
                          f"{', '.join(ids)}; check the SITE_BUILDER_ARXIV_API setting ({settings.arxiv_api})")
    entries = parse_feed(response.body)
    errors = [e for e in entries if isinstance(e, ArxivApiError)]
    if errors and len(ids) > 1:  # one bad id spoils the batch: ask for each alone to tell which
        out: dict[str, SourceRecord | ContributeError] = {}
        for one in ids:
            out.update(_fetch_batch(client, [one]))
        return out
    if errors:
        return {ids[0]: SourceError(f"the arXiv API rejected the id {ids[0]}: {errors[0].message}")}
    found = {r.key: r for r in entries if isinstance(r, SourceRecord)}
    return {
        i: found.get(i) or SourceError(f"arXiv has no paper {i} (the API returned no entry for it): check the id")
        for i in ids
    }
