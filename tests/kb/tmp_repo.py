"""Throw-away repositories for the knowledge-base tests: taxonomy.yaml, papers/, outputs.

Every test that runs the pipeline end to end builds its own repository under ``tmp_path`` from the
real taxonomy.yaml and the known-good entry ``tests/kb/valid/smith2022valid.yaml``, so the tests do not
depend on the papers being added to the real corpus.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder import cli
from site_builder.lint import SCHEMA_COMMENT

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BROKEN = HERE / "broken"
VALID_PAPER = HERE / "valid" / "smith2022valid.yaml"
PROBLEM_LINE = re.compile(r"^(?P<path>[^:\s]+)(?::(?P<line>\d+))?: (?P<field>\S+): (?P<message>.*)$")
OUTPUT_NAMES = ("README.md", "VISION-ONLY.md", "papers.bib", "papers.json", "schema/paper.schema.json")  # no CONTRIBUTING.md here


def make_repo(root: Path, *, with_valid_paper: bool = True) -> Path:
    """taxonomy.yaml and papers/ (with the valid entry unless told otherwise) under ``root``."""
    (root / "papers").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "taxonomy.yaml", root / "taxonomy.yaml")
    if with_valid_paper:
        shutil.copy(VALID_PAPER, root / "papers" / VALID_PAPER.name)
    return root


def paper_data(paper_id: str, **fields: Any) -> dict[str, Any]:
    """A valid paper entry as plain data; keyword arguments replace or add fields (None removes one)."""
    data: dict[str, Any] = {
        "id": paper_id,
        "title": f"Prompt Study Number {paper_id}",
        "authors": ["Ada Smith"],
        "year": 2022,
        "venue": "CVPR",
        "url": f"https://example.org/{paper_id}",
        "method": ["vpt-learnable"],
        "modality": ["visual"],
        "summary": f"A synthetic entry called {paper_id}.",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def write_paper(root: Path, data: dict[str, Any], file_name: str | None = None) -> Path:
    """Write an entry as papers/<id>.yaml, with the schema comment on the first line."""
    path = root / "papers" / (file_name or f"{data['id']}.yaml")
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    path.write_text(f"{SCHEMA_COMMENT}\n{text}", encoding="utf-8")
    return path


def write_sentinels(root: Path) -> dict[str, bytes]:
    """Pre-existing outputs with recognisable content; returns what was written."""
    written = {}
    for name in OUTPUT_NAMES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        written[name] = f"sentinel: {name} as committed before the run\n".encode()
        path.write_bytes(written[name])
    return written


def read_outputs(root: Path) -> dict[str, bytes | None]:
    return {name: (root / name).read_bytes() if (root / name).is_file() else None for name in OUTPUT_NAMES}


def stray_files(root: Path) -> list[str]:
    """Temporary files left behind by a write (the atomic writer stages them as hidden .tmp siblings)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.tmp"))


@dataclass
class CliRun:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def error_lines(self) -> list[str]:
        """The problem lines that are errors (``path[:line]: field: message``, not warnings or summaries)."""
        return [line for line in self.err.splitlines()
                if (m := PROBLEM_LINE.match(line)) and not m.group("message").startswith("warning: ")]


def run_cli(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> CliRun:
    """``python -m site_builder --root ROOT ARGS`` in this process (fast)."""
    capsys.readouterr()
    code = cli.main(["--root", str(root), *args])
    captured = capsys.readouterr()
    return CliRun(code, captured.out, captured.err)


def run_subprocess(*args: str, cwd: Path | None = None) -> CliRun:
    """``python -m site_builder ARGS`` in a fresh interpreter, as a contributor or CI runs it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-m", "site_builder", *args], cwd=cwd or REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    return CliRun(proc.returncode, proc.stdout, proc.stderr)
