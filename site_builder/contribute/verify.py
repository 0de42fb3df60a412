"""``verify``: compare each paper's facts with what its arXiv id and DOI resolve to.

The rules (documented in CONTRIBUTING.md):

- **title**: the normalised titles (case, accents, punctuation, LaTeX removed) must have a difflib
  similarity of at least 0.9. Below that the id almost always belongs to another paper.
- **first author**: the family names must agree (accents folded; "Cheng Han" matches family "Han").
- **year** against arXiv, whose date is that of the *first* version:
  a preprint (venue arXiv) has exactly that year; a published paper's venue year may be any later
  year (review takes time) and at most one year earlier (a paper presented in December and posted
  in January, or posted after acceptance). A first version two or more years after the venue year
  is an error: the id is wrong or the year is.
- **year** against Crossref: one of the years Crossref gives the DOI (print, online, issued).
- warnings (not failures): a different number of authors, or a DOI on arXiv that differs from ours.

With ``published=True`` every preprint (``venue: arXiv``) is also looked up on Crossref for its
published version (see :mod:`.published`); one found is an error at the ``venue`` line until the
file says so, and ``fix=True`` writes it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..problems import ProblemList
from .arxiv import ARXIV_ID, fetch_arxiv_many
from .crossref import DOI, fetch_crossref
from .http import HttpClient
from .identity import TITLE_THRESHOLD, family_name, same_surname, title_similarity
from .published import apply_publication, find_publication, is_preprint
from .repository import PaperFile, Repository, load_taxonomy
from .sources import ContributeError, SourceError, SourceRecord

PREPRINT_GRACE_YEARS = 1


@dataclass(frozen=True)
class VerifyReport:
    problems: ProblemList
    checked: int  # papers compared with at least one source
    lookups: int  # records compared
    preprints: int = 0  # preprints searched for a published version
    fixed: list[str] = field(default_factory=list)  # "path: what was written", one per fixed paper


def _check_title(paper: PaperFile, record: SourceRecord, problems: ProblemList, author_ok: bool) -> bool:
    ours = paper.text("title") or ""
    score = title_similarity(ours, record.title)
    if score >= TITLE_THRESHOLD:
        return True
    hint = "; the id probably belongs to another paper" if not author_ok else ""
    problems.error(paper.path, paper.line("title"), "title",
                   f'does not match {record.label}, which is "{record.title}" (similarity {score:.2f}){hint}')
    return False


def _check_first_author(paper: PaperFile, record: SourceRecord, problems: ProblemList) -> bool:
    authors = paper.get("authors")
    if not isinstance(authors, list) or not authors or not isinstance(authors[0], str):
        return True  # validate reports a missing author list; nothing to compare
    if same_surname(family_name(authors[0]), record.first_family) or same_surname(authors[0], record.first_family):
        if len(authors) != len(record.authors):
            problems.warning(paper.path, paper.line("authors"), "authors",
                             f"lists {len(authors)} authors, {record.label} lists {len(record.authors)}: "
                             "check none is missing")
        return True
    problems.error(paper.path, paper.line("authors", 0), "authors[0]",
                   f'first author is "{authors[0]}" but {record.label} has "{record.authors[0]}"')
    return False


def _check_year(paper: PaperFile, record: SourceRecord, problems: ProblemList) -> None:
    year, venue = paper.get("year"), paper.get("venue")
    if not isinstance(year, int) or isinstance(year, bool):
        return
    line = paper.line("year")
    if record.source == "Crossref":
        if year not in record.accepted_years:
            years = " or ".join(map(str, record.accepted_years))
            problems.error(paper.path, line, "year", f"is {year} but Crossref dates {record.key} {years}")
        return
    first = f"the first arXiv version of {record.key} is from {(record.published or '')[:10]}"
    if venue == "arXiv" and year != record.year:
        problems.error(paper.path, line, "year", f"a preprint's year is that of its first version: {first}, "
                       f"so year: {record.year}")
    elif venue != "arXiv" and record.year > year + PREPRINT_GRACE_YEARS:
        problems.error(paper.path, line, "year", f"is {year}, but {first}, more than a year later: check the "
                       "year, and that the arXiv id belongs to this paper")


def _check_doi(paper: PaperFile, record: SourceRecord, problems: ProblemList) -> None:
    ours = paper.text("doi")
    if ours and record.doi and ours.lower() != record.doi.lower():
        problems.warning(paper.path, paper.line("doi"), "doi",
                         f"is {ours} but arXiv {record.key} names the DOI {record.doi}: check which is right")


def compare(paper: PaperFile, record: SourceRecord, problems: ProblemList) -> None:
    """Every disagreement between one paper file and one source record."""
    author_ok = _check_first_author(paper, record, problems)
    _check_title(paper, record, problems, author_ok)
    _check_year(paper, record, problems)
    if record.source == "arXiv":
        _check_doi(paper, record, problems)


def check_published(repo: Repository, client: HttpClient, papers: list[PaperFile], problems: ProblemList,
                    fix: bool) -> tuple[int, list[str]]:
    """Look for the published version of every preprint among ``papers``; returns (preprints searched,
    fixed papers)."""
    taxonomy = load_taxonomy(repo.root)
    taken = {str(p.get("doi")).lower() for p in repo.papers if p.text("doi")}
    preprints = [p for p in papers if is_preprint(p)]
    fixed = []
    for paper in preprints:
        line = paper.line("venue")
        try:
            publication = find_publication(paper, client, taxonomy, taken)
        except SourceError as exc:
            problems.error(paper.path, line, "venue", f"cannot look for the published version: {exc}")
            continue
        if publication is None:
            continue
        message = publication.describe()
        if publication.venue is None:
            problems.error(paper.path, line, "venue", f"{message}; no venue id of taxonomy.yaml names "
                           f'"{publication.record.venue_text}": add the venue there (or edit the file by hand)'
                           + (", then run --fix again" if fix else ""))
            continue
        if not fix:
            problems.error(paper.path, line, "venue", f"{message}; run `verify --published --fix` to write "
                           f"venue {publication.venue}, year and DOI into the file")
            continue
        try:
            apply_publication(repo.root, publication)
        except ContributeError as exc:
            problems.error(paper.path, line, "venue", f"{message}; --fix failed: {exc}")
            continue
        taken.add((publication.record.doi or "").lower())
        written = ", ".join(f"{k}" for k in publication.values())
        fixed.append(f"{paper.path}: {message}; wrote {written}")
    return len(preprints), fixed


def verify(repo: Repository, client: HttpClient, ids: list[str] | None = None, *, published: bool = False,
           fix: bool = False) -> VerifyReport:
    """Compare the selected papers (all by default) with their sources.

    A source that cannot be reached raises :class:`~.errors.FetchError` (the run cannot do its job);
    an id the source does not know is a problem of that paper, reported at its line.
    """
    papers = repo.select(ids or [])
    problems = ProblemList()
    problems.extend(list(repo.problems))
    arxiv_of = {p.path: str(p.get("arxiv")) for p in papers if isinstance(p.get("arxiv"), str)
                and ARXIV_ID.match(p.get("arxiv"))}
    records = fetch_arxiv_many(client, sorted(set(arxiv_of.values()))) if arxiv_of else {}
    checked, lookups = set(), 0
    for paper in papers:
        if paper.path in arxiv_of:
            result = records[arxiv_of[paper.path]]
            if isinstance(result, ContributeError):
                problems.error(paper.path, paper.line("arxiv"), "arxiv", str(result))
            else:
                compare(paper, result, problems)
                lookups += 1
            checked.add(paper.path)
        doi = paper.text("doi")
        if doi and DOI.match(doi):
            try:
                compare(paper, fetch_crossref(client, doi), problems)
                lookups += 1
            except SourceError as exc:
                problems.error(paper.path, paper.line("doi"), "doi", str(exc))
            checked.add(paper.path)
    preprints, fixed = check_published(repo, client, papers, problems, fix) if published else (0, [])
    return VerifyReport(problems, len(checked), lookups, preprints, fixed)
