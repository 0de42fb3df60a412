"""papers.bib: one entry per paper, keys = paper ids, written with bibtexparser 2.

The entry type follows the venue's kind (conference and workshop -> @inproceedings, journal ->
@article, preprint -> @misc). Field values are LaTeX-escaped (see :mod:`.latex`) so any valid title
or author survives a round trip through a BibTeX parser.
"""

from __future__ import annotations

import bibtexparser
from bibtexparser.middlewares.parsestack import default_unparse_stack
from bibtexparser.model import Entry, Field
from bibtexparser.writer import BibtexFormat

from ..knowledge_base import KnowledgeBase
from ..models import Paper, Taxonomy
from .latex import author_field, latex_escape

ENTRY_TYPES = {"conference": "inproceedings", "workshop": "inproceedings", "journal": "article", "preprint": "misc"}

_FORMAT = BibtexFormat()
_FORMAT.indent = "  "
_FORMAT.block_separator = "\n"
_FORMAT.trailing_comma = True


def paper_entry(paper: Paper, taxonomy: Taxonomy) -> Entry:
    """The bibtexparser entry of one paper (the writer encloses values in braces)."""
    venue = taxonomy.venue(paper.venue)
    entry_type = ENTRY_TYPES[venue.kind]
    fields = [
        Field("title", latex_escape(paper.title)),
        Field("author", author_field(paper.authors)),
        Field("year", str(paper.year)),
    ]
    if entry_type == "inproceedings":
        fields.append(Field("booktitle", latex_escape(venue.name)))
    elif entry_type == "article":
        fields.append(Field("journal", latex_escape(venue.name)))
    if paper.arxiv:
        fields += [Field("eprint", paper.arxiv), Field("archiveprefix", "arXiv")]
    if paper.doi:
        fields.append(Field("doi", latex_escape(paper.doi)))
    if paper.primary_url:
        fields.append(Field("url", paper.primary_url))
    return Entry(entry_type, paper.id, fields)


def _write(library: bibtexparser.Library) -> str:
    # The library is built for this one write and then dropped, so the writer may add the braces in
    # place: the default stack deep-copies every entry first, which is most of the time on 10,000 papers.
    stack = default_unparse_stack(allow_inplace_modification=True)
    return bibtexparser.write_string(library, unparse_stack=stack, bibtex_format=_FORMAT)


def render_entry(paper: Paper, taxonomy: Taxonomy) -> str:
    """One paper's BibTeX, as shown on its page with a copy button."""
    return _write(bibtexparser.Library([paper_entry(paper, taxonomy)])).strip() + "\n"


def render_bibtex(kb: KnowledgeBase) -> str:
    library = bibtexparser.Library([paper_entry(p, kb.taxonomy) for p in kb.papers])
    header = (
        "% Awesome Prompt-Based Adaptation: generated from papers/*.yaml by `python -m site_builder build`.\n"
        "% Do not edit by hand.\n\n"
    )
    return header + _write(library).strip() + "\n"
