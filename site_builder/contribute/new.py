"""``new``: a paper file scaffolded from the arXiv API and/or Crossref, never over an existing one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..models import Taxonomy
from .arxiv import fetch_arxiv, normalise_arxiv_id
from .crossref import fetch_crossref, normalise_doi
from .files import create_file
from .http import HttpClient
from .identity import TITLE_THRESHOLD, make_paper_id, title_similarity
from .repository import Repository, load_taxonomy
from .scaffold import Draft, render_draft
from .sources import ContributeError, SourceRecord
from .venues import guess_venue, year_in


class DuplicatePaper(ContributeError):
    """The paper is already in the knowledge base."""


@dataclass(frozen=True)
class NewPaper:
    path: Path
    text: str
    draft: Draft


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _venue_and_year(primary: SourceRecord, taxonomy: Taxonomy) -> tuple[str, int, str, str]:
    """(venue, year, venue note, year note) for the draft."""
    text = primary.venue_text
    guess = guess_venue(text, taxonomy.venues)
    what = "Crossref container-title" if primary.source == "Crossref" else "arXiv journal_ref"
    if primary.source == "Crossref":
        year = primary.year
        year_note = "year of the published version (Crossref): check it is the venue's year"
    else:  # a journal_ref names the published version, and its year is the venue's
        year = year_in(text) or primary.year
        year_note = ("from the journal_ref: check it" if text and year_in(text)
                     else "year of the first arXiv version: use the venue's year once published")
    if guess:
        return guess, year, f'guessed from the {what} "{_short(text or "")}": check it', year_note
    if text:
        return "", year, (f'TODO: the {what} says "{_short(text)}", which is no venue id in taxonomy.yaml: '
                          "write the id, or propose the venue in your pull request"), year_note
    if primary.source == "Crossref":
        return "", year, "TODO: Crossref names no venue: write an id from `venues` in taxonomy.yaml", year_note
    note = "a preprint as far as arXiv knows; once published, the venue id and its year"
    hint = guess_venue(primary.comment, taxonomy.venues)
    if hint:
        note += f'; the arXiv comment says "{_short(primary.comment or "", 40)}" (venue {hint}?)'
    return "arXiv", year, note, year_note


def build_draft(arxiv_record: SourceRecord | None, crossref_record: SourceRecord | None, taxonomy: Taxonomy,
                paper_id: str | None = None) -> Draft:
    primary = crossref_record or arxiv_record
    if primary is None:
        raise ContributeError("give --arxiv ID or --doi DOI (or both)")
    if arxiv_record and crossref_record:
        score = title_similarity(arxiv_record.title, crossref_record.title)
        if score < TITLE_THRESHOLD:
            raise ContributeError(
                f"the arXiv id and the DOI are different papers: arXiv {arxiv_record.key} is "
                f'"{arxiv_record.title}", Crossref {crossref_record.key} is "{crossref_record.title}" '
                f"(title similarity {score:.2f}); check both")
    venue, year, venue_note, year_note = _venue_and_year(primary, taxonomy)
    sources = " and ".join(r.label for r in (arxiv_record, crossref_record) if r)
    return Draft(
        id=paper_id or make_paper_id(primary.first_family, year, primary.title),
        title=primary.title, authors=primary.authors, year=year, venue=venue,
        arxiv=arxiv_record.arxiv if arxiv_record else None,
        doi=(crossref_record.doi if crossref_record else None) or (arxiv_record.doi if arxiv_record else None),
        year_note=year_note, venue_note=venue_note, source_note=sources,
    )


def _refuse_duplicate(repo: Repository, **facts: str | None) -> None:
    found = repo.find_duplicate(**facts)
    if found:
        paper, why = found
        raise DuplicatePaper(f"already in the knowledge base: {paper.path} has {why}; edit that file instead")


def create_paper(root: Path, client: HttpClient, *, arxiv: str | None = None, doi: str | None = None,
                 paper_id: str | None = None, dry_run: bool = False) -> NewPaper:
    """Fetch, check for duplicates, render and write ``papers/<id>.yaml``; raise with the reason if not."""
    arxiv_id = normalise_arxiv_id(arxiv) if arxiv else None
    doi = normalise_doi(doi) if doi else None
    taxonomy = load_taxonomy(root)
    repo = Repository.scan(root)
    _refuse_duplicate(repo, arxiv=arxiv_id, doi=doi)  # before any request: cheap and polite

    arxiv_record = fetch_arxiv(client, arxiv_id) if arxiv_id else None
    crossref_record = fetch_crossref(client, doi) if doi else None
    draft = build_draft(arxiv_record, crossref_record, taxonomy, paper_id)
    _refuse_duplicate(repo, doi=draft.doi, title=draft.title)

    path = root / "papers" / f"{draft.id}.yaml"
    if path.exists():
        raise ContributeError(f"papers/{draft.id}.yaml already exists and is another paper: choose an id "
                              f"with --id (e.g. --id {draft.id}-2)")
    text = render_draft(draft, taxonomy)
    if not dry_run:
        try:
            create_file(path, text)
        except FileExistsError:
            raise ContributeError(f"papers/{draft.id}.yaml appeared while writing; nothing was overwritten") from None
    return NewPaper(path, text, draft)
