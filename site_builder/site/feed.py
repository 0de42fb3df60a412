"""An Atom feed (RFC 4287) of the newest papers, written with :mod:`xml.etree.ElementTree`.

The feed is deterministic: papers carry a year (and an arXiv id) but no date of addition, so an
entry's ``updated`` is the first day of its arXiv month when the id is new-style (``2203.12119`` ->
2022-03-01), else the first day of its year, and the feed's ``updated`` is the newest of those.
Links are absolute when ``site_url`` is known, else relative to the feed (RFC 4287 allows relative
references; readers resolve them against the feed's own URL, which sits at the site root).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from site_builder.models import Paper

from . import urls
from .fragments import display_title

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_TITLE = "Awesome Prompt-Based Adaptation: newest papers"
_NEW_STYLE_ARXIV = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")


def paper_timestamp(paper: Paper) -> str:
    """An RFC 3339 timestamp for a paper: its arXiv month when known, else its year."""
    match = _NEW_STYLE_ARXIV.match(paper.arxiv or "")
    if match and 1 <= int(match.group(2)) <= 12:
        year, month = 2000 + int(match.group(1)), int(match.group(2))
        return f"{year:04d}-{month:02d}-01T00:00:00Z"
    return f"{paper.year:04d}-01-01T00:00:00Z"


def render_feed(papers: Sequence[Paper], *, site_url: str | None, venue_names: dict[str, str]) -> str:
    """The Atom document for ``papers`` (newest first), as text."""
    base = site_url.rstrip("/") + "/" if site_url else ""

    def href(url: str) -> str:
        return base + url

    def element_id(url: str, paper_id: str | None = None) -> str:
        # An Atom id must be an IRI that never changes; a stable URN when the site URL is unknown.
        if base:
            return base + url
        return f"urn:awesome-prompt-based-adaptation:{paper_id or 'feed'}"

    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = FEED_TITLE
    ET.SubElement(feed, f"{{{ATOM_NS}}}subtitle").text = (
        "Papers on prompt-based adaptation of large vision models, newest first."
    )
    ET.SubElement(feed, f"{{{ATOM_NS}}}id").text = element_id(urls.FEED)
    stamps = [paper_timestamp(p) for p in papers]
    ET.SubElement(feed, f"{{{ATOM_NS}}}updated").text = max(stamps, default="1970-01-01T00:00:00Z")
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", rel="self", type="application/atom+xml",
                  href=href(urls.FEED))
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", rel="alternate", type="text/html", href=href(urls.HOME) or "./")
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    ET.SubElement(author, f"{{{ATOM_NS}}}name").text = "Awesome Prompt-Based Adaptation contributors"
    ET.SubElement(feed, f"{{{ATOM_NS}}}generator").text = "site_builder"

    for paper, stamp in zip(papers, stamps, strict=True):
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        ET.SubElement(entry, f"{{{ATOM_NS}}}title").text = display_title(paper)
        ET.SubElement(entry, f"{{{ATOM_NS}}}id").text = element_id(urls.paper_url(paper.id), paper.id)
        ET.SubElement(entry, f"{{{ATOM_NS}}}updated").text = stamp
        ET.SubElement(entry, f"{{{ATOM_NS}}}link", rel="alternate", type="text/html",
                      href=href(urls.paper_url(paper.id)))
        for name in paper.authors:
            ET.SubElement(ET.SubElement(entry, f"{{{ATOM_NS}}}author"), f"{{{ATOM_NS}}}name").text = name
        venue = venue_names.get(paper.venue, paper.venue)
        ET.SubElement(entry, f"{{{ATOM_NS}}}summary").text = f"{venue} {paper.year}. {paper.summary}"
        for facet_ids in (paper.method, paper.modality, paper.tasks, paper.domains, paper.settings, paper.trust):
            for category_id in facet_ids:
                ET.SubElement(entry, f"{{{ATOM_NS}}}category", term=category_id)
    ET.indent(feed, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
