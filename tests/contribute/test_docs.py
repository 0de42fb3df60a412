"""The generated field reference, and CONTRIBUTING.md kept in step with the schema and the commands."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from site_builder.contribute.docs import END, START, render_contributing, render_field_reference
from site_builder.contribute.repository import load_taxonomy
from site_builder.models import CodeLink, Paper, Result

from .conftest import REPO

CONTRIBUTING = REPO / "CONTRIBUTING.md"


def test_every_field_has_a_row() -> None:
    text = render_field_reference()
    for model in (Paper, CodeLink, Result):
        for name in model.model_fields:
            assert f"| `{name}` |" in text, name
    assert "| `title` | text | **yes** |" in text
    assert "| `kind` | one of `method`, `survey`, `benchmark`, `analysis` | no (default `method`) |" in text
    assert "| `code` | list of `CodeLink` | no |" in text


def test_taxonomy_ids_are_listed_when_given() -> None:
    text = render_field_reference(load_taxonomy(REPO))
    assert "`vpt-learnable`" in text and "`ICCV`" in text and "`vtab1k-natural`" in text


def test_render_contributing_replaces_only_the_marked_section() -> None:
    kb = SimpleNamespace(taxonomy=load_taxonomy(REPO))
    text = f"# Title\n\nbefore\n\n{START}\nstale table\n{END}\n\nafter\n"
    out = render_contributing(text, kb)  # type: ignore[arg-type]
    assert out.startswith("# Title\n\nbefore\n\n") and out.endswith(f"{END}\n\nafter\n")
    assert "stale table" not in out and "| `summary` |" in out
    assert render_contributing(out, kb) == out  # idempotent  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["no markers", f"{END}\n{START}\n", f"{START} only"])
def test_missing_markers_are_an_error(text: str) -> None:
    with pytest.raises(ValueError, match="fields:start"):
        render_contributing(text)


def test_committed_contributing_is_up_to_date() -> None:
    kb = SimpleNamespace(taxonomy=load_taxonomy(REPO))
    current = CONTRIBUTING.read_text(encoding="utf-8")
    assert render_contributing(current, kb) == current, (  # type: ignore[arg-type]
        "CONTRIBUTING.md's field reference is stale: run `python -m site_builder build`")


def test_every_command_is_documented() -> None:
    text = CONTRIBUTING.read_text(encoding="utf-8")
    for command in ("new", "verify", "links", "compare-list", "import-bib", "validate", "build"):
        assert f"python -m site_builder {command}" in text, command
    for words in ("three steps", "Review policy", "path:line: field: message", "One paper per pull request",
                  "own words", "official: true"):
        assert words in text, words
