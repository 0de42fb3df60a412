"""The contributor commands as ``python -m site_builder`` runs them."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from site_builder import cli
from site_builder.contribute.commands import add_subcommands

from .conftest import REPO

COMMANDS = ("new", "verify", "links", "compare-list", "import-bib")


def test_add_subcommands_sets_a_func_for_each_command() -> None:
    parser = argparse.ArgumentParser()
    add_subcommands(parser.add_subparsers(dest="command"))
    for name, argv in {"new": ["new", "--arxiv", "2203.12119"], "verify": ["verify"], "links": ["links"],
                       "import-bib": ["import-bib", "x.bib"], "compare-list": ["compare-list", "x.md"]}.items():
        args = parser.parse_args(argv)
        assert args.command == name and callable(args.func)
        assert not hasattr(args, "root")  # --root is only set when given (the main parser owns the default)


def test_the_main_parser_has_the_commands() -> None:
    parser = cli.build_parser()
    choices = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(COMMANDS) <= set(choices)


@pytest.mark.parametrize("where", ["before", "after"])
def test_root_before_or_after_the_command(where: str, repo: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--root", str(repo), "verify", "jia2022visual"] if where == "before" else \
        ["verify", "jia2022visual", "--root", str(repo)]
    assert cli.main(argv) == 0
    assert "1 papers checked" in capsys.readouterr().err


def test_help_runs_as_a_module() -> None:
    result = subprocess.run([sys.executable, "-m", "site_builder", "new", "--help"], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "--arxiv" in result.stdout and "SITE_BUILDER_MAILTO" in result.stdout
