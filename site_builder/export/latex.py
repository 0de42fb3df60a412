"""Escaping of LaTeX special characters for BibTeX fields, and its exact inverse."""

from __future__ import annotations

import re

_ENCODE = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",  # not \{ : BibTeX counts braces even when escaped
    "}": r"\textbraceright{}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_ENCODE_TABLE = str.maketrans(_ENCODE)
_SPECIAL = re.compile("[" + re.escape("".join(_ENCODE)) + "]")
_DECODE = {v: k for k, v in _ENCODE.items()}
_DECODE_RE = re.compile("|".join(re.escape(k) for k in sorted(_DECODE, key=len, reverse=True)))


def latex_escape(text: str) -> str:
    # most text has no special character: a regex search is cheaper than translate on 10,000 papers
    return text.translate(_ENCODE_TABLE) if _SPECIAL.search(text) else text


def latex_unescape(text: str) -> str:
    return _DECODE_RE.sub(lambda m: _DECODE[m.group(0)], text)


def split_authors(field: str) -> list[str]:
    """Split a BibTeX author field on top-level ' and ' (not inside braces)."""
    names, depth, current, i = [], 0, "", 0
    while i < len(field):
        ch = field[i]
        if ch == "\\" and i + 1 < len(field):
            current += field[i : i + 2]
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if depth == 0 and field.startswith(" and ", i):
            names.append(current)
            current = ""
            i += 5
            continue
        current += ch
        i += 1
    names.append(current)
    return names


def author_field(names: list[str]) -> str:
    """Authors joined with ' and '; a name that itself contains ' and ' is protected by braces."""
    parts = []
    for name in names:
        escaped = latex_escape(name)
        parts.append("{" + escaped + "}" if " and " in f" {name} " else escaped)
    return " and ".join(parts)


def parse_author_field(field: str) -> list[str]:
    names = []
    for raw in split_authors(field):
        # escaped text never starts with a bare brace: one there is author_field's protection
        if raw.startswith("{") and raw.endswith("}"):
            raw = raw[1:-1]
        names.append(latex_unescape(raw))
    return names
