"""The Contributing page: CONTRIBUTING.md, copied into the docs tree with its links made valid.

CONTRIBUTING.md is written for readers of the repository, so its relative links point at repository
files (``papers/EXAMPLE.yaml``, ``taxonomy.yaml``) that are not pages of the site; MkDocs' strict mode
would reject them. Such a link becomes a link to the file on the forge when ``repo_url`` is set, else
plain text naming the file; links to the web and to anchors are kept; fenced code is left alone.
"""

from __future__ import annotations

import re
from pathlib import Path

from .settings import SiteSettings

_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*)(\S+)(.*)$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")

MISSING = (
    "# Contributing\n\n"
    "CONTRIBUTING.md is missing from this checkout; see the repository for how to add a paper.\n"
)


def _is_external(target: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target)) or target.startswith(("#", "//"))


def _rewrite_target(target: str, settings: SiteSettings) -> str | None:
    """The new target, or None when the link must become text."""
    if _is_external(target):
        return target
    path = target.split("#", 1)[0].lstrip("./")
    return settings.source_link(path) if path else target


def _rewrite_line(line: str, settings: SiteSettings) -> str:
    # Leave code spans untouched: cut them out, rewrite the rest, put them back.
    spans: list[str] = []

    def keep(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"\x00{len(spans) - 1}\x00"

    text = _CODE_SPAN.sub(keep, line)

    def inline(match: re.Match[str]) -> str:
        bang, label, target, title = match.groups()
        new = _rewrite_target(target, settings)
        if new is None:
            if bang:  # a repository image cannot be shown: keep its alt text
                return label
            return label if label.strip("`") == target else f"{label} (`{target}`)"
        return f"{bang}[{label}]({new}{title or ''})"

    text = _INLINE_LINK.sub(inline, text)
    reference = _REFERENCE.match(text)
    if reference:
        new = _rewrite_target(reference.group(2), settings)
        text = f"{reference.group(1)}{new}{reference.group(3)}" if new else ""
    return re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], text)


def contributing_page(root: Path, settings: SiteSettings) -> str:
    """The Markdown of the Contributing page."""
    path = root / "CONTRIBUTING.md"
    if not path.is_file():
        return MISSING
    out: list[str] = []
    in_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
            continue
        out.append(line if in_fence else _rewrite_line(line, settings))
        if len(out) == 1 and line.startswith("# ") and settings.repo_url:
            # The page names "an issue" and "a pull request": say where they are opened.
            base = settings.repo_url.rstrip("/")
            out += ["", f"The repository: <{base}> ([issues]({base}/issues), [pull requests]({base}/pulls))."]
    return "\n".join(out) + "\n"
