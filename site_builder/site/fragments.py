"""Small HTML fragments that every page repeats many times (paper links, category chips, code links).

They are built in Python with :class:`markupsafe.Markup` (``Markup.format`` escapes every argument),
not as Jinja macros: a page of the 1,000-paper benchmark holds hundreds of them, and a macro call
costs far more than a formatted string. The text of a fragment does not depend on the page, so it is
cached; only the relative ``href`` is computed per page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from markupsafe import Markup

from site_builder.models import Paper

from . import urls


def shows_short_name(short_name: str | None, title: str) -> bool:
    """Whether a title needs its method's short name in front: not when it already starts with it.

    >>> shows_short_name("VPT", "Visual Prompt Tuning"), shows_short_name("ShapeLLM", "ShapeLLM: Universal 3D")
    (True, False)
    >>> shows_short_name("DA", "DAM-VP: ..."), shows_short_name(None, "Anything")
    (True, False)
    >>> shows_short_name("PromptDet (LiDAR prompts)", "PromptDet: A Lightweight 3D Object Detection")
    False
    >>> shows_short_name("PASS", "(PASS) Visual Prompt Locates Good Structure Sparsity")
    False
    """
    if not short_name:
        return False
    name = re.sub(r"\s*\([^)]*\)\s*$", "", short_name) or short_name  # "PromptDet (LiDAR prompts)"
    return not re.match(r"[(\[]?" + re.escape(name) + r"(?![A-Za-z0-9])", title, re.IGNORECASE)


def display_title(paper: Paper) -> str:
    """``VPT: Visual Prompt Tuning``, but ``ShapeLLM: Universal ...`` as published (plain text)."""
    if shows_short_name(paper.short_name, paper.title):
        return f"{paper.short_name}: {paper.title}"
    return paper.title


@cache
def _paper_title(short_name: str | None, title: str) -> Markup:
    if shows_short_name(short_name, title):
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
        Markup('<a href="{0}" class="pa-code{1}">{2}</a>').format(
            code.url, " pa-code-official" if code.official else "", "official" if code.official else "code")
        for code in paper.code
    ]
    if not links:
        return Markup('<span class="pa-no-code">no code</span>')
    return Markup(" ").join(links)


class PageFragments:
    """The fragments as seen from one page: their links are relative to ``page_url``.

    ``directory_urls=False`` is the copy read from disk: a link to a folder names its ``index.html``.
    """

    def __init__(self, page_url: str, category_name: Callable[[str, str], str], *,
                 directory_urls: bool = True) -> None:
        self.page_url = page_url
        self._category_name = category_name
        self.directory_urls = directory_urls

    def href(self, url: str) -> str:
        relative = urls.relative_url(self.page_url, url)
        return relative if self.directory_urls else urls.file_url(relative)

    def paper_link(self, paper: Paper) -> Markup:
        return Markup('<a href="{}">{}</a>').format(self.href(urls.paper_url(paper.id)), paper_title(paper))

    def paper_short_link(self, paper: Paper) -> Markup:
        """The method's short name (else the title) linking to the paper; the full title on hover."""
        return Markup('<a href="{}" title="{}">{}</a>').format(
            self.href(urls.paper_url(paper.id)), paper.title, paper.short_name or paper.title)

    def category_chip(self, facet: str, category_id: str) -> Markup:
        return Markup('<a class="pa-chip" href="{}">{}</a>').format(
            self.href(urls.category_url(facet, category_id)), self._category_name(facet, category_id))
