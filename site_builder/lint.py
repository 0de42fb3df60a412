"""Cross-entry rules, one small ``check_*`` function each.

A rule receives the :class:`LintContext` (every paper that passed the schema, its parsed document for
line numbers, the taxonomy) and appends to ``ctx.problems``; nothing raises, so one run reports all.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .knowledge_base import normalise_title
from .models import FACETS, Paper, ProtocolTerm, Taxonomy
from .problems import ProblemList
from .yaml_loader import LoadedDocument


@dataclass
class LintContext:
    root: Path
    taxonomy: Taxonomy
    papers: list[tuple[Paper, LoadedDocument, Path]]
    problems: ProblemList
    taxonomy_doc: LoadedDocument | None = None
    # (facet, category id) -> the field path of that category inside taxonomy.yaml, for line numbers
    category_paths: dict[tuple[str, str], tuple[str | int, ...]] | None = None

    def report(self, doc: LoadedDocument, path: tuple[str | int, ...], message: str, *, warning: bool = False) -> None:
        field = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[") or "(entry)"
        add = self.problems.warning if warning else self.problems.error
        add(doc.path, doc.line_of(path), field, message)


def _suggest(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_id_matches_file_name(ctx: LintContext) -> None:
    for paper, doc, path in ctx.papers:
        if paper.id != path.stem:
            ctx.report(doc, ("id",), f"id {paper.id!r} must equal the file name: rename the file to {paper.id}.yaml "
                       f"or set id: {path.stem}")


SCHEMA_COMMENT = "# yaml-language-server: $schema=../schema/paper.schema.json"


def check_schema_comment(ctx: LintContext) -> None:
    """The first line points editors (VS Code's YAML extension and others) at the JSON Schema."""
    for _, doc, _ in ctx.papers:
        if doc.first_line.strip() != SCHEMA_COMMENT:
            ctx.problems.error(doc.path, 1, "(file)", f"the first line must be: {SCHEMA_COMMENT}")


def check_facet_ids(ctx: LintContext) -> None:
    for facet in FACETS:
        known = ctx.taxonomy.all_ids(facet)
        for paper, doc, _ in ctx.papers:
            for i, category_id in enumerate(getattr(paper, facet)):
                if category_id not in known:
                    ctx.report(doc, (facet, i), f"unknown {facet} category {category_id!r}{_suggest(category_id, known)} "
                               f"(known: {', '.join(known)})")


def check_venue(ctx: LintContext) -> None:
    known = [v.id for v in ctx.taxonomy.venues]
    for paper, doc, _ in ctx.papers:
        if paper.venue not in known:
            ctx.report(doc, ("venue",), f"unknown venue {paper.venue!r}{_suggest(paper.venue, known)} "
                       "(a new venue must be added to `venues` in taxonomy.yaml)")


def check_benchmarks(ctx: LintContext) -> None:
    known = [b.id for b in ctx.taxonomy.benchmarks]
    for paper, doc, _ in ctx.papers:
        seen: dict[tuple[str, str, str, str, str | None], int] = {}
        for i, result in enumerate(paper.results):
            if result.benchmark not in known:
                ctx.report(doc, ("results", i, "benchmark"),
                           f"unknown benchmark {result.benchmark!r}{_suggest(result.benchmark, known)}")
            key = (result.benchmark, result.method, result.backbone, result.pretraining, result.paper)
            if key in seen:
                ctx.report(doc, ("results", i), f"the same benchmark, method, backbone and pretraining as "
                           f"results[{seen[key]}]: keep one row")
            seen.setdefault(key, i)


def _spelling(text: str) -> str:
    return " ".join(text.casefold().split())


def suggest_protocol_id(value: str, terms: list[ProtocolTerm]) -> str | None:
    """The vocabulary id a free-text spelling most likely means: an exact name or alias (case and spacing
    ignored) first, else the closest id, name or alias."""
    spellings: dict[str, str] = {}
    for term in terms:
        for text in (term.id, term.name, *term.aliases):
            spellings.setdefault(_spelling(text), term.id)
    wanted = _spelling(value)
    if wanted in spellings:
        return spellings[wanted]
    close = difflib.get_close_matches(wanted, list(spellings), n=1, cutoff=0.75)
    return spellings[close[0]] if close else None


def check_protocol_terms(ctx: LintContext) -> None:
    """A result's backbone and pretraining are ids of the protocol vocabulary (taxonomy.yaml)."""
    vocabularies = (("backbone", ctx.taxonomy.backbones, "backbones"),
                    ("pretraining", ctx.taxonomy.pretrainings, "pretrainings"))
    for paper, doc, _ in ctx.papers:
        for i, result in enumerate(paper.results):
            for field, terms, section in vocabularies:
                value = getattr(result, field)
                if any(term.id == value for term in terms):
                    continue
                suggestion = suggest_protocol_id(value, terms)
                hint = (f"; did you mean {suggestion!r}?" if suggestion else
                        f" (add it to `{section}` in taxonomy.yaml if it is a new setup)")
                ctx.report(doc, ("results", i, field), f"unknown {field} {value!r}: write an id from `{section}` "
                           f"in taxonomy.yaml{hint}")


def check_result_papers(ctx: LintContext) -> None:
    """`paper:` credits a baseline to the paper that proposed it: an id in the knowledge base, not the entry."""
    known = [p.id for p, _, _ in ctx.papers]
    known_set = set(known)
    for paper, doc, _ in ctx.papers:
        for i, result in enumerate(paper.results):
            if result.paper is None:
                continue
            if result.paper == paper.id:
                ctx.report(doc, ("results", i, "paper"), "names this entry itself: leave `paper` out for the "
                           "entry's own method")
            elif result.paper not in known_set:
                ctx.report(doc, ("results", i, "paper"), f"no paper with id {result.paper!r} in papers/"
                           f"{_suggest(result.paper, known)} (leave `paper` out when the method's paper is not "
                           "in the knowledge base)")
    # A baseline printed without `paper:` whose name is another entry's method: probably that entry's.
    by_name: dict[str, list[str]] = {}
    for other, _, _ in ctx.papers:
        if other.short_name:
            by_name.setdefault(_spelling(other.short_name), []).append(other.id)
    for paper, doc, _ in ctx.papers:
        own = _spelling(paper.short_name) if paper.short_name else None
        for i, result in enumerate(paper.results):
            if result.paper is not None or _spelling(result.method) == own:
                continue  # credited already, or the entry's own method (two papers may share a short name)
            owners = [o for o in by_name.get(_spelling(result.method), []) if o != paper.id]
            if len(owners) == 1:
                ctx.report(doc, ("results", i, "paper"), f"{result.method!r} is the method of {owners[0]}: add "
                           f"paper: {owners[0]} so leaderboards credit and link it", warning=True)


def _check_unique(ctx: LintContext, field: str, key: Callable[[Paper], str | None], what: str) -> None:
    first: dict[str, tuple[Paper, LoadedDocument]] = {}
    for paper, doc, _ in ctx.papers:
        value = key(paper)
        if not value:
            continue
        if value in first:
            other, other_doc = first[value]
            ctx.report(doc, (field,), f"{what} already used by {other_doc.path} (id {other.id}): "
                       "one paper, one file")
        else:
            first[value] = (paper, doc)


def check_duplicate_arxiv(ctx: LintContext) -> None:
    _check_unique(ctx, "arxiv", lambda p: p.arxiv, "the same arXiv id is")


def check_duplicate_doi(ctx: LintContext) -> None:
    _check_unique(ctx, "doi", lambda p: p.doi.lower() if p.doi else None, "the same DOI is")


def check_duplicate_title(ctx: LintContext) -> None:
    _check_unique(ctx, "title", lambda p: normalise_title(p.title), "the same (normalised) title is")


_NEW_ARXIV = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")


def check_year_against_arxiv(ctx: LintContext) -> None:
    """A preprint's year is its arXiv year; a published paper's year is at most one year before it.

    The grace year allows a paper presented in December and first posted in January; the same rule
    is used by `verify` against the live arXiv metadata.
    """
    for paper, doc, _ in ctx.papers:
        match = _NEW_ARXIV.match(paper.arxiv or "")
        if not match:
            continue
        arxiv_year = 2000 + int(match.group(1))
        if paper.venue == "arXiv" and paper.year != arxiv_year:
            ctx.report(doc, ("year",), f"a preprint's year is its arXiv year ({arxiv_year}), not {paper.year}")
        elif arxiv_year > paper.year + 1:
            ctx.report(doc, ("year",), f"year {paper.year} is more than a year before the arXiv id {paper.arxiv} "
                       f"({arxiv_year}): check the id belongs to this paper")


def check_reference_impls(ctx: LintContext) -> None:
    """Every method leaf names a module that exists. Before reference_impls/ exists at all, a warning."""
    package = ctx.root / "reference_impls"
    paths = ctx.category_paths or {}
    for category, _ in ctx.taxonomy.facets["method"].walk():
        if category.children:
            continue
        path = paths.get(("method", category.id), ())
        line = ctx.taxonomy_doc.line_of(path + ("reference_impl",)) if ctx.taxonomy_doc else None
        field = f"method.{category.id}.reference_impl"
        if not category.reference_impl:
            ctx.problems.error("taxonomy.yaml", line, field, "a method leaf must name its reference_impl module")
        elif not (package / f"{category.reference_impl}.py").is_file():
            message = f"module reference_impls/{category.reference_impl}.py does not exist"
            add = ctx.problems.error if package.is_dir() else ctx.problems.warning
            add("taxonomy.yaml", line, field, message)


RULES: tuple[Callable[[LintContext], None], ...] = (
    check_id_matches_file_name,
    check_schema_comment,
    check_facet_ids,
    check_venue,
    check_benchmarks,
    check_protocol_terms,
    check_result_papers,
    check_duplicate_arxiv,
    check_duplicate_doi,
    check_duplicate_title,
    check_year_against_arxiv,
    check_reference_impls,
)


def run_rules(ctx: LintContext) -> None:
    for rule in RULES:
        rule(ctx)
