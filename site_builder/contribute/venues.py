"""Guess a venue id of taxonomy.yaml from free text: an arXiv journal_ref, a Crossref
container-title, a BibTeX booktitle or journal.

The guess is conservative: a venue's full name inside the text wins (the longest one, so a workshop's
name beats its conference's); otherwise a venue id written as its own word (``ECCV 2022``,
``... (ICCV)``); two different ids and no name means no guess. Text that says "workshop" moves a
conference to its workshop venue (ICCV -> ICCVW) when taxonomy.yaml has one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..models import Venue
from .identity import ascii_fold

# Names a source uses that are not the taxonomy's name for the venue.
ALIASES: dict[str, str] = {
    "advances in neural information processing systems": "NeurIPS",
    "neural information processing systems": "NeurIPS",
    "nips": "NeurIPS",
    "proceedings of the aaai conference on artificial intelligence": "AAAI",
    "computer vision and pattern recognition": "CVPR",
    "international conference on computer vision": "ICCV",
    "european conference on computer vision": "ECCV",
    "transactions on machine learning research": "TMLR",
}
_SHORT_ID = 3  # ids shorter than this (NN, PR, IF) are ordinary words too often: match them by name only


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_fold(text).lower()).split())


def _id_in_text(venue_id: str, text: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9-]){re.escape(venue_id)}(?![A-Za-z0-9-])", text) is not None


def guess_venue(text: str | None, venues: Iterable[Venue]) -> str | None:
    """The id of the venue ``text`` names, or None when it names none or several."""
    if not text or not text.strip():
        return None
    venues = [v for v in venues if v.kind != "preprint"]
    by_id = {v.id: v for v in venues}
    norm = f" {_normalise(text)} "

    names = [(len(v.name), v.id) for v in venues if f" {_normalise(v.name)} " in norm]
    names += [(len(alias), vid) for alias, vid in ALIASES.items() if vid in by_id and f" {alias} " in norm]
    if names:
        return _workshop(max(names)[1], text, by_id)
    ids = {v.id for v in venues if len(v.id) >= _SHORT_ID and _id_in_text(v.id, text)}
    # "CVPR Workshops" mentions both CVPR and CVPRW: keep the workshop.
    ids = {i for i in ids if f"{i}W" not in ids}
    if len(ids) == 1:
        return _workshop(ids.pop(), text, by_id)
    return None


def _workshop(venue_id: str, text: str, by_id: dict[str, Venue]) -> str:
    workshop = by_id.get(f"{venue_id}W")
    if "workshop" in text.lower() and by_id[venue_id].kind != "workshop" and workshop and workshop.kind == "workshop":
        return workshop.id
    return venue_id


def year_in(text: str | None) -> int | None:
    """A four-digit year (1950-2099) in the text, the last one if several (``ECCV 2022`` -> 2022)."""
    found = re.findall(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)", text or "")
    return int(found[-1]) if found else None
