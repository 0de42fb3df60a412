"""Escaping as a property: any valid title, author or summary survives the README and the BibTeX.

Strategies draw printable Unicode (every category but control, surrogate and line/paragraph
separators) mixed with the characters that are special somewhere: ``| < > & % _ { } \\ $ # ~ ^ * [ ] `
and accented and non-Latin names. A README row must still have exactly six cells, its title must
read back to the original text, no raw HTML may appear, and a BibTeX parser must return exactly
the title and authors that were written.
"""

from __future__ import annotations

import html
import re

import bibtexparser
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.export.bibtex import render_bibtex, render_entry
from site_builder.export.json_export import _dumps, _fast_dumps, _plain_float
from site_builder.export.latex import latex_unescape, parse_author_field
from site_builder.export.markdown import md_link, md_text, split_row
from site_builder.export.readme import paper_rows, render_readme
from site_builder.knowledge_base import KnowledgeBase
from site_builder.models import SUMMARY_MAX, Paper, Taxonomy
from site_builder.yaml_loader import load_yaml_file

from .tmp_repo import REPO, paper_data

SPECIALS = "|<>&%_{}\\$#~^*[]`!()'\"-:;,.@=+/"
NAMES = ["Zoë", "José", "Øyvind", "Łukasz", "Müller", "Nguyễn", "Ñúñez", "李", "王小明", "Анна", "Δημήτρης",
         "محمد", "O'Neil", "van der Berg", "and", "Jr."]
RAW_HTML = re.compile(r"<[A-Za-z/!?]")

printable = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"))
text_char = st.one_of(st.sampled_from(SPECIALS), st.sampled_from(" " * 3), printable)


def one_line(max_size: int) -> st.SearchStrategy[str]:
    """A valid single-line value: stripped, not empty."""
    return st.text(text_char, min_size=1, max_size=max_size).map(str.strip).filter(bool)


titles = one_line(120)
author_names = st.one_of(
    one_line(40),
    st.lists(st.sampled_from(NAMES), min_size=2, max_size=3).map(" ".join),
)
authors = st.lists(author_names, min_size=1, max_size=5, unique=True)
summaries = one_line(SUMMARY_MAX)


TAXONOMY = Taxonomy.model_validate(load_yaml_file(REPO / "taxonomy.yaml").data)


def with_paper(**fields: object) -> tuple[KnowledgeBase, Paper]:
    """A knowledge base of one paper (method vpt-learnable, task classification) with the given fields."""
    paper = Paper.model_validate(paper_data("prop2022entry", tasks=["classification"], **fields))
    return KnowledgeBase(papers=(paper,), taxonomy=TAXONOMY, root=REPO), paper


def md_unescape(cell: str) -> str:
    """The inverse of md_text: drop backslash escapes, then decode the HTML entities."""
    return html.unescape(re.sub(r"\\(.)", r"\1", cell))


PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)


@PROPERTY_SETTINGS
@given(title=titles, short_name=st.one_of(st.none(), one_line(20)), summary=summaries,
       venue=st.sampled_from(["CVPR", "TPAMI", "arXiv", "CVPRW"]))
def test_readme_rows(title: str, short_name: str | None, summary: str, venue: str) -> None:
    kb, paper = with_paper(title=title, short_name=short_name, summary=summary, venue=venue,
                           year=2022, arxiv="2201.00002" if venue == "arXiv" else None)
    (row,) = paper_rows([paper])
    assert len(row) == 6
    readme = render_readme(kb)
    link = md_link(paper.title, paper.primary_url)
    rows = [line for line in readme.splitlines() if line.startswith(f"| {link} |")]
    assert len(rows) == 2  # the tables of its two categories: vpt-learnable and classification
    for line in rows:
        cells = split_row(line)
        assert len(cells) == 6, line
        assert RAW_HTML.search(line) is None, line
        # the title reads back from the link text; whitespace runs are one space in Markdown
        assert cells[0].startswith("[") and cells[0].endswith(f"]({paper.primary_url})")
        assert md_unescape(cells[0][1 : -len(f"]({paper.primary_url})")]) == " ".join(title.split())
        notes = cells[5]
        if short_name:
            lead = f"**{md_text(short_name)}**: "
            assert notes.startswith(lead)
            notes = notes[len(lead):]
        assert md_unescape(notes) == " ".join(summary.split())


@PROPERTY_SETTINGS
@given(text=st.text(text_char, max_size=200))
def test_md_text_is_inline_and_reversible(text: str) -> None:
    escaped = md_text(text)
    assert "\n" not in escaped and RAW_HTML.search(escaped) is None
    assert split_row(f"| {escaped} | x |") == [escaped.strip(), "x"]
    assert md_unescape(escaped) == " ".join(text.split())


@PROPERTY_SETTINGS
@given(title=titles, names=authors, venue=st.sampled_from(["CVPR", "TPAMI", "arXiv", "CVPRW"]))
def test_bibtex_round_trip(title: str, names: list[str], venue: str) -> None:
    kb, paper = with_paper(title=title, authors=names, venue=venue, year=2022,
                           arxiv="2201.00002" if venue == "arXiv" else None)
    for text in (render_bibtex(kb), render_entry(paper, kb.taxonomy)):
        library = bibtexparser.parse_string(text)
        assert library.failed_blocks == []
        (entry,) = library.entries
        assert entry.key == paper.id
        assert latex_unescape(entry["title"]) == title
        assert parse_author_field(entry["author"]) == names
        assert entry["year"] == "2022"


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.text(max_size=40),
    st.floats(allow_nan=False, allow_infinity=False).filter(_plain_float),
)
json_data = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


@PROPERTY_SETTINGS
@given(data=json_data)
def test_fast_json_encoder_writes_what_json_dumps_writes(data: object) -> None:
    assert _fast_dumps(data) == _dumps(data)
