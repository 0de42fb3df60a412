"""Render a new paper file: the facts a source gave, and the fields only a person can fill.

The human fields are written so that ``python -m site_builder validate`` points at each one with its
line (``method: []`` and ``summary: ""`` are errors until filled in); optional fields are left as
comments that show how to write them. The text is parsed back before it is returned, so a quoting
mistake can never produce a file that says something else than the facts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import yaml

from ..models import Taxonomy
from ..yaml_loader import parse_yaml_text
from .sources import ContributeError

SCHEMA_LINE = "# yaml-language-server: $schema=../schema/paper.schema.json"
COMMENT_COLUMN = 36


@dataclass(frozen=True)
class Draft:
    id: str
    title: str
    authors: tuple[str, ...]
    year: int
    venue: str  # "" when no venue could be guessed: validate then asks for one
    arxiv: str | None = None
    doi: str | None = None
    url: str | None = None
    year_note: str = ""
    venue_note: str = ""
    source_note: str = ""  # where the facts came from, for the header comment
    command: str = "new"  # the command that wrote the file, for the header comment


def yaml_string(value: str) -> str:
    """A YAML scalar that reads back as exactly ``value``: plain when safe, else double-quoted."""
    plain_ok = re.fullmatch(r"[A-Za-z0-9(][^:#\"'{}\[\],&*!|>%@`\\]*", value) is not None and value == value.strip()
    if plain_ok:
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def _line(code: str, comment: str = "") -> str:
    if not comment:
        return code
    return f"{code.ljust(COMMENT_COLUMN - 2)}  # {comment}" if len(code) < COMMENT_COLUMN - 2 else f"{code}  # {comment}"


def render_draft(draft: Draft, taxonomy: Taxonomy) -> str:
    methods = ", ".join(taxonomy.leaf_ids("method"))
    lines = [
        SCHEMA_LINE,
        f"# Scaffolded by `python -m site_builder {draft.command}` from {draft.source_note}.",
        "# Check every fact against the paper, fill in `method` and `summary` (validate reports them until",
        "# you do), add categories and code, then delete these comments. Field reference: CONTRIBUTING.md.",
        _line(f"id: {draft.id}"),
        _line(f"title: {yaml_string(draft.title)}"),
        _line("# short_name: ABC", "optional: the method's common name"),
        "authors:",
        *(f"  - {yaml_string(a)}" for a in draft.authors),
        _line(f"year: {draft.year}", draft.year_note),
        _line(f"venue: {yaml_string(draft.venue) if draft.venue else chr(34) * 2}", draft.venue_note),
    ]
    if draft.arxiv:
        lines.append(_line(f"arxiv: {json.dumps(draft.arxiv)}"))
    if draft.doi:
        lines.append(_line(f"doi: {yaml_string(draft.doi)}"))
    if draft.url:
        lines.append(_line(f"url: {yaml_string(draft.url)}"))
    lines += [
        _line("# code:", "optional: official: true only for the authors' own repo"),
        "#   - url: https://github.com/owner/repo",
        "#     official: true",
        _line("kind: method", "method | survey | benchmark | analysis"),
        _line("method: []", f"TODO required for kind: method; one or more of: {methods}"),
        _line("modality: []", f"TODO required for kind: method; one or more of: {', '.join(taxonomy.all_ids('modality'))}"),
    ]
    for facet in ("tasks", "domains", "settings", "trust"):
        lines.append(_line(f"# {facet}: []", f"optional: {', '.join(taxonomy.all_ids(facet))}"))
    lines += [
        _line('summary: ""', "TODO required: 1-2 sentences, at most 300 characters, in your own words"),
        "# results: see CONTRIBUTING.md (numbers exactly as printed, with their table as `source`)",
    ]
    text = "\n".join(lines) + "\n"
    _check_round_trip(text, draft)
    return text


def _check_round_trip(text: str, draft: Draft) -> None:
    data = parse_yaml_text(text, f"{draft.id}.yaml").data
    expected = {"id": draft.id, "title": draft.title, "authors": list(draft.authors), "year": draft.year,
                "venue": draft.venue, "arxiv": draft.arxiv, "doi": draft.doi, "url": draft.url}
    got = {key: data.get(key) for key in expected}
    if got != expected:  # a bug in the quoting above; refuse rather than write a wrong fact
        raise ContributeError(f"internal error: the scaffold for {draft.id} does not read back as written "
                              f"({got} != {expected}); please report it")
