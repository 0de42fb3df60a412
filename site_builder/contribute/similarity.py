"""How alike two titles are, after the differences that do not matter are removed."""

from __future__ import annotations

import difflib
import re

from ..knowledge_base import normalise_title

TITLE_THRESHOLD = 0.9


def comparable_title(title: str) -> str:
    """LaTeX markup (``E$^2$VPT``, ``{T}uning``) and HTML tags removed, then the knowledge base's
    normalisation (case, accents, punctuation, spacing)."""
    text = re.sub(r"<[^>]+>", "", title)
    text = re.sub(r"\\[a-zA-Z]+\s*", "", text)
    text = re.sub(r"[{}$^\\]", "", text)
    return normalise_title(text)


def title_similarity(a: str, b: str) -> float:
    """1.0 for the same title; difflib's ratio of the comparable forms otherwise."""
    ca, cb = comparable_title(a), comparable_title(b)
    if not ca or not cb:
        return 0.0
    return 1.0 if ca == cb else difflib.SequenceMatcher(None, ca, cb).ratio()
