"""Telling papers apart: ASCII folding, surnames, title similarity, and the paper id convention
``surname + year + word``."""

from __future__ import annotations

import difflib
import re
import unicodedata

from ..knowledge_base import normalise_title

TITLE_THRESHOLD = 0.9  # difflib ratio of comparable titles above which two titles are the same paper's

# Words skipped when picking the "first significant title word" of an id.
# Only articles and short prepositions: the corpus keeps "towards", "when", "what", "do" (kim2023do).
STOPWORDS = frozenset("a an the on of for in to with and or via by from at as into".split())
# Letters that NFKD does not split into base letter + accent.
_EXTRA_FOLDS = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
                              "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "þ": "th", "ı": "i"})


def ascii_fold(text: str) -> str:
    """``"Müller-Łukasz"`` -> ``"Muller-Lukasz"``: accents dropped, other non-ASCII removed."""
    text = unicodedata.normalize("NFKD", text.translate(_EXTRA_FOLDS))
    return text.encode("ascii", "ignore").decode("ascii")


def slug_word(text: str) -> str:
    """Lowercase ASCII letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", ascii_fold(text).lower())


def family_name(full_name: str) -> str:
    """The family name of a "Given Family" name: its last word (``"Ser-Nam Lim"`` -> ``"Lim"``).

    A source that knows the family name (Crossref, BibTeX) should be asked instead: this guess is
    wrong for particles such as "van der".
    """
    words = full_name.replace(",", " ").split()
    return words[-1] if words else ""


def first_significant_word(title: str) -> str:
    """The first title word that is not a stopword, as an id fragment (``"Test-Time ..."`` -> ``"test"``)."""
    for raw in re.split(r"[\s:;,.!?()\[\]{}\"'/]+", title):
        parts = [slug_word(p) for p in re.split(r"[-–—_]+", raw)]
        parts = [p for p in parts if p]
        # A one-letter prefix belongs to the name: "S-Prompts" -> "sprompts", "C-TPT" -> "ctpt".
        while len(parts) > 1 and len(parts[0]) == 1 and parts[0] not in STOPWORDS:
            parts[:2] = [parts[0] + parts[1]]
        for word in parts:
            if word not in STOPWORDS:
                return word
    return ""


def make_paper_id(family: str, year: int, title: str) -> str:
    """The id convention: ``jia`` + ``2022`` + ``visual`` -> ``jia2022visual``."""
    surname = slug_word(family) or "anon"
    if surname[0].isdigit():
        surname = "x" + surname
    return f"{surname}{year}{first_significant_word(title)}"[:64]


def same_surname(a: str, b: str) -> bool:
    """Family names equal after folding; also true when one is a word of the other (for names given
    in a different order or with particles, e.g. "Han" and "Cheng Han")."""
    fa, fb = slug_word(a), slug_word(b)
    if not fa or not fb:
        return False
    if fa == fb:
        return True
    words_a = {slug_word(w) for w in re.split(r"[\s-]+", a)}
    words_b = {slug_word(w) for w in re.split(r"[\s-]+", b)}
    return fa in words_b or fb in words_a


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
