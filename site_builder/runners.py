"""The runner names each reference-implementation module declares, read without importing torch.

``reference_impls/<module>.py`` declares ``RUNNERS = {"name": run_name, ...}``; the README (export)
and the site both list those names beside the method categories. The names are read from the
module's source with :mod:`ast`; importing the module is the fallback when the literal is built
dynamically. This module sits below both of its users.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path


def declared_runner_names(root: Path, module: str) -> tuple[str, ...]:
    """The runner names written literally in the module's source (no import, so no torch needed)."""
    source = root / "reference_impls" / f"{module}.py"
    return (_runners_from_source(source) if source.is_file() else None) or ()


def runner_names(root: Path, module: str) -> tuple[str, ...]:
    """The names ``python -m reference_impls run`` accepts for this module, in source order."""
    source = root / "reference_impls" / f"{module}.py"
    names = _runners_from_source(source) if source.is_file() else None
    if names is None:
        names = _runners_from_import(module)
    return names or (module,)


def _runners_from_source(path: Path) -> tuple[str, ...] | None:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == "RUNNERS" for t in targets):
            value = node.value
            if isinstance(value, ast.Dict) and all(
                isinstance(k, ast.Constant) and isinstance(k.value, str) for k in value.keys
            ):
                return tuple(k.value for k in value.keys)  # type: ignore[union-attr]
            return None
    return None


def _runners_from_import(module: str) -> tuple[str, ...] | None:
    try:
        runners = getattr(importlib.import_module(f"reference_impls.{module}"), "RUNNERS", None)
    except Exception:  # noqa: BLE001 - torch missing or a broken module: fall back to the module name
        return None
    return tuple(runners) if isinstance(runners, dict) else None
