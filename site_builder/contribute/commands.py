"""The contributor subcommands of ``python -m site_builder``: thin wrappers over this package.

``add_subcommands(subparsers)`` adds ``new``, ``verify``, ``links``, ``compare-list`` and ``import-bib``; each sets
``func(args) -> int``. A :class:`~.errors.ContributeError` becomes one ``error: ...`` line on stderr
and exit status 1; problems in the data are printed as ``path:line: field: message``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from ..load import find_root
from ..problems import Problem
from .awesome_list import read_list
from .bib_import import import_bib
from .compare_list import compare_list, read_exclusions, render_json, render_text
from .files import replace_file
from .http import HttpClient, HttpSettings
from .links import render_report, run_link_check
from .new import create_paper
from .repository import Repository
from .sources import ContributeError
from .subcommands import add_subcommands
from .verify import verify


def _root(args: argparse.Namespace) -> Path:
    root = getattr(args, "root", None)
    return Path(root).resolve() if root else find_root()


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ContributeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    run.__name__ = command.__name__
    run.__doc__ = command.__doc__
    return run


def _client(args: argparse.Namespace) -> HttpClient:
    return HttpClient(HttpSettings.from_env(), refresh=bool(getattr(args, "refresh", False)))


def _print_problems(problems: list[Problem]) -> None:
    for problem in sorted(problems, key=lambda p: (p.severity != "error", p.path, p.line or 0, p.field)):
        print(problem)


@_guarded
def run_new(args: argparse.Namespace) -> int:
    # what it does: subcommands.NEW_HELP
    if not args.arxiv and not args.doi:
        raise ContributeError("give --arxiv ID or --doi DOI (or both)")
    root = _root(args)
    with _client(args) as client:
        result = create_paper(root, client, arxiv=args.arxiv, doi=args.doi, paper_id=args.id,
                              dry_run=args.dry_run)
    shown = result.path.relative_to(root).as_posix() if result.path.is_relative_to(root) else result.path
    if args.dry_run:
        print(result.text, end="")
        print(f"(dry run: {shown} not written)", file=sys.stderr)
        return 0
    print(f"wrote {shown}")
    print("next: check the facts against the paper, fill in `method` and `summary` (and categories, code),\n"
          "      then run `python -m site_builder validate` and open a pull request with this one file")
    return 0


@_guarded
def run_verify(args: argparse.Namespace) -> int:
    # what it does: subcommands.VERIFY_HELP
    if args.fix and not args.published:
        print("error: --fix writes published versions: give it with --published", file=sys.stderr)
        return 2
    repo = Repository.scan(_root(args))
    with _client(args) as client:
        report = verify(repo, client, args.ids, published=args.published, fix=args.fix)
    _print_problems(report.problems.items)
    for line in report.fixed:
        print(f"fixed {line}")
    errors, warnings = len(report.problems.errors), len(report.problems.warnings)
    searched = f", {report.preprints} preprints searched on Crossref ({len(report.fixed)} fixed)" if args.published else ""
    print(f"verify: {report.checked} papers checked against {report.lookups} source records{searched}: "
          f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


@_guarded
def run_links(args: argparse.Namespace) -> int:
    # what it does: subcommands.LINKS_HELP
    repo = Repository.scan(_root(args))
    with _client(args) as client:
        uses, results = run_link_check(repo, client, progress_stream=sys.stderr, per_host=args.per_host)
    for use in sorted(uses, key=lambda u: (u.path, u.line or 0)):
        result = results[use.url]
        if result.outcome == "ok":
            continue
        message = f"{result.outcome} link {use.url} ({result.detail})"
        print(Problem(use.path, use.line, use.field, message, "error" if result.outcome == "broken" else "warning"))
    if args.report:
        try:
            replace_file(Path(args.report), render_report(uses, results))
        except OSError as exc:
            raise ContributeError(f"cannot write the report {args.report}: {exc.strerror or exc}") from None
    broken = sum(1 for r in results.values() if r.outcome == "broken")
    unknown = sum(1 for r in results.values() if r.outcome == "unknown")
    print(f"links: {len(results)} checked: {broken} broken, {unknown} unknown", file=sys.stderr)
    return 1 if broken else 0


@_guarded
def run_import_bib(args: argparse.Namespace) -> int:
    # what it does: subcommands.IMPORT_BIB_HELP
    outcomes = import_bib(_root(args), Path(args.file), dry_run=args.dry_run)
    for outcome in outcomes:
        print(f"{args.file}:{outcome.line}: {outcome.key}: {outcome.status}: {outcome.message}")
    count = {s: sum(1 for o in outcomes if o.status == s) for s in ("written", "would write", "duplicate", "skipped")}
    print(f"import-bib: {count['written'] or count['would write']} {'to write (dry run)' if args.dry_run else 'written'}"
          f", {count['duplicate']} duplicate(s), {count['skipped']} could not be converted", file=sys.stderr)
    return 1 if count["skipped"] else 0


@_guarded
def run_compare_list(args: argparse.Namespace) -> int:
    # what it does: subcommands.COMPARE_LIST_HELP
    root = _root(args)
    awesome = read_list(Path(args.file))
    exclusions = read_exclusions(Path(args.exclude)) if args.exclude else []
    comparison = compare_list(awesome, Repository.scan(root), exclusions)
    if args.json:
        print(json.dumps(render_json(comparison), indent=2, ensure_ascii=False))
    else:
        print(render_text(comparison, missing_only=args.missing_only), end="")
    if not args.scaffold:
        return 0
    missing = comparison.missing_arxiv_ids()
    failed = 0
    with _client(args) as client:
        for arxiv_id in missing:
            try:
                result = create_paper(root, client, arxiv=arxiv_id)
            except ContributeError as exc:
                failed += 1
                print(f"scaffold {arxiv_id}: error: {exc}", file=sys.stderr)
                continue
            print(f"scaffold {arxiv_id}: wrote {result.path.relative_to(root).as_posix()}", file=sys.stderr)
    print(f"compare-list --scaffold: {len(missing) - failed} of {len(missing)} missing arXiv ids scaffolded",
          file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Run one contributor command on its own (tests; the real entry point is ``python -m site_builder``)."""
    parser = argparse.ArgumentParser(prog="python -m site_builder")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))
