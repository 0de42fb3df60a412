"""Find the published version of a preprint entry (``venue: arXiv``) and, with ``--fix``, write it in.

For each preprint, Crossref is searched by title and first author (``query.bibliographic`` and
``query.author``). A result is taken only when all of these hold, so that a different paper is
never taken:

- it is a journal article, a proceedings paper or a book chapter (never another preprint);
- its title and ours have a similarity of at least 0.9 after normalisation (case, accents,
  punctuation, LaTeX; with or without a name prefix such as "E2VPT: ");
- its first author has our first author's family name;
- it is not dated more than a year before the preprint, and no other paper file has its DOI.

Of several such results the most similar title wins. The finding says where and when it was
published and whether the title or the authors changed; ``--fix`` sets ``venue`` (the
container-title mapped to a venue id of taxonomy.yaml, see :mod:`.venues`), ``year`` and ``doi``,
and ``title`` / ``authors`` when they changed, keeping the rest of the file as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..models import Taxonomy
from .crossref import search_works
from .http import HttpClient
from .identity import TITLE_THRESHOLD, comparable_title, family_name, same_surname, slug_word, title_similarity
from .paper_edit import apply_fields
from .repository import PaperFile
from .sources import SourceRecord
from .venues import guess_venue

PUBLISHED_TYPES = frozenset({"journal-article", "proceedings-article", "book-chapter"})


def _without_name(title: str) -> str:
    head, sep, rest = title.partition(": ")
    return rest if sep and len(head.split()) <= 4 else title


def title_score(ours: str, theirs: str) -> float:
    """The best similarity of the two titles, with and without a name prefix."""
    return max(title_similarity(ours, theirs), title_similarity(_without_name(ours), _without_name(theirs)))


def _surnames(authors: list[str] | tuple[str, ...]) -> list[str]:
    return [slug_word(family_name(a)) for a in authors]


@dataclass(frozen=True)
class Publication:
    paper: PaperFile
    record: SourceRecord
    venue: str | None  # the venue id of taxonomy.yaml the container-title names, if any
    title_changed: bool
    authors_changed: bool

    def describe(self) -> str:
        r = self.record
        text = f"published as {r.venue_text or 'a work with no container title'} {r.year} (DOI {r.doi})"
        ours = self.paper.get("authors") or []
        changes = []
        if self.title_changed:
            changes.append(f'the title changed to "{r.title}"')
        if self.authors_changed:
            changes.append(f"the authors changed ({len(ours)} -> {len(r.authors)}: {', '.join(r.authors)})"
                           if len(ours) != len(r.authors) else f"the authors changed ({', '.join(r.authors)})")
        text += "; " + "; ".join(changes) if changes else "; title and authors unchanged"
        return text

    def values(self) -> dict[str, Any]:
        """The fields ``--fix`` writes."""
        values: dict[str, Any] = {"venue": self.venue, "year": self.record.year, "doi": self.record.doi}
        if self.title_changed:
            values["title"] = self.record.title
        if self.authors_changed:
            values["authors"] = list(self.record.authors)
        return values


def is_preprint(paper: PaperFile) -> bool:
    return paper.get("venue") == "arXiv" and bool(paper.text("title"))


def choose_publication(paper: PaperFile, candidates: list[SourceRecord], taken_dois: set[str]) -> SourceRecord | None:
    """The candidate that is this paper's published version, or None (rules in the module docstring)."""
    title = paper.text("title") or ""
    authors = paper.get("authors")
    first = authors[0] if isinstance(authors, list) and authors and isinstance(authors[0], str) else ""
    year = paper.get("year") if isinstance(paper.get("year"), int) else 0
    own_doi = (paper.text("doi") or "").lower()
    best: tuple[float, SourceRecord] | None = None
    for record in candidates:
        doi = (record.doi or "").lower()
        if record.work_type not in PUBLISHED_TYPES or not doi or (doi in taken_dois and doi != own_doi):
            continue
        if not first or not same_surname(family_name(first), record.first_family):
            continue
        if year and record.year < year - 1:
            continue
        score = title_score(title, record.title)
        if score >= TITLE_THRESHOLD and (best is None or score > best[0]):
            best = (score, record)
    return best[1] if best else None


def find_publication(paper: PaperFile, client: HttpClient, taxonomy: Taxonomy, taken_dois: set[str]) -> Publication | None:
    """Search Crossref for the paper; raises :class:`~.sources.ContributeError` when the search fails."""
    title = paper.text("title") or ""
    authors = [a for a in paper.get("authors") or [] if isinstance(a, str)]
    candidates = search_works(client, title, family_name(authors[0]) if authors else "")
    record = choose_publication(paper, candidates, taken_dois)
    if record is None:
        return None
    return Publication(
        paper, record, guess_venue(record.venue_text, taxonomy.venues),
        title_changed=comparable_title(title) != comparable_title(record.title),
        authors_changed=_surnames(authors) != _surnames(record.authors),
    )


def apply_publication(root: Path, publication: Publication) -> None:
    """Write the publication into the paper file (atomically); the venue must be known."""
    paper = publication.paper
    apply_fields(root / paper.path, paper.path, paper.doc, publication.values(), after=("arxiv", "venue", "year"))
