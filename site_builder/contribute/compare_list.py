"""``compare-list``: what another awesome list has that the knowledge base lacks, and its wrong links.

Each paper row of the list (see :mod:`.awesome_list`) is looked up in the paper files:

- by id: the paper holding the row's arXiv id (else its DOI);
- by title: a paper whose title or short name matches the row's title. Titles match after
  normalisation (case, accents, punctuation, spacing, LaTeX), with or without a name prefix
  ("CoOp: ..."), at a difflib similarity of at least 0.9, or when a title of five words or more is
  the start of the other (a truncated title). A title of one to three words matches only a short
  name or a name prefix exactly.

A row is **in the knowledge base** when either finds a paper, **missing** when neither does, and
**wrong** (a wrong link, worth a look) when the id and the title point at two different papers, when
the row's title (four words or more) is unlike the title of the paper holding its id (similarity
below 0.8 and not an abridgement of it, so a slightly renamed or shortened title passes), or when the
title (four words or more) matches a paper that has another arXiv id; a short name that matches a
paper with another arXiv id is a probable wrong link when only that paper carries the name, and leaves
the row missing otherwise (two methods may share a name). A row whose title differs from that of the
paper holding its id but shares enough of its rare words (weighted by how few titles here use them) is
another version of that paper. A name recorded on the errata page (``docs/errata.md``: a table row
that opens with the list's name in italics and ends with our entry's link) is matched to that entry,
so a wrong link, once recorded, is recognised on every later run. Rows listed in an ``--exclude``
file are out of scope: counted, not compared.
Recall is the share of distinct in-scope papers the knowledge base has. Nothing touches the network.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .arxiv import normalise_arxiv_id
from .awesome_list import AwesomeList, ListEntry
from .identity import TITLE_THRESHOLD, comparable_title
from .repository import PaperFile, Repository
from .sources import ContributeError, read_user_file

AGREEMENT_THRESHOLD = 0.8  # a row's title against the paper holding its id: renamed versions still agree
LONG_TITLE_WORDS = 4
PREFIX_WORDS = 5
NAME_PREFIX = re.compile(r"^\s*([^:]{1,40}?)\s*:\s+(\S.*)$")


def title_forms(title: str) -> tuple[str, str | None]:
    """(the comparable title, the comparable name prefix or None): ``"CoOp: Learning to ..."`` gives
    ``("learning to ...", "coop")`` and ``"Learning to ..."`` gives ``("learning to ...", None)``."""
    match = NAME_PREFIX.match(title)
    if match and len(match.group(1).split()) <= 4:
        return comparable_title(match.group(2)), comparable_title(match.group(1)) or None
    return comparable_title(title), None


@dataclass(frozen=True)
class KnownPaper:
    file: PaperFile
    title: str  # comparable, without name prefix
    whole: str  # comparable, with it
    names: frozenset[str]  # comparable short name and name prefix

    @property
    def path(self) -> str:
        return self.file.path

    @property
    def arxiv(self) -> str | None:
        return self.file.text("arxiv")


def _similar(a: str, b: str, threshold: float) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    matcher = difflib.SequenceMatcher(None, a, b)
    return matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold and \
        matcher.ratio() >= threshold


def _is_word_prefix(short: str, long: str) -> bool:
    return len(short.split()) >= PREFIX_WORDS and (long == short or long.startswith(short + " "))


def abridges(title: str, whole: str) -> bool:
    """Whether ``title`` is an abridgement of the comparable title ``whole``: its words in order, an
    acronym standing for consecutive words ("Prompt Engineering on Vision-Language Models" and
    "Visual Prompting in MLLMs" against the full survey titles)."""
    long = whole.split()
    at = 0
    for word in re.findall(r"[^\W_]+", title):
        acronym = re.fullmatch(r"([A-Z]{2,})s?", word)
        if acronym:
            letters = acronym.group(1).lower()
            starts = [i for i in range(at, len(long) - len(letters) + 1)
                      if "".join(w[0] for w in long[i:i + len(letters)]) == letters]
            if starts:
                at = starts[0] + len(letters)
                continue
        wanted = comparable_title(word)
        while at < len(long) and long[at] != wanted:
            at += 1
        if at == len(long):
            return False
        at += 1
    return True


def names_only(title: str) -> bool:
    """A title of one to three words: it can only be compared with short names."""
    return len(comparable_title(title).split()) < LONG_TITLE_WORDS


def title_matches(title: str, paper: KnownPaper, threshold: float = TITLE_THRESHOLD) -> bool:
    """Whether a list's title names this paper (the rules in the module docstring)."""
    body, name = title_forms(title)
    whole = comparable_title(title)
    if len(whole.split()) < LONG_TITLE_WORDS:
        return bool(whole) and (whole in paper.names or whole in (paper.title, paper.whole)
                                or (name is not None and name in paper.names))
    if name and name in paper.names and _similar(body, paper.title, threshold - 0.1):
        return True
    return any(_similar(mine, theirs, threshold) or _is_word_prefix(mine, theirs)
               for mine in {body, whole} for theirs in {paper.title, paper.whole})


ERRATA_PAGE = Path("docs") / "errata.md"
# An errata table row: "| *What the list says* ... | ... | [entry](papers/<id>/index.md) |"
ERRATA_ROW = re.compile(r"^\|\s*\*([^*|]+)\*[^|]*\|.*\(papers/([a-z][a-z0-9-]+)/index\.md\)[^|]*\|\s*$")
RETITLE_SHARE = 0.3  # of a row title's rarity-weighted words that the paper holding its id must share


def _words(title: str) -> set[str]:
    return {w for w in comparable_title(title).split() if len(w) > 2}


class PaperIndex:
    """The paper files, looked up by arXiv id, DOI and title, and by the names the errata page records."""

    def __init__(self, papers: Iterable[PaperFile], errata: dict[str, str] | None = None):
        self.papers: list[KnownPaper] = []
        self.by_arxiv: dict[str, KnownPaper] = {}
        self.by_doi: dict[str, KnownPaper] = {}
        for file in papers:
            title = file.text("title") or ""
            body, name = title_forms(title)
            names = {n for n in (name, comparable_title(file.text("short_name") or "")) if n}
            known = KnownPaper(file, body, comparable_title(title), frozenset(names))
            self.papers.append(known)
            if file.text("arxiv"):
                self.by_arxiv[str(file.text("arxiv"))] = known
            if file.text("doi"):
                self.by_doi[str(file.text("doi")).lower()] = known
        by_path = {p.path.removeprefix("papers/").removesuffix(".yaml"): p for p in self.papers}
        self.by_erratum = {comparable_title(name): by_path[pid] for name, pid in (errata or {}).items()
                           if pid in by_path}
        # how rare each title word is here: "visual prompt tuning" says little, "abductive" a lot
        counts: dict[str, int] = {}
        for paper in self.papers:
            for word in _words(paper.whole):
                counts[word] = counts.get(word, 0) + 1
        total = max(1, len(self.papers))
        self.rarity = {w: math.log(total / n) for w, n in counts.items()}

    def shares_rare_words(self, title: str, paper: KnownPaper) -> bool:
        """Whether a retitled version is plausible: the row's title shares most of its rare words."""
        mine = _words(title)
        weight = {w: self.rarity.get(w, math.log(max(2, len(self.papers)))) for w in mine}
        total = sum(weight.values())
        return total > 0 and sum(weight[w] for w in mine & _words(paper.whole)) / total >= RETITLE_SHARE

    def named(self, title: str) -> list[KnownPaper]:
        """Every paper the title could name."""
        return [p for p in self.papers if title_matches(title, p)] if title else []

    def by_title(self, title: str) -> KnownPaper | None:
        """The paper the title names; the most similar one when several match."""
        if not title:
            return None
        matches = self.named(title)
        if len(matches) > 1:
            whole = comparable_title(title)
            matches.sort(key=lambda p: -max(difflib.SequenceMatcher(None, whole, p.whole).ratio(),
                                            difflib.SequenceMatcher(None, title_forms(title)[0], p.title).ratio()))
        return matches[0] if matches else None


@dataclass(frozen=True)
class Exclusion:
    line: int
    key: str  # an arXiv id or a title, as written
    arxiv: str | None  # the arXiv id the key is or names ("... (Text4Point, arXiv 2301.07584)")
    titles: frozenset[str]  # comparable forms of the key as a title, with and without a trailing "(...)"
    reason: str


def _exclusion(number: int, key: str, reason: str) -> Exclusion:
    try:
        arxiv: str | None = normalise_arxiv_id(key)
    except ContributeError:
        found = re.search(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d.])", key)
        arxiv = found.group(1) if found else None
    titles = set()
    if arxiv != key:
        for text in (key, re.sub(r"\s*\([^()]*\)\s*$", "", key)):
            titles.update(f for f in (comparable_title(text), title_forms(text)[0]) if len(f.split()) >= 2)
    return Exclusion(number, key, arxiv, frozenset(titles), reason)


def read_exclusions(path: Path) -> list[Exclusion]:
    """One arXiv id or title per line, optionally a tab and the reason; ``#`` starts a comment line."""
    text = read_user_file(path, "the exclude file")
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        key, _, reason = raw.partition("\t")
        out.append(_exclusion(number, key.strip(), reason.strip()))
    return out


@dataclass(frozen=True)
class RowResult:
    entry: ListEntry
    status: str  # "have", "missing", "wrong" or "excluded"
    paper: str | None = None  # the paper file the row was found as
    note: str = ""

    @property
    def found(self) -> bool:
        return self.paper is not None and self.status != "excluded"

    def to_json(self) -> dict[str, Any]:
        e = self.entry
        return {"line": e.line, "status": self.status, "title": e.title, "arxiv": e.arxiv, "doi": e.doi,
                "paper": self.paper, "note": self.note}


@dataclass
class Comparison:
    path: str
    rows: list[RowResult]
    exclusions_unused: list[Exclusion] = field(default_factory=list)

    def papers(self) -> list[list[RowResult]]:
        """The rows grouped by paper: two rows are one paper when they share a paper file, an arXiv id,
        a DOI or a title of four words or more (a wrong row's id is another paper's, so it joins by
        title only)."""
        parent = list(range(len(self.rows)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        first: dict[str, int] = {}
        for i, row in enumerate(self.rows):
            for key in _identity_keys(row):
                if key in first:
                    parent[root(i)] = root(first[key])
                else:
                    first[key] = i
        groups: dict[int, list[RowResult]] = {}
        for i, row in enumerate(self.rows):
            groups.setdefault(root(i), []).append(row)
        return list(groups.values())

    def totals(self) -> dict[str, Any]:
        papers = self.papers()
        in_scope = [rows for rows in papers if not any(r.status == "excluded" for r in rows)]
        found = sum(1 for rows in in_scope if any(r.found for r in rows))
        return {"rows": len(self.rows), "distinct": len(papers), "listed_twice_or_more": len(self.rows) - len(papers),
                "excluded": len(papers) - len(in_scope), "in_scope": len(in_scope), "in_kb": found,
                "not_in_kb": len(in_scope) - found, "wrong_rows": sum(1 for r in self.rows if r.status == "wrong"),
                "recall": round(found / len(in_scope), 4) if in_scope else None}

    def missing_arxiv_ids(self) -> list[str]:
        return sorted({r.entry.arxiv for r in self.rows if r.status == "missing" and r.entry.arxiv})


def _identity_keys(row: RowResult) -> list[str]:
    e = row.entry
    keys = [f"file:{row.paper}"] if row.paper else []
    if e.arxiv and row.status != "wrong":
        keys.append(f"arXiv:{e.arxiv}")
    if e.doi and row.status != "wrong":
        keys.append(f"doi:{e.doi.lower()}")
    title = comparable_title(e.title)
    if len(title.split()) >= LONG_TITLE_WORDS:
        keys.append(f"title:{title}")
    if not keys:  # a short title and nothing else: only the same row again (same section) is the same paper
        keys.append(f"row:{e.section}:{title}")
    return keys


def _describe(paper: KnownPaper) -> str:
    return f"{paper.path} ({f'arXiv {paper.arxiv}' if paper.arxiv else 'no arXiv id'})"


def compare_entry(entry: ListEntry, index: PaperIndex) -> RowResult:
    by_id = (index.by_arxiv.get(entry.arxiv) if entry.arxiv else None) or \
        (index.by_doi.get(entry.doi.lower()) if entry.doi else None)
    by_title = index.by_title(entry.title)
    link = f"arXiv {entry.arxiv}" if entry.arxiv else f"DOI {entry.doi}"
    if by_id is not None:
        # a full title that agrees with the id's paper wins over a looser match elsewhere; a bare name
        # ("VPT") that names another paper here does not
        title_agrees = title_matches(entry.title, by_id, AGREEMENT_THRESHOLD) or abridges(entry.title, by_id.whole)
        agrees = names_only(entry.title) or title_agrees
        if by_title is not None and by_title is not by_id and not title_agrees:
            return RowResult(entry, "wrong", by_title.path, f"links {link}, which is {by_id.path}, but the title "
                             f"is that of {_describe(by_title)}")
        if not agrees and index.shares_rare_words(entry.title, by_id):
            return RowResult(entry, "have", by_id.path, "the title differs: another version of the paper "
                             "(the id is the same)")
        if not agrees:
            erratum = index.by_erratum.get(comparable_title(entry.title))
            if erratum is not None:
                return RowResult(entry, "wrong", erratum.path, f"links {link}, which is {by_id.path}; the errata "
                                 f"page records this row's paper as {erratum.path}")
            title = by_id.file.text("title")  # the row's paper is not that one: it stays unfound
            return RowResult(entry, "wrong", None, f'links {link}, which is {by_id.path} "{title}": '
                             "a different title")
        return RowResult(entry, "have", by_id.path)
    if by_title is not None:
        if entry.arxiv and by_title.arxiv and by_title.arxiv != entry.arxiv:
            if names_only(entry.title):
                if len(index.named(entry.title)) > 1:  # names collide (two methods called DePT): can't say
                    return RowResult(entry, "missing", note=f"named like {_describe(by_title)}: another "
                                     "paper, or a wrong link")
                # one paper here has that name, and no paper here has the linked id: most likely the
                # list links the wrong paper; reported as a wrong link for a maintainer to confirm
                return RowResult(entry, "wrong", by_title.path, f"named like {_describe(by_title)}, but the row "
                                 f"links {link}, which no paper here has: probably a wrong link (check it)")
            return RowResult(entry, "wrong", by_title.path, f"the title is that of {_describe(by_title)}, "
                             f"but the row links {link}")
        return RowResult(entry, "have", by_title.path)
    erratum = index.by_erratum.get(comparable_title(entry.title)) if entry.title else None
    if erratum is not None:
        return RowResult(entry, "wrong" if entry.arxiv or entry.doi else "have", erratum.path,
                         f"the errata page records this row's paper as {erratum.path}")
    return RowResult(entry, "missing")


def errata_names(root: Path) -> dict[str, str]:
    """The names other lists give papers, as the errata page records them: {list's name: paper id}."""
    page = root / ERRATA_PAGE
    if not page.is_file():
        return {}
    names = {}
    for line in page.read_text(encoding="utf-8").splitlines():
        match = ERRATA_ROW.match(line.strip())
        if match:
            names[match.group(1).strip()] = match.group(2)
    return names


def _excluded_by(entry: ListEntry, exclusions: list[Exclusion]) -> list[Exclusion]:
    """The exclusions naming the row: by arXiv id, or by title (with or without name prefix)."""
    mine = {f for f in (comparable_title(entry.title), title_forms(entry.title)[0]) if f} if entry.title else set()
    return [e for e in exclusions if (e.arxiv and entry.arxiv == e.arxiv)
            or any(_similar(a, b, TITLE_THRESHOLD) for a in mine for b in e.titles)]


def compare_list(awesome: AwesomeList, repo: Repository, exclusions: list[Exclusion] | None = None) -> Comparison:
    index = PaperIndex(repo.papers, errata_names(repo.root))
    exclusions = exclusions or []
    used: set[int] = set()
    rows = []
    for entry in awesome.entries:
        result = compare_entry(entry, index)
        matched = _excluded_by(entry, exclusions)
        if matched:  # still looked up, so that a paper is one paper in every count
            used.update(e.line for e in matched)
            result = RowResult(entry, "excluded", result.paper, note=matched[0].reason)
        rows.append(result)
    return Comparison(awesome.path, rows, [e for e in exclusions if e.line not in used])


LABELS = {"have": "have", "missing": "MISSING", "wrong": "WRONG", "excluded": "excluded"}


def render_text(comparison: Comparison, *, missing_only: bool = False) -> str:
    lines: list[str] = []
    sections: dict[str, list[RowResult]] = {}
    for row in comparison.rows:
        sections.setdefault(row.entry.section, []).append(row)
    for section, rows in sections.items():
        shown = [r for r in rows if r.status == "missing"] if missing_only else rows
        if not shown:
            continue
        counts = {s: sum(1 for r in rows if r.status == s) for s in LABELS}
        summary = ", ".join(f"{n} {LABELS[s]}" for s, n in counts.items() if n)
        lines += ["", f"## {section}  ({summary})"]
        for row in shown:
            e = row.entry
            ident = e.arxiv or (f"doi:{e.doi}" if e.doi else "-")
            text = f"  {LABELS[row.status]:<8} :{e.line:<5} {ident:<12} {e.title or '(no title)'}"
            if row.status == "have":
                text += f"  = {row.paper}"
            if row.note:
                text += f"  ({row.note})"
            lines.append(text)
    t = comparison.totals()
    lines += ["", f"{comparison.path}: {t['rows']} paper rows, {t['distinct']} distinct papers "
              f"({t['listed_twice_or_more']} repeated rows); {t['excluded']} excluded as out of scope; "
              f"of {t['in_scope']} in scope: {t['in_kb']} in the knowledge base, {t['not_in_kb']} not; "
              f"{t['wrong_rows']} rows with a wrong link"]
    if t["recall"] is not None:
        lines.append(f"recall: {t['in_kb']}/{t['in_scope']} = {100 * t['recall']:.1f}%")
    for exclusion in comparison.exclusions_unused:
        lines.append(f"note: exclude line {exclusion.line} ({exclusion.key}) matched no row")
    return "\n".join(lines).lstrip("\n") + "\n"


def render_json(comparison: Comparison) -> dict[str, Any]:
    sections: dict[str, list[dict[str, Any]]] = {}
    for row in comparison.rows:
        sections.setdefault(row.entry.section, []).append(row.to_json())
    return {"file": comparison.path, "sections": [{"name": n, "rows": r} for n, r in sections.items()],
            "totals": comparison.totals(), "missing_arxiv_ids": comparison.missing_arxiv_ids(),
            "exclusions_unused": [{"line": e.line, "key": e.key} for e in comparison.exclusions_unused]}
