"""The house has floors: a module imports only from its own floor or below, and nothing imports in a circle.

site_builder: core (models, load, lint, knowledge_base, runners, ...) < export < site < cli.
reference_impls: data, tiny_vit < loop < backbone < engine < method modules < cli.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .tmp_repo import REPO


def _imports(path: Path, package: str) -> set[str]:
    """Absolute names of the package-internal modules a file imports."""
    parts = path.relative_to(REPO).with_suffix("").parts
    here = list(parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            name = ".".join([*base, *(node.module.split(".") if node.module else [])])
            if name.startswith(package):
                found.add(name)
                found.update(f"{name}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(package))
    return found


def test_export_and_the_core_never_import_the_site() -> None:
    lower = [p for p in (REPO / "site_builder").rglob("*.py")
             if p.parent.name != "site" and p.name not in ("cli.py", "__main__.py")]
    offenders = {str(p.relative_to(REPO)): sorted(i for i in _imports(p, "site_builder")
                                                  if i.startswith("site_builder.site"))
                 for p in lower}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_reference_impls_have_no_import_circle() -> None:
    root = REPO / "reference_impls"
    graph = {p.stem: {i.split(".")[1] for i in _imports(p, "reference_impls") if i.count(".") >= 1}
             for p in root.glob("*.py")}
    graph = {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        return any(d == target or (d not in seen and reaches(d, target, seen | {d})) for d in graph[start])

    circles = sorted(m for m in graph if reaches(m, m, {m}))
    assert circles == [], f"modules on an import circle: {circles}"
    assert "engine" not in graph["backbone"] and "backbone" in graph["engine"]


def test_validate_does_not_import_the_contributor_network_stack() -> None:
    # Start-up counts when a user runs `validate` (issue: validation at most 1.5x a bare parse).
    import subprocess
    import sys

    code = ("import sys; from site_builder.cli import main; main(['--root', sys.argv[1], 'validate']); "
            "print(sorted(m for m in ('requests', 'requests_cache', 'urllib3', 'markdown_it') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(REPO)], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
