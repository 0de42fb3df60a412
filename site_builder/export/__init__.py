"""The generated outputs: rendered in memory, then written all at once or compared (``--check``)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

from ..atomic import write_files_atomically
from ..contribute.docs import render_contributing
from ..gc_pause import paused_gc
from ..knowledge_base import KnowledgeBase
from .bibtex import render_bibtex
from .json_export import render_json, render_schema
from .readme import VISION_ONLY, render_readme, render_vision_only


def _render_contributing(kb: KnowledgeBase) -> str | None:
    """CONTRIBUTING.md is hand-written except its field reference, regenerated from the schema.

    A checkout without the file (a bare data folder) simply has no such output.
    """
    path = kb.root / "CONTRIBUTING.md"
    return render_contributing(path.read_text(encoding="utf-8"), kb) if path.is_file() else None


# Output path (relative to the repository root) -> renderer. Every one is committed and checked.
# A renderer returning None means the output does not apply to this checkout.
OUTPUTS: dict[str, Callable[[KnowledgeBase], str | None]] = {
    "README.md": render_readme,
    VISION_ONLY: render_vision_only,
    "papers.bib": render_bibtex,
    "papers.json": render_json,
    "schema/paper.schema.json": render_schema,
    "CONTRIBUTING.md": _render_contributing,
}


def render_outputs(kb: KnowledgeBase) -> dict[str, str]:
    """Every output's text. Rendering everything before writing anything keeps failures harmless."""
    with paused_gc():  # see gc_pause: thousands of live papers make every collection a full rescan
        rendered = {name: render(kb) for name, render in OUTPUTS.items()}
    return {name: text for name, text in rendered.items() if text is not None}


def write_outputs(kb: KnowledgeBase, root: Path) -> list[str]:
    """Write the outputs that changed; returns their names."""
    rendered = render_outputs(kb)
    changed = {
        root / name: text
        for name, text in rendered.items()
        if not (root / name).is_file() or (root / name).read_text(encoding="utf-8") != text
    }
    write_files_atomically(changed)
    return sorted(str(path.relative_to(root)) for path in changed)


def stale_outputs(kb: KnowledgeBase, root: Path, *, context: int = 2, max_lines: int = 40) -> dict[str, str]:
    """Outputs whose committed file differs from what the data generates, with a short diff each."""
    stale = {}
    for name, text in render_outputs(kb).items():
        path = root / name
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            diff = difflib.unified_diff(
                current.splitlines(), text.splitlines(), f"{name} (committed)", f"{name} (generated)",
                n=context, lineterm="",
            )
            lines = list(diff)
            more = f"\n... {len(lines) - max_lines} more diff lines" if len(lines) > max_lines else ""
            stale[name] = "\n".join(lines[:max_lines]) + more if path.is_file() else "(missing)"
    return stale
