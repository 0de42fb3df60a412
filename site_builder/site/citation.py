"""What reference managers read from a paper page: the ``citation_*`` meta tags, and the first version.

Zotero's browser connector and Google Scholar read Highwire Press tags: ``citation_title``, one
``citation_author`` per author in order, ``citation_publication_date``, the venue as
``citation_conference_title`` or ``citation_journal_title``, and the identifiers
(``citation_arxiv_id``, ``citation_doi``, ``citation_pdf_url``). The pairs are written into the page's
front matter and emitted, escaped, by ``overrides/main.html``.
"""

from __future__ import annotations

import re

from site_builder.models import Paper, Venue

_NEW_STYLE_ARXIV = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def citation_meta(paper: Paper, venue: Venue) -> list[tuple[str, str]]:
    """``(name, content)`` pairs, in the order the tags are written."""
    meta = [("citation_title", paper.title)]
    meta += [("citation_author", author) for author in paper.authors]
    meta.append(("citation_publication_date", str(paper.year)))
    if venue.kind in ("conference", "workshop"):
        meta.append(("citation_conference_title", venue.name))
    elif venue.kind == "journal":
        meta.append(("citation_journal_title", venue.name))
    if paper.arxiv:
        meta.append(("citation_arxiv_id", paper.arxiv))
    if paper.doi:
        meta.append(("citation_doi", paper.doi))
    if paper.arxiv:
        meta.append(("citation_pdf_url", f"https://arxiv.org/pdf/{paper.arxiv}"))
    return meta


def first_version(paper: Paper) -> str | None:
    """The month the first version appeared, where the source says it: a new-style arXiv id is
    numbered by the month of its first submission (``2203.12119``: March 2022).

    >>> from types import SimpleNamespace as P
    >>> first_version(P(arxiv="2203.12119")), first_version(P(arxiv=None)), first_version(P(arxiv="cs/0101001"))
    ('March 2022', None, None)
    """
    match = _NEW_STYLE_ARXIV.match(paper.arxiv or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return f"{MONTHS[int(match.group(2)) - 1]} {2000 + int(match.group(1))}"
