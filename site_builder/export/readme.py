"""README.md: the awesome list, generated from the knowledge base.

It follows the seed list's structure: introduction, how to use the repository, taxonomy, contents,
VP and VPT tables per category, applications by task, domains, practical settings, trustworthy AI,
related surveys and benchmarks, contributing, citation. Tables are ``Title | Venue | Year | Prompts in
| Code | Notes``; every string from the data goes through :func:`md_text`. The same renderer writes
VISION-ONLY.md, the view without the papers whose prompts live only in a text encoder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..knowledge_base import KnowledgeBase
from ..models import Category, Paper
from ..runners import declared_runner_names
from .bibtex import render_entry
from .markdown import github_anchor, md_link, md_text, md_url, table

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SURVEY_ARXIV = "2510.13219"
SITE_PAPER_PATH = "papers/{id}.yaml"

# The README's sections after the method facet: (heading, facet, intro)
FACET_SECTIONS = (
    ("Applications across vision tasks", "tasks"),
    ("Domain-specific applications", "domains"),
    ("PA under practical constraints", "settings"),
    ("Trustworthy AI", "trust"),
)


@dataclass
class Section:
    """A heading with an optional table; nested sections make the contents list."""

    title: str
    level: int
    text: str = ""
    count: int | None = None
    children: list[Section] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return github_anchor(self.title)


def _sort_key(paper: Paper) -> tuple[int, str, str]:
    return (-paper.year, paper.title.lower(), paper.id)


def _code_cell(paper: Paper) -> str:
    links = [md_link("official" if c.official else "code", c.url) for c in paper.code]
    return ", ".join(links) if links else "-"


def _notes_cell(paper: Paper) -> str:
    lead = f"**{md_text(paper.short_name)}**: " if paper.short_name else ""
    return lead + md_text(paper.summary)


def paper_row(paper: Paper) -> list[str]:
    return [md_link(paper.title, paper.primary_url), md_text(paper.venue), str(paper.year),
            " + ".join(paper.modality) or "-", _code_cell(paper), _notes_cell(paper)]


def paper_rows(papers: tuple[Paper, ...] | list[Paper], rows: Mapping[str, list[str]] | None = None) -> list[list[str]]:
    """The table rows of ``papers``, newest first; ``rows`` holds rows already escaped, by paper id."""
    return [rows[p.id] if rows is not None else paper_row(p) for p in sorted(papers, key=_sort_key)]


def papers_table(papers: tuple[Paper, ...] | list[Paper], rows: Mapping[str, list[str]] | None = None) -> str:
    if not papers:
        return "_No papers yet: contributions welcome._"
    return table(["Title", "Venue", "Year", "Prompts in", "Code", "Notes"], paper_rows(papers, rows))


def _category_section(
    kb: KnowledgeBase, facet: str, category: Category, level: int, rows: Mapping[str, list[str]] | None = None
) -> Section:
    papers = kb.papers_in(facet, category.id)
    text = md_text(category.description)
    if category.reference_impl:
        module = category.reference_impl
        names = declared_runner_names(kb.root, module)
        runs = ", ".join(f"`python -m reference_impls run {name}`" for name in names) or (
            "`python -m reference_impls list`"
        )
        text += (
            f"\n\nReference implementation: [`reference_impls/{module}.py`]({md_url(f'reference_impls/{module}.py')})"
            f"; run it with {runs}."
        )
    if category.children:
        section = Section(category.name, level, text, len(papers))
        section.children = [_category_section(kb, facet, c, level + 1, rows) for c in category.children]
        return section
    return Section(category.name, level, text + "\n\n" + papers_table(papers, rows), len(papers))


def build_sections(kb: KnowledgeBase) -> list[Section]:
    rows = {p.id: paper_row(p) for p in kb.papers}  # a paper is in several tables: escape its row once
    method = kb.taxonomy.facets["method"]
    sections = [_category_section(kb, "method", c, 2, rows) for c in method.categories]
    for title, facet_id in FACET_SECTIONS:
        facet = kb.taxonomy.facets[facet_id]
        children = [_category_section(kb, facet_id, c, 3, rows) for c, depth in facet.walk() if depth == 0]
        count = len({p.id for c in facet.categories for p in kb.papers_in(facet_id, c.id)})
        sections.append(Section(title, 2, md_text(facet.description), count, children))
    others = kb.papers_of_kind("survey", "benchmark", "analysis")
    sections.append(
        Section("Related surveys and benchmarks", 2,
                "Surveys, benchmarks and analyses of prompt-based adaptation.\n\n" + papers_table(others, rows),
                len(others))
    )
    return sections


def render_section(section: Section) -> str:
    parts = [f"{'#' * section.level} {section.title}"]
    if section.text:
        parts.append(section.text)
    parts += [render_section(child) for child in section.children]
    return "\n\n".join(parts)


def render_contents(sections: list[Section], depth: int = 0) -> list[str]:
    lines = []
    for section in sections:
        count = f" ({section.count})" if section.count is not None else ""
        lines.append(f"{'  ' * depth}- [{section.title}](#{section.anchor}){count}")
        lines += render_contents(section.children, depth + 1)
    return lines


def _taxonomy_overview(kb: KnowledgeBase) -> str:
    lines = []
    for facet_id, facet in kb.taxonomy.facets.items():
        lines.append(f"- **{md_text(facet.title)}** (`{facet_id}`): {md_text(facet.description)}")
        for category, depth in facet.walk():
            indent = "  " * (depth + 1)
            lines.append(f"{indent}- **{md_text(category.name)}** (`{category.id}`, "
                         f"{len(kb.papers_in(facet_id, category.id))}): {md_text(category.description)}")
    return "\n".join(lines)


def _citation(kb: KnowledgeBase) -> str | None:
    survey = next((p for p in kb.papers if p.arxiv == SURVEY_ARXIV), None)
    return render_entry(survey, kb.taxonomy) if survey else None


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown output: escaping is done per value by md_text
        trim_blocks=True,
        lstrip_blocks=True,
    )


VISION_ONLY = "VISION-ONLY.md"


def render_readme(kb: KnowledgeBase, *, vision_only: bool = False) -> str:
    """README.md, or with ``vision_only`` VISION-ONLY.md: the list less the text-encoder-only papers."""
    full = kb
    if vision_only:
        kb = kb.vision_only()
    sections = build_sections(kb)
    modality = {c: len(full.papers_in("modality", c)) for c in full.taxonomy.all_ids("modality")}
    counts = {
        "papers": len(kb.papers),
        "with_code": sum(1 for p in kb.papers if p.official_code),
        "with_results": sum(1 for p in kb.papers if p.results),
        "results": sum(len(p.results) for p in kb.papers),
        "years": f"{min(p.year for p in kb.papers)}-{max(p.year for p in kb.papers)}",
        "modality": modality,
        "left_out": len(full.papers) - len(kb.papers),
    }
    text = _environment().get_template("README.md.j2").render(
        counts=counts,
        contents="\n".join(render_contents(sections)),
        body="\n\n".join(render_section(s) for s in sections),
        taxonomy_overview=_taxonomy_overview(kb),
        citation=_citation(kb),
        vision_only=vision_only,
        vision_only_file=VISION_ONLY,
    )
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip() + "\n"


def render_vision_only(kb: KnowledgeBase) -> str:
    return render_readme(kb, vision_only=True)
