"""Small HTML fragments that every page repeats many times (paper links, category chips, code links).

They are built in Python with :class:`markupsafe.Markup` (``Markup.format`` escapes every argument),
not as Jinja macros: a page of the 1,000-paper benchmark holds hundreds of them, and a macro call
costs far more than a formatted string. The text of a fragment does not depend on the page, so it is
cached; only the relative ``href`` is computed per page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from markupsafe import Markup

from site_builder.models import Paper

from . import urls


@cache
def _paper_title(short_name: str | None, title: str) -> Markup:
    if short_name:
        return Markup("<strong>{}</strong>: {}").format(short_name, title)
    return Markup("{}").format(title)


def paper_title(paper: Paper) -> Markup:
    return _paper_title(paper.short_name, paper.title)


SHORT_TEXT = 48


def short_text(text: str, limit: int = SHORT_TEXT) -> str:
    """At most ``limit`` characters, cut at a word and ended with an ellipsis when longer."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,;:(") + "…"


def code_links(paper: Paper) -> Markup:
    links = [
        Markup('<a href="{0}" title="{0}" class="pa-code{1}">{2}</a>').format(
            code.url, " pa-code-official" if code.official else "", "official" if code.official else "code")
        for code in paper.code
    ]
    return Markup(" ").join(links)


class PageFragments:
    """The fragments as seen from one page: their links are relative to ``page_url``."""

    def __init__(self, page_url: str, category_name: Callable[[str, str], str]) -> None:
        self.page_url = page_url
        self._category_name = category_name

    def href(self, url: str) -> str:
        return urls.relative_url(self.page_url, url)

    def paper_link(self, paper: Paper) -> Markup:
        return Markup('<a href="{}">{}</a>').format(self.href(urls.paper_url(paper.id)), paper_title(paper))

    def paper_short_link(self, paper: Paper) -> Markup:
        """The method's short name (else the title) linking to the paper; the full title on hover."""
        return Markup('<a href="{}" title="{}">{}</a>').format(
            self.href(urls.paper_url(paper.id)), paper.title, paper.short_name or paper.title)

    def category_chip(self, facet: str, category_id: str) -> Markup:
        return Markup('<a class="pa-chip" href="{}">{}</a>').format(
            self.href(urls.category_url(facet, category_id)), self._category_name(facet, category_id))
