"""``import-bib``: BibTeX entries to paper files, one scaffold per entry (bibtexparser 2).

Each entry becomes a draft like ``new`` writes (facts filled in, ``method`` and ``summary`` left for
a person), unless it is a duplicate (of a paper file, or of an earlier entry of the same .bib: same
arXiv id, DOI or normalised title) or cannot be converted (no title, no year, a truncated author list,
nothing to link to); every such entry is reported with its line and the reason. Nothing is ever
overwritten.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bibtexparser
from bibtexparser import middlewares as mw

from ..knowledge_base import normalise_title
from ..models import Taxonomy
from .arxiv import ARXIV_ID, normalise_arxiv_id
from .crossref import normalise_doi
from .files import create_file
from .identity import make_paper_id
from .repository import Repository, load_taxonomy
from .scaffold import Draft, render_draft
from .sources import ContributeError, read_user_file
from .venues import guess_venue


class Unconvertible(Exception):
    """An entry that cannot become a paper file; the message says why."""


@dataclass(frozen=True)
class BibOutcome:
    key: str
    line: int | None
    status: str  # "written", "would write", "duplicate" or "skipped"
    message: str


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    return " ".join(str(value).replace("{", "").replace("}", "").split()) if value is not None else ""


def _authors(fields: dict[str, Any]) -> tuple[str, ...]:
    names = fields.get("author")
    if not names:
        raise Unconvertible("no author field")
    out = []
    for name in names:
        parts = [*name.first, *name.von, *name.last]
        if [p.lower() for p in parts] == ["others"]:
            raise Unconvertible('the author list is truncated ("and others"): the full list is required')
        full = " ".join(" ".join(parts).replace("{", "").replace("}", "").split())
        if name.jr:
            full += " " + " ".join(name.jr)
        out.append(full)
    return tuple(out)


def _arxiv_id(fields: dict[str, Any]) -> str | None:
    prefix = (_text(fields, "archiveprefix") or _text(fields, "eprinttype")).lower()
    eprint = _text(fields, "eprint")
    candidates = []
    if eprint and (prefix == "arxiv" or ARXIV_ID.match(re.sub(r"v\d+$", "", eprint))):
        candidates.append(eprint)
    for name in ("journal", "note", "howpublished"):
        match = re.search(r"arxiv:\s*(\S+?)[,;.]?(\s|$)", _text(fields, name), flags=re.IGNORECASE)
        if match:
            candidates.append(match.group(1))
    volume = re.match(r"^abs/(\S+)$", _text(fields, "volume"))
    if volume and _text(fields, "journal").lower() == "corr":
        candidates.append(volume.group(1))
    match = re.search(r"arxiv\.org/(?:abs|pdf)/(\S+?)(?:\.pdf)?$", _text(fields, "url"))
    if match:
        candidates.append(match.group(1))
    for candidate in candidates:
        try:
            return normalise_arxiv_id(candidate)
        except ContributeError:
            continue
    return None


def _identity(entry: Any) -> tuple[str | None, str | None, str | None]:
    """(arXiv id, DOI, title) of an entry, each None when absent or malformed."""
    fields = {k.lower(): f.value for k, f in entry.fields_dict.items()}
    try:
        doi = normalise_doi(_text(fields, "doi")) if _text(fields, "doi") else None
    except ContributeError:
        doi = None
    return _arxiv_id(fields), doi, _text(fields, "title") or None


def _is_preprint(fields: dict[str, Any], venue_text: str) -> bool:
    return bool(re.search(r"\barxiv\b|^corr$", venue_text, flags=re.IGNORECASE)) or (
        not venue_text and bool(_text(fields, "eprint")))


def entry_to_draft(entry: Any, taxonomy: Taxonomy, source: str) -> Draft:
    fields = {k.lower(): f.value for k, f in entry.fields_dict.items()}
    title = _text(fields, "title")
    if not title:
        raise Unconvertible("no title")
    authors = _authors(fields)
    year_text = _text(fields, "year")
    if not re.fullmatch(r"\d{4}", year_text):
        raise Unconvertible(f"no four-digit year (year = {year_text!r})" if year_text else "no year")
    year = int(year_text)
    arxiv = _arxiv_id(fields)
    doi = None
    if _text(fields, "doi"):
        try:
            doi = normalise_doi(_text(fields, "doi"))
        except ContributeError as exc:
            raise Unconvertible(str(exc)) from None
    landing = _text(fields, "url")
    url = landing if landing.startswith("https://") and "arxiv.org" not in landing and not (arxiv or doi) else None
    if not (arxiv or doi or url):
        raise Unconvertible("nothing to link to: add an eprint (arXiv id), a doi or an https url")

    venue_text = _text(fields, "booktitle") or _text(fields, "journal")
    if _is_preprint(fields, venue_text):
        venue, note = "arXiv", "from the .bib: a preprint; once published, the venue id and its year"
    else:
        venue = guess_venue(venue_text, taxonomy.venues) or ""
        note = (f'guessed from "{venue_text[:60]}": check it' if venue else
                f'TODO: "{venue_text[:60]}" is no venue id in taxonomy.yaml: write one' if venue_text else
                "TODO: the entry names no venue: write an id from `venues` in taxonomy.yaml")
    family = " ".join(entry.fields_dict["author"].value[0].last) or authors[0].split()[-1]
    return Draft(
        id=make_paper_id(family, year, title), title=title, authors=authors, year=year, venue=venue,
        arxiv=arxiv, doi=doi, url=url, year_note="from the .bib: check it is the venue's year",
        venue_note=note, source_note=source, command="import-bib",
    )


def parse_bib(text: str) -> Any:
    """bibtexparser's Library; its syntax warnings are reported by us, not logged."""
    logger = logging.getLogger("bibtexparser")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        return bibtexparser.parse_string(text, append_middleware=[
            mw.NormalizeFieldKeys(), mw.LatexDecodingMiddleware(), mw.SeparateCoAuthors(), mw.SplitNameParts()])
    finally:
        logger.setLevel(level)


def import_bib(root: Path, bib_path: Path, *, dry_run: bool = False) -> list[BibOutcome]:
    text = read_user_file(bib_path)
    taxonomy = load_taxonomy(root)
    repo = Repository.scan(root)
    library = parse_bib(text)
    outcomes: list[BibOutcome] = []
    for block in library.failed_blocks:
        line = block.start_line + 1
        error = getattr(block, "error", None)
        why = (str(error) if "Duplicate" in type(block).__name__ and error else
               "BibTeX syntax error (an unclosed brace or quote, or a missing comma?)")
        key = getattr(block, "key", None) or "?"
        outcomes.append(BibOutcome(str(key), line, "skipped", why))

    seen: dict[str, str] = {}  # arxiv / doi / title -> the key of the first entry that had it
    taken = {p.stem for p in repo.papers}
    for entry in library.entries:
        line = entry.start_line + 1
        # Duplicates first: an entry we already have needs no conversion, whatever else is wrong with it.
        arxiv, doi, title = _identity(entry)
        facts = {"arXiv id": arxiv, "DOI": doi and doi.lower(), "title": normalise_title(title) if title else None}
        found = repo.find_duplicate(arxiv=arxiv, doi=doi, title=title)
        earlier = next((f"{what} as entry {seen[f'{what}:{v}']}" for what, v in facts.items()
                        if v and f"{what}:{v}" in seen), None)
        for what, value in facts.items():
            if value:
                seen.setdefault(f"{what}:{value}", entry.key)
        if found:
            outcomes.append(BibOutcome(entry.key, line, "duplicate", f"already in {found[0].path} ({found[1]})"))
            continue
        if earlier:
            outcomes.append(BibOutcome(entry.key, line, "duplicate", f"the same {earlier} earlier in the .bib"))
            continue
        try:
            draft = entry_to_draft(entry, taxonomy, f"{bib_path.name} (entry {entry.key})")
        except Unconvertible as exc:
            outcomes.append(BibOutcome(entry.key, line, "skipped", str(exc)))
            continue
        if draft.id in taken:
            outcomes.append(BibOutcome(entry.key, line, "skipped", f"the id {draft.id} is taken by another paper: "
                                       "add this one with `new --id ...`"))
            continue
        taken.add(draft.id)
        path = root / "papers" / f"{draft.id}.yaml"
        file_text = render_draft(draft, taxonomy)
        if dry_run:
            outcomes.append(BibOutcome(entry.key, line, "would write", f"papers/{draft.id}.yaml"))
            continue
        try:
            create_file(path, file_text)
        except FileExistsError:
            outcomes.append(BibOutcome(entry.key, line, "skipped", f"papers/{draft.id}.yaml exists"))
            continue
        outcomes.append(BibOutcome(entry.key, line, "written", f"papers/{draft.id}.yaml"))
    return sorted(outcomes, key=lambda o: (o.line or 0, o.key))
