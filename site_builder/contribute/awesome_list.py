"""Read another awesome list (Markdown or HTML) into sections and the paper rows they hold.

Markdown is turned into HTML by a CommonMark parser (``markdown-it-py``, tables on, raw HTML kept,
each block marked with its source line), so one HTML walker reads both kinds of file. A *row* is a
list item, a table row, or a paragraph outside both; a nested list item is a row of its own. A row is
a paper row when it names an arXiv id (an ``/abs/`` or ``/pdf/`` link, with or without version and
``.pdf``, or ``arXiv:ID`` in its text) or a DOI, or when it has a title-like text: the table cell
under a Title / Paper / Method / Name column, a link's text, bold text, or the text before the first
link. Sections such as Contents, News or Citation are skipped. Nothing here touches the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

from .identity import comparable_title
from .sources import read_user_file

ARXIV_LINK = re.compile(r"arxiv\.org/(?:abs|pdf|html)/(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?",
                        re.IGNORECASE)
ARXIV_TEXT = re.compile(r"\barxiv[:\s]\s*(\d{4}\.\d{4,5})(?:v\d+)?\b", re.IGNORECASE)
DOI_LINK = re.compile(r"(?:doi\.org/|/doi/(?:abs/|full/|pdf/|epdf/)?|springer\.com/(?:article|chapter|content/pdf)/)"
                      r"(10\.\d{4,9}/[^\s?#]+?)(?:\.pdf)?(?:[?#]|$)", re.IGNORECASE)
# Link texts that say what a link is, not which paper it is.
GENERIC_LINK = re.compile(
    r"^\W*(paper|pdf|link|links|code|arxiv|project|project page|page|website|homepage|github|abs|html|openreview|"
    r"bib|bibtex|video|slides?|poster|demo|data|dataset|blog|supp|supplementary|official|unofficial|"
    r"pytorch|jax|tensorflow|model|weights|here|\d+|-)?\W*$", re.IGNORECASE)
SKIPPED_SECTIONS = re.compile(
    r"^\W*(table of )?contents?\b|^\W*news\b|^\W*updates?\b|^\W*introduction\b|^\W*keywords?\b|^\W*citations?\b|"
    r"^\W*cite\b|^\W*contribut|^\W*acknowledg|^\W*licen[cs]e\b|^\W*star history\b|^\W*tips\b|^\W*why\b",
    re.IGNORECASE)
TITLE_COLUMNS = ("title", "paper", "method", "methods", "name")
BLOCK_ROWS = {"li", "tr", "p"}  # and "a": a link outside all of them
HEADINGS = {f"h{i}" for i in range(1, 7)}
MIN_TITLE_WORDS = 3  # a row with neither arXiv id nor DOI needs a title at least this long
MAX_TITLE_WORDS = 30


@dataclass
class Row:
    """One row of the list, as read."""

    line: int
    section: tuple[str, ...]
    kind: str  # "li", "tr" or "p"
    text: str = ""
    lead: str = ""  # the text before the first link
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, link text)
    bold: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)  # a table row's cells, in order
    header: list[str] = field(default_factory=list)  # the lowercased header cells of a table row's table

    @property
    def arxiv_ids(self) -> list[str]:
        found = [m.group(1) for href, _ in self.links for m in [ARXIV_LINK.search(href)] if m]
        found += ARXIV_TEXT.findall(self.text)
        return list(dict.fromkeys(found))

    @property
    def dois(self) -> list[str]:
        found = [m.group(1).rstrip(".") for href, _ in self.links for m in [DOI_LINK.search(href)] if m]
        return list(dict.fromkeys(found))


@dataclass(frozen=True)
class ListEntry:
    """A paper row: where it is, and what it names."""

    line: int
    section: str
    title: str  # "" when the row names an id but no usable title
    arxiv: str | None
    doi: str | None


@dataclass(frozen=True)
class AwesomeList:
    path: str
    sections: tuple[str, ...]  # every section that holds at least one entry, in order
    entries: tuple[ListEntry, ...]


def _clean(text: str) -> str:
    return " ".join(text.split())


def _words(text: str) -> int:
    return len(re.findall(r"[^\W_]+", text))


class _Walker(HTMLParser):
    """Collects rows and the heading path above each; lines come from ``data-source-line`` markers
    (Markdown) or from the parser's position (HTML)."""

    def __init__(self, marked: bool):
        super().__init__(convert_charrefs=True)
        self.marked = marked
        self.marker_line = 1
        self.headings: list[tuple[int, str]] = []
        self.heading: tuple[int, list[str], int] | None = None  # level, text, line
        self.rows: list[Row] = []
        self.open: list[tuple[str, Row]] = []  # rows being read, innermost last
        self.link: tuple[str, list[str]] | None = None
        self.bold_depth = 0
        self.bold_text: list[str] = []
        self.cell: list[str] | None = None
        self.header_cells: list[str] | None = None
        self.table_header: list[str] = []

    def _line(self, attrs: list[tuple[str, str | None]]) -> int:
        if self.marked:
            for name, value in attrs:
                if name == "data-source-line" and value and value.isdigit():
                    self.marker_line = int(value)
            return self.marker_line
        return self.getpos()[0]

    def _section(self) -> tuple[str, ...]:
        """The heading path of the current position, without the document's title (an h1 above
        deeper headings) and without ancestors like "Table of Contents" that hold no papers."""
        path = [(level, text) for level, text in self.headings if text]
        if len(path) > 1:
            *above, last = path
            path = [h for h in above if h[0] > 1 and not SKIPPED_SECTIONS.search(h[1])] + [last]
        return tuple(text for _, text in path)

    @property
    def row(self) -> Row | None:
        return self.open[-1][1] if self.open else None

    def handle_comment(self, data: str) -> None:
        match = re.fullmatch(r"source-line:(\d+)", data.strip())
        if self.marked and match:
            self.marker_line = int(match.group(1))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self._line(attrs)
        if tag in HEADINGS:
            self.heading = (int(tag[1]), [], line)
        elif tag == "thead":
            self.header_cells = []
        elif tag in BLOCK_ROWS and not (tag == "p" and self.open):  # a paragraph inside a row is part of it
            section = self._section()
            self.open.append((tag, Row(line, section, tag, header=list(self.table_header))))
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "a":
            self.link = (dict(attrs).get("href") or "", [])
            if not self.open:  # a link outside any row (an HTML page's button) is a row of its own
                self.open.append(("a", Row(line, self._section(), "a")))
        elif tag in ("strong", "b"):
            self.bold_depth += 1
            if self.bold_depth == 1:
                self.bold_text = []
        elif tag == "br":
            self.handle_data(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in HEADINGS and self.heading is not None:
            level, parts, _ = self.heading
            self.heading = None
            while self.headings and self.headings[-1][0] >= level:
                self.headings.pop()
            self.headings.append((level, _clean("".join(parts))))
        elif tag == "a" and self.link is not None:
            href, parts = self.link
            self.link = None
            if self.row is not None:
                self.row.links.append((href, _clean("".join(parts))))
            if self.open and self.open[-1][0] == "a":
                self._finish_row()
        elif tag in ("strong", "b") and self.bold_depth:
            self.bold_depth -= 1
            if self.bold_depth == 0 and self.row is not None:
                self.row.bold.append(_clean("".join(self.bold_text)))
        elif tag in ("td", "th") and self.cell is not None:
            text = _clean("".join(self.cell))
            self.cell = None
            if self.header_cells is not None:
                self.header_cells.append(text.lower())
            elif self.row is not None:
                self.row.cells.append(text)
        elif tag == "thead" and self.header_cells is not None:
            self.table_header, self.header_cells = self.header_cells, None
        elif tag == "table":
            self.table_header = []
        elif tag in BLOCK_ROWS and self.open and self.open[-1][0] == tag:
            self._finish_row()

    def _finish_row(self) -> None:
        tag, row = self.open.pop()
        row.text, row.lead = _clean(row.text), _clean(row.lead)
        if not (tag == "tr" and self.header_cells is not None):  # a header row is no paper
            self.rows.append(row)

    def handle_data(self, data: str) -> None:
        if self.heading is not None:
            self.heading[1].append(data)
            return
        if self.link is not None:
            self.link[1].append(data)
        if self.bold_depth:
            self.bold_text.append(data)
        if self.cell is not None:
            self.cell.append(data)
        row = self.row
        if row is not None:
            row.text += data
            if not row.links and self.link is None:
                row.lead += data


def _markdown_to_html(text: str) -> str:
    """CommonMark + tables, raw HTML kept; each block carries ``data-source-line``."""
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    tokens = md.parse(text)
    for token in tokens:
        if token.map is None:
            continue
        if token.type == "html_block":
            token.content = f"<!--source-line:{token.map[0] + 1}-->{token.content}"
        elif token.nesting == 1:
            token.attrSet("data-source-line", str(token.map[0] + 1))
    return md.renderer.render(tokens, md.options, {})


def _strip_title(text: str) -> str:
    text = re.sub(r"^\s*\[[^\]]*\d{4}[^\]]*\]\s*", "", text)  # "[Feb 2026] ..." or "[CVPR 2023] ..."
    text = re.sub(r"^\s*\[\d{1,3}\]\s*", "", text)  # "[3] Title", a numbered reference
    text = re.sub(r"[\s\[(|]+$", "", text)
    return text.strip().strip("*_").strip().rstrip(",.;:").strip()


def _bold_title(row: Row) -> list[str]:
    """Bold text that opens the row ("**Title**", "`CLIP` **Title**"), not a label ("**Topic**: ...")."""
    out = []
    for bold in row.bold:
        at = row.text.find(bold)
        after = row.text[at + len(bold):].lstrip()[:1] if at >= 0 else ""
        if 0 <= at <= 25 and after != ":" and not bold.rstrip().endswith(":"):  # "**Label:** text" is no title
            out.append(bold)
    return out


def _title_of(row: Row) -> str:
    """The row's title. A table row: the cell under its Title / Paper / Method / Name column, else a
    link's text. A list item: the paper link's text, else opening bold text, else another link's
    text, else (when it links somewhere) the text before the first link."""
    paper_links = [t for h, t in row.links if ARXIV_LINK.search(h) or DOI_LINK.search(h)]
    other_links = [t for h, t in row.links if not h.startswith("#") and "github.com" not in h
                   and not ARXIV_LINK.search(h) and not DOI_LINK.search(h)]
    if row.kind == "tr":
        columns = [row.header.index(n) for n in TITLE_COLUMNS if n in row.header]
        candidates = [row.cells[i] for i in columns if i < len(row.cells)]
        if not row.header and row.cells:
            candidates.append(row.cells[0])
        candidates += [*paper_links, *other_links]
    else:
        candidates = [*paper_links, *_bold_title(row), *other_links]
        if paper_links or other_links:
            candidates.append(row.lead)
    for candidate in candidates:
        title = _strip_title(candidate)
        if title and not GENERIC_LINK.match(title):
            return title
    return ""


def _entry(row: Row) -> ListEntry | None:
    if row.section and SKIPPED_SECTIONS.search(row.section[-1]):
        return None
    arxiv = (row.arxiv_ids or [None])[0]
    doi = (row.dois or [None])[0]
    title = _title_of(row)
    if _words(title) > MAX_TITLE_WORDS:
        title = ""
    if not (arxiv or doi):
        only_anchors = row.links and all(h.startswith("#") for h, _ in row.links)
        if only_anchors or _words(title) < MIN_TITLE_WORDS:
            return None
        if row.kind in ("p", "a"):  # a paragraph or a lone link is a paper only when it names an id
            return None
        if row.kind == "tr" and row.header and not any(n in row.header for n in TITLE_COLUMNS):
            return None  # a descriptive table ("| Paradigm | Description |") names topics, not papers
    return ListEntry(row.line, " / ".join(row.section) or "(top)", title, arxiv, doi)


def _heading_key(text: str) -> str:
    """A heading's words, lowercased, without a leading number ("2. Generative Prompts", "II) ...")."""
    words = comparable_title(text).split()
    while words and re.fullmatch(r"\d+|[ivx]+", words[0]):
        words = words[1:]
    return " ".join(words)


def parse_list(text: str, *, html: bool, path: str = "") -> AwesomeList:
    """The paper rows of a list given as Markdown (``html=False``) or HTML."""
    walker = _Walker(marked=not html)
    walker.feed(text if html else _markdown_to_html(text))
    walker.close()
    entries = [e for e in (_entry(row) for row in sorted(walker.rows, key=lambda r: r.line)) if e]
    # A contents entry without a link ("- **2. Generative Visual Prompts**") repeats a heading: no paper
    headings = {_heading_key(h) for row in walker.rows for h in row.section}
    entries = [e for e in entries if e.arxiv or e.doi or _heading_key(e.title) not in headings]
    sections = tuple(dict.fromkeys(e.section for e in entries))
    return AwesomeList(path, sections, tuple(entries))


def read_list(path: Path) -> AwesomeList:
    """A list file on disk; ``.html`` / ``.htm`` is read as HTML, anything else as Markdown."""
    text = read_user_file(path)
    html = path.suffix.lower() in (".html", ".htm") or text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))
    return parse_list(text, html=html, path=str(path))
