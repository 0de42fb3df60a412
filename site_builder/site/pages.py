"""Generate the site's pages (Markdown with raw HTML blocks) into the docs tree.

Every page is rendered from a Jinja2 template in ``templates/`` with autoescaping on, so any
character in the data (``<``, ``&``, ``|``, quotes) reaches the page as text. Data only ever appears
inside raw HTML blocks, never in Markdown syntax, so Markdown cannot reinterpret it either. The
front matter holds double-quoted YAML strings, the title HTML-escaped because the theme inserts it
into the page's ``<title>`` and navigation as is. The only text not escaped by Jinja is what is built
to be safe: the SVG figures (escaped by ElementTree) and BibTeX (in a fenced code block, which the
highlighter escapes).

The generated paths (:data:`GENERATED_PATHS`) are synchronised on every run: a deleted paper leaves
no stale page, an unchanged file is not rewritten, and everything else in the docs folder is
hand-written and left alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from site_builder.export.bibtex import render_bibtex, render_entry
from site_builder.export.json_export import render_json
from site_builder.knowledge_base import KnowledgeBase
from site_builder.models import FACETS, Category, Paper, Result

from . import urls
from .citation import citation_meta, first_version
from .contributing import contributing_page
from .feed import render_feed
from .fragments import PageFragments, code_links, display_title, paper_title, short_text
from .leaderboards import Leaderboards
from .refimpl import BENCH_JSON_CANDIDATES, BenchFigure, load_bench, reference_impl
from .related import RelatedPapers
from .search_boost import search_boosts
from .settings import SiteSettings, read_site_settings
from .svg import DiagramColumn, DiagramNode, taxonomy_diagram, timeline_chart

# Paths (relative to the docs folder) that generate_pages owns: the lead's .gitignore lists them.
GENERATED_PATHS: tuple[str, ...] = (
    "generated",  # fragments the hand-written index.md includes (pymdownx.snippets)
    "papers",
    "categories",
    "leaderboards",
    "timeline",
    "downloads",
    "contributing",
    "feed.xml",
)
HOME_NEWEST = 10
FEED_NEWEST = 30
RELATED_PAPERS = 6
# Front-matter key of a page's category names: read by the tags plugin (tags_name_property in
# mkdocs.yml) but not by the search, which would boost every category name a million times over the
# text and bury "VPT" under the hundred papers tagged VPT-Learnable.
CATEGORY_TAGS_KEY = "categories"
ROOT_LABEL = "Prompt-based adaptation"

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def format_value(value: float) -> str:
    """A reported number as the paper prints it, without a spurious ``.0``."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


# Characters PyYAML refuses anywhere in a document, even inside a quoted string.
_NOT_YAML_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar: JSON's string syntax is YAML's, with the rest escaped as \\uXXXX."""
    quoted = json.dumps(text, ensure_ascii=False)
    quoted = quoted.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return _NOT_YAML_PRINTABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", quoted)


def front_matter(title: str, *, tags: Iterable[str] = (), hide: Iterable[str] = (),
                 searchable: bool = True, description: str | None = None, boost: float | None = None,
                 meta: Iterable[tuple[str, str]] = ()) -> Markup:
    """YAML front matter (without the ``---`` lines). The theme shows ``title`` and ``description``
    unescaped, so they are HTML-escaped here; the rest are category names and Material options. A page
    that only repeats what the paper pages say (the all-papers list, the timeline) is kept out of the
    search index; ``boost`` ranks a page's search results higher. ``meta``: ``<meta name content>``
    pairs that ``overrides/main.html`` writes into the page's head (escaped there)."""
    lines = [f"title: {yaml_string(str(escape(title)))}"]
    if description:
        lines.append(f"description: {yaml_string(str(escape(description)))}")
    for key, values in ((CATEGORY_TAGS_KEY, list(tags)), ("hide", list(hide))):
        if values:
            lines.append(f"{key}:")
            lines += [f"  - {yaml_string(v)}" for v in values]
    if not searchable:
        lines += ["search:", "  exclude: true"]
    elif boost is not None:
        lines += ["search:", f"  boost: {boost:g}"]
    pairs = list(meta)
    if pairs:
        lines.append("pa_meta:")
        lines += [f"  - [{yaml_string(name)}, {yaml_string(content)}]" for name, content in pairs]
    return Markup("\n".join(lines))  # noqa: S704 - YAML, not HTML; the title inside is escaped above


def bibtex_block(bibtex: str) -> Markup:
    """A fenced code block; the fence is longer than any backtick run in the text. It is kept out of
    the search index (it repeats the title and authors the page's first section holds)."""
    longest = max((len(m) for m in re.findall(r"`+", bibtex)), default=0)
    fence = "`" * max(3, longest + 1)
    return Markup(f'<div class="pa-bibtex" data-search-exclude markdown>\n\n{fence}bibtex\n'  # noqa: S704
                  f"{bibtex.rstrip()}\n{fence}\n\n</div>")  # code block, escaped by the highlighter


def _newest_first(papers: Iterable[Paper]) -> list[Paper]:
    return sorted(papers, key=lambda p: (p.year, p.arxiv or "", p.id), reverse=True)


class PaperResult(NamedTuple):
    result: Result
    own: bool  # the entry's own method
    credited: Paper | None  # the paper credited with the method (None: not in the knowledge base)


class SitePages:
    """Renders every generated file of the docs tree from one knowledge base."""

    def __init__(self, kb: KnowledgeBase, settings: SiteSettings | None = None, *, offline_copy: bool = False,
                 offline_zip: bool = False) -> None:
        self.kb = kb
        self.taxonomy = kb.taxonomy
        self.settings = settings if settings is not None else read_site_settings(kb.root)
        self.offline_copy = offline_copy  # the variant read from disk: links name index.html
        self.offline_zip = offline_zip  # the Downloads page offers the offline variant
        self.env = _environment()
        self.boards = Leaderboards(kb)

    # --- lookups shared by the templates ---------------------------------------------------------
    @cached_property
    def _categories(self) -> dict[tuple[str, str], tuple[Category, tuple[Category, ...]]]:
        """(facet, id) -> (category, its ancestors from the top)."""
        out: dict[tuple[str, str], tuple[Category, tuple[Category, ...]]] = {}

        def visit(facet: str, category: Category, parents: tuple[Category, ...]) -> None:
            out[(facet, category.id)] = (category, parents)
            for child in category.children:
                visit(facet, child, (*parents, category))

        for facet in FACETS:
            for category in self.taxonomy.facets[facet].categories:
                visit(facet, category, ())
        return out

    @cached_property
    def _venue_names(self) -> dict[str, str]:
        return {v.id: v.name for v in self.taxonomy.venues}

    @cached_property
    def _search_boosts(self) -> dict[str, float]:
        return search_boosts(self.kb.papers)

    @cached_property
    def _related(self) -> RelatedPapers:
        return RelatedPapers(self.kb.papers, category_name=self.category_name, benchmark_name=self.benchmark_name)

    def category_name(self, facet: str, category_id: str) -> str:
        return self._categories[(facet, category_id)][0].name

    def facet_title(self, facet: str) -> str:
        return self.taxonomy.facets[facet].title

    def benchmark_name(self, benchmark_id: str) -> str:
        return self.taxonomy.benchmark(benchmark_id).name

    def count(self, facet: str, category_id: str) -> int:
        return len(self.kb.papers_in(facet, category_id))

    def with_ancestors(self, facet: str, ids: Iterable[str]) -> list[str]:
        out: list[str] = []
        for category_id in ids:
            category, parents = self._categories[(facet, category_id)]
            for c in (*parents, category):
                if c.id not in out:
                    out.append(c.id)
        return out

    def facet_rows(self, facet: str) -> list[tuple[Category, int]]:
        return list(self.taxonomy.facets[facet].walk())

    # --- rendering -----------------------------------------------------------------------------
    def link(self, page_url: str, url: str) -> str:
        relative = urls.relative_url(page_url, url)
        return urls.file_url(relative) if self.offline_copy else relative

    def render(self, template: str, page_url: str, **context: Any) -> str:
        fragments = PageFragments(page_url, self.category_name, directory_urls=not self.offline_copy)
        return self.env.get_template(template).render(
            href=fragments.href,
            settings=self.settings,
            offline_copy=self.offline_copy,
            paper_link=fragments.paper_link,
            paper_short_link=fragments.paper_short_link,
            category_chip=fragments.category_chip,
            paper_title=paper_title,
            code_links=code_links,
            urls=urls,
            number=format_value,
            category_name=self.category_name,
            facet_title=self.facet_title,
            benchmark_name=self.benchmark_name,
            benchmark_of=self.taxonomy.benchmark,
            backbone=self.taxonomy.backbone,
            pretraining=self.taxonomy.pretraining,
            short_text=short_text,
            count=self.count,
            **context,
        )

    def files(self) -> Iterator[tuple[str, str]]:
        """Every generated file as (path relative to the docs folder, text)."""
        yield from self.home_fragments()
        yield self.page(urls.ALL_PAPERS, self.all_papers())
        for paper in self.kb.papers:
            url = urls.paper_url(paper.id)
            yield self.page(url, self.paper_page(paper, url))
        yield self.page(urls.CATEGORIES, self.categories_index())
        for facet in FACETS:
            url = urls.facet_url(facet)
            yield self.page(url, self.facet_page(facet, url))
            for category, _ in self.taxonomy.facets[facet].walk():
                url = urls.category_url(facet, category.id)
                yield self.page(url, self.category_page(facet, category, url))
        yield self.page(urls.LEADERBOARDS, self.leaderboards_index())
        yield self.page(urls.DISCREPANCIES, self.discrepancies_page())
        for benchmark in self.taxonomy.benchmarks:
            url = urls.leaderboard_url(benchmark.id)
            yield self.page(url, self.leaderboard_page(benchmark.id, url))
        yield self.page(urls.TIMELINE, self.timeline())
        yield self.page(urls.CONTRIBUTING, contributing_page(self.kb.root, self.settings))
        yield self.page(urls.DOWNLOADS, self.downloads())
        yield urls.BIBTEX_FILE, render_bibtex(self.kb)
        yield urls.JSON_FILE, render_json(self.kb)
        yield urls.FEED, render_feed(self.kb.newest(FEED_NEWEST), site_url=self.settings.site_url,
                                     venue_names=self._venue_names)

    @staticmethod
    def page(url: str, text: str) -> tuple[str, str]:
        return urls.docs_file(url), text

    # --- home (fragments included by the hand-written docs/index.md) ------------------------------
    def home_fragments(self) -> Iterator[tuple[str, str]]:
        yield "generated/home-taxonomy.md", self.render("home_taxonomy.html.j2", urls.HOME,
                                                        svg=Markup(self.taxonomy_svg(urls.HOME)))  # noqa: S704
        yield "generated/home-counts.md", self.render("home_counts.html.j2", urls.HOME, counts=self.counts())
        yield "generated/home-newest.md", self.render("home_newest.html.j2", urls.HOME,
                                                      papers=self.kb.newest(HOME_NEWEST), n_papers=len(self.kb))
        yield "generated/report-errors.md", self.report_errors()

    def taxonomy_svg(self, page_url: str) -> str:
        columns = []
        for facet_id in FACETS:
            facet = self.taxonomy.facets[facet_id]
            in_facet = {p.id for c in facet.categories for p in self.kb.papers_in(facet_id, c.id)}
            header = DiagramNode(facet.title, urls.facet_url(facet_id), len(in_facet), 0, facet.description)
            nodes = [
                DiagramNode(c.name, urls.category_url(facet_id, c.id), self.count(facet_id, c.id), depth + 1,
                            c.description)
                for c, depth in facet.walk()
            ]
            columns.append(DiagramColumn(header, nodes))
        return taxonomy_diagram(ROOT_LABEL, columns, lambda url: self.link(page_url, url))

    def counts(self) -> list[tuple[str, str, str]]:
        years = sorted({p.year for p in self.kb.papers})
        n_results = sum(len(p.results) for p in self.kb.papers)
        n_categories = sum(len(self.taxonomy.all_ids(f)) for f in FACETS)
        return [
            (str(len(self.kb)), "papers", urls.ALL_PAPERS),
            (str(n_categories), "categories in 5 facets", urls.CATEGORIES),
            (str(n_results), "reported results", urls.LEADERBOARDS),
            (str(len(self.kb.benchmarks_with_results())), "benchmarks with results", urls.LEADERBOARDS),
            (f"{years[0]}–{years[-1]}" if years else "–", "years covered", urls.TIMELINE),
            (str(sum(1 for p in self.kb.papers if p.official_code)), "with official code", urls.ALL_PAPERS),
        ]

    # --- pages ---------------------------------------------------------------------------------
    def paper_page(self, paper: Paper, url: str) -> str:
        categories = [(f, list(getattr(paper, f))) for f in FACETS if getattr(paper, f)]
        tags = [self.category_name(f, c) for f, ids in categories for c in ids]
        venue = self.taxonomy.venue(paper.venue)
        source = f"papers/{paper.id}.yaml"
        report = self.settings.issue_link(
            f"Error in {paper.id}: {display_title(paper)}"[:200],
            f"Entry: {source}\n\nWhat is wrong (field, what it says, what it should say):\n\n\n"
            "Where the correct value is printed (paper page, proceedings, DOI, official repository):\n")
        return self.render(
            "paper.md.j2", url,
            front_matter=front_matter(display_title(paper), tags=tags, description=paper.summary,
                                      boost=self._search_boosts[paper.id],
                                      meta=citation_meta(paper, venue)),
            paper=paper,
            venue=venue,
            first_version=first_version(paper),
            pdf_url=f"https://arxiv.org/pdf/{paper.arxiv}" if paper.arxiv else None,
            edit_link=self.settings.edit_link(source),
            report_link=report,
            categories=categories,
            related=self._related.of(paper, RELATED_PAPERS),
            bibtex_block=bibtex_block(render_entry(paper, self.taxonomy)),
            results=self.paper_results(paper),
            elsewhere=self.boards.credited_elsewhere(paper.id),
        )

    def paper_results(self, paper: Paper) -> list[PaperResult]:
        """The entry's rows, its own method's first (file order within each part)."""
        rows = []
        for result in paper.results:
            credited = self.boards.row_of(paper, result).credited
            rows.append(PaperResult(result, credited is not None and credited.id == paper.id, credited))
        return sorted(rows, key=lambda r: not r.own)

    @cached_property
    def _bench(self) -> tuple[dict[str, BenchFigure], str | None]:
        return load_bench(self.kb.root)

    def _setting_module(self, facet: str, category_id: str) -> str | None:
        """A practical setting with its own loop has a module named after it (test-time -> test_time.py)."""
        module = category_id.replace("-", "_")
        if facet == "settings" and (self.kb.root / "reference_impls" / f"{module}.py").is_file():
            return module
        return None

    def category_page(self, facet: str, category: Category, url: str) -> str:
        _, parents = self._categories[(facet, category.id)]
        impl = impl_link = None
        module = category.reference_impl or self._setting_module(facet, category.id)
        if module:
            impl = reference_impl(self.kb.root, module, self._bench)
            impl_link = self.settings.source_link(impl.path)
        child_impls = [(c, c.reference_impl) for c, _ in category.walk() if c is not category and c.reference_impl]
        papers = sorted(self.kb.papers_in(facet, category.id), key=lambda p: (-p.year, p.title.lower(), p.id))
        impl_counts = "the prompt and the task head" if facet == "method" else "what the method trains"
        return self.render(
            "category.md.j2", url,
            front_matter=front_matter(category.name, hide=["navigation", "toc"]),  # the table gets the width
            facet=facet, category=category, parents=parents, papers=papers,
            impl=impl, impl_link=impl_link, child_impls=child_impls, impl_counts=impl_counts,
            bench_target=BENCH_JSON_CANDIDATES[0],
        )

    def facet_page(self, facet_id: str, url: str) -> str:
        facet = self.taxonomy.facets[facet_id]
        return self.render("facet.md.j2", url, front_matter=front_matter(facet.title), facet=facet,
                           facet_id=facet_id, rows=self.facet_rows(facet_id))

    def categories_index(self) -> str:
        facets = [(f, self.taxonomy.facets[f], self.facet_rows(f)) for f in FACETS]
        return self.render("categories_index.md.j2", urls.CATEGORIES, front_matter=front_matter("Categories"),
                           facets=facets)

    def all_papers(self) -> str:
        rows = []
        for paper in sorted(self.kb.papers, key=lambda p: (-p.year, p.title.lower(), p.id)):
            # What the row does not show; the filter also reads the row's own text (title, venue, year).
            text = " ".join([paper.id, *paper.authors, self._venue_names.get(paper.venue, ""), paper.arxiv or "",
                             paper.summary])
            rows.append({
                "paper": paper,
                "facets": [(f, self.with_ancestors(f, getattr(paper, f))) for f in FACETS],
                "others": ", ".join(self.category_name(f, c) for f in FACETS[1:] for c in getattr(paper, f)),
                "text": " ".join(text.lower().split()),
            })
        facets = [(f, self.taxonomy.facets[f], self.facet_rows(f)) for f in FACETS]
        kinds = sorted({p.kind for p in self.kb.papers})
        years = sorted({p.year for p in self.kb.papers}, reverse=True)
        return self.render("all_papers.md.j2", urls.ALL_PAPERS,
                           front_matter=front_matter("All papers", hide=["toc"], searchable=False),
                           papers=self.kb.papers, rows=rows, facets=facets, kinds=kinds, years=years)

    def leaderboard_page(self, benchmark_id: str, url: str) -> str:
        benchmark = self.taxonomy.benchmark(benchmark_id)
        # Out of the search index: a leaderboard repeats the papers' names and numbers (a search for a
        # method should find its paper page, not every leaderboard it appears on).
        return self.render("leaderboard.md.j2", url,
                           front_matter=front_matter(benchmark.name, hide=["toc"], searchable=False),
                           benchmark=benchmark, groups=self.boards.groups(benchmark_id),
                           summary=self.boards.summary(benchmark))

    def leaderboards_index(self) -> str:
        families = self.boards.by_family()
        return self.render("leaderboards_index.md.j2", urls.LEADERBOARDS,
                           front_matter=front_matter("Leaderboards"), families=families,
                           n_discrepancies=len(self.boards.discrepancies()))

    def discrepancies_page(self) -> str:
        return self.render("discrepancies.md.j2", urls.DISCREPANCIES,
                           front_matter=front_matter("Discrepancies between papers", hide=["toc"], searchable=False),
                           found=self.boards.discrepancies())

    def timeline(self) -> str:
        by_year = self.kb.papers_by_year()
        years = list(range(min(by_year), max(by_year) + 1)) if by_year else []
        series = []
        for category, _ in self.taxonomy.facets["method"].walk():
            counts = [sum(1 for p in by_year.get(y, ()) if category.id in p.method) for y in years]
            if any(counts):
                series.append((category.name, counts))
        totals = {y: len(by_year.get(y, ())) for y in years}
        listing = [(y, sorted(by_year[y], key=lambda p: (p.title.lower(), p.id))) for y in sorted(by_year, reverse=True)]
        return self.render(
            "timeline.md.j2", urls.TIMELINE,
            front_matter=front_matter("Timeline", searchable=False),
            chart=Markup(timeline_chart(years, series)),  # noqa: S704 - built and escaped by ElementTree
            years=years, series=series, totals=totals, by_year=listing,
        )

    def downloads(self) -> str:
        return self.render("downloads.md.j2", urls.DOWNLOADS, front_matter=front_matter("Downloads"),
                           n_papers=len(self.kb), n_feed=min(FEED_NEWEST, len(self.kb)),
                           offline_zip=self.offline_zip)

    def report_errors(self) -> str:
        """The errata page's sentence on how to report an error (a snippet: it holds the issue link)."""
        issue = self.settings.issue_link("Error in an entry", "Entry: papers/<id>.yaml\n\nWhat is wrong:\n")
        opening = f"[open an issue]({issue})" if issue else "open an issue"
        return (f"If you find an error in *our* data, {opening} or a pull request that changes the paper's "
                "YAML file ([Contributing](contributing/index.md)); every paper page has its own "
                "\"report an error\" and \"edit this entry\" links.\n")


def _generated_files(docs_dir: Path) -> set[Path]:
    found: set[Path] = set()
    for name in GENERATED_PATHS:
        path = docs_dir / name
        if path.is_dir() and not path.is_symlink():
            found.update(p for p in path.rglob("*") if p.is_file() or p.is_symlink())
        elif path.exists() or path.is_symlink():
            found.add(path)
    return found


def write_generated(docs_dir: Path, files: dict[str, str]) -> list[Path]:
    """Make the generated paths of ``docs_dir`` hold exactly ``files``; returns their paths, sorted.

    A file whose text is unchanged is not rewritten and a file no longer generated (a deleted paper)
    is removed, with the folders it leaves empty; nothing outside :data:`GENERATED_PATHS` is touched.
    """
    wanted = {docs_dir / relative: text for relative, text in files.items()}
    for stale in _generated_files(docs_dir) - wanted.keys():
        stale.unlink()
    for name in GENERATED_PATHS:
        top = docs_dir / name
        if top.is_dir() and not top.is_symlink():
            for folder in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
                if not any(folder.iterdir()):
                    folder.rmdir()
    for path, text in wanted.items():
        data = text.encode("utf-8")
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return sorted(wanted)


def generate_pages(kb: KnowledgeBase, docs_dir: Path, *, settings: SiteSettings | None = None,
                   offline_copy: bool = False, offline_zip: bool = False) -> list[Path]:
    """Write every generated page and file into ``docs_dir``; returns the paths, sorted.

    Pure file generation: needs neither MkDocs nor Zensical. Everything is rendered before the folder
    is touched; hand-written files (``index.md``, ``errata.md``, ``tags.md``, ``assets/``) are left alone.
    ``offline_copy``: pages for the copy read from disk; ``offline_zip``: the Downloads page offers it.
    """
    files: dict[str, str] = {}
    for relative, text in SitePages(kb, settings, offline_copy=offline_copy, offline_zip=offline_zip).files():
        if relative in files:
            raise ValueError(f"two generated files at {relative}")
        files[relative] = text
    return write_generated(Path(docs_dir), files)
