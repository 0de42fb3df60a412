"""Markdown escaping for text that comes from the data.

A title or summary may contain any character. In a table cell, ``|`` would split the cell and a
newline would end the row; ``<`` could open raw HTML; ``*``, ``_``, ``[``, ``$`` and friends would turn
into emphasis, links or math on GitHub. Everything is neutralised here, in one place.
"""

from __future__ import annotations

import re

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Inline specials of GitHub-flavoured Markdown. With [ and ] escaped no link can form, so ( ) ! need
# nothing; # and + matter only at the start of a line, where escaped text never stands.
_MARKDOWN_SPECIALS = "\\`*_[]|$~"


def md_text(text: str) -> str:
    """Text safe to place anywhere inline, including inside a table cell."""
    text = " ".join(text.split())
    # str.replace, guarded by `in`, is several times faster than a regex or translate on 10,000 papers
    for ch, entity in _HTML.items():  # & first, so the entities' own & are not escaped again
        if ch in text:
            text = text.replace(ch, entity)
    # ';' after an entity is not special; escape the rest with backslashes (the backslash itself first)
    for ch in _MARKDOWN_SPECIALS:
        if ch in text:
            text = text.replace(ch, "\\" + ch)
    return text


def md_url(url: str) -> str:
    """A URL safe as a Markdown link destination (URLs are validated: https, no spaces)."""
    return url.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def md_link(text: str, url: str) -> str:
    return f"[{md_text(text)}]({md_url(url)})"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A pipe table from cells that are already escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def split_row(row: str) -> list[str]:
    """Split a pipe-table row into cells, honouring backslash escapes (used by tests and checks)."""
    cells, current, escaped = [], "", False
    for ch in row.strip()[1:-1] if row.strip().startswith("|") else row:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            current += ch
            escaped = True
        elif ch == "|":
            cells.append(current.strip())
            current = ""
        else:
            current += ch
    cells.append(current.strip())
    return cells


def github_anchor(heading: str) -> str:
    """The anchor GitHub generates for a heading (lower-case, punctuation dropped, spaces to -)."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")
