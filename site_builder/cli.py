"""``python -m site_builder``: thin commands over the library.

validate   check taxonomy.yaml and papers/*.yaml; every problem as path:line: field: message
build      validate, then write README.md, papers.bib, papers.json, the JSON Schema (and the site)
build --check   fail when a committed output differs from what the data generates (CI runs this)
build --offline also build the copy of the site read from disk (site-offline/, zipped on Downloads)
stats      counts per category and per year
new, verify, links, compare-list, import-bib   contributor commands (see CONTRIBUTING.md)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .contribute.subcommands import add_subcommands as add_contributor_commands
from .export import stale_outputs, write_outputs
from .knowledge_base import KnowledgeBase
from .load import find_root, validate
from .models import FACETS
from .problems import Problem


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def _load(root: Path, *, quiet_warnings: bool = False) -> KnowledgeBase | None:
    kb, problems = validate(root)
    errors = [p for p in problems if p.severity == "error"]
    shown = errors if quiet_warnings else problems
    _print_problems(shown)
    if kb is None:
        print(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s): nothing was written.",
              file=sys.stderr)
    return kb


def cmd_validate(args: argparse.Namespace) -> int:
    kb, problems = validate(args.root)
    _print_problems(problems)
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    if kb is None:
        print(f"invalid: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
        return 1
    print(f"ok: {len(kb.papers)} papers, {warnings} warning(s)")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    kb = _load(args.root)
    if kb is None:
        return 1
    if args.check:
        stale = stale_outputs(kb, args.root)
        for name, diff in stale.items():
            print(f"{name}: differs from what the data generates\n{diff}\n", file=sys.stderr)
        if stale:
            print("Run `python -m site_builder build` and commit the result.", file=sys.stderr)
            return 1
        print(f"ok: generated outputs are up to date ({len(kb.papers)} papers)")
        return 0
    changed = write_outputs(kb, args.root)
    print(f"wrote {', '.join(changed)}" if changed else "outputs already up to date")
    if args.no_site:
        return 0
    from .site import SiteBuildError, build_site

    try:
        out = build_site(kb, args.root, builder=args.builder, offline=args.offline)
    except SiteBuildError as exc:
        print(f"site: {exc}", file=sys.stderr)
        return 1
    print(f"site built into {out}" + (f"; the offline copy into {args.root / 'site-offline'}, zipped on its "
                                      "Downloads page" if args.offline else ""))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    kb = _load(args.root, quiet_warnings=True)
    if kb is None:
        return 1
    print(f"{len(kb.papers)} papers; {sum(len(p.results) for p in kb.papers)} reported results "
          f"from {sum(1 for p in kb.papers if p.results)} papers")
    for facet_id in FACETS:
        facet = kb.taxonomy.facets[facet_id]
        print(f"\n{facet.title} ({facet_id})")
        for category, depth in facet.walk():
            print(f"  {'  ' * depth}{category.id:<{24 - 2 * depth}} {len(kb.papers_in(facet_id, category.id)):>5}")
    print("\nKind")
    for kind in ("method", "survey", "benchmark", "analysis"):
        print(f"  {kind:<24} {len(kb.papers_of_kind(kind)):>5}")
    print("\nYear")
    for year, papers in kb.papers_by_year().items():
        print(f"  {year:<24} {len(papers):>5}")
    with_results = kb.benchmarks_with_results()
    print("\nResults per benchmark")
    width = max((len(b) for b in with_results), default=0)
    for benchmark_id in with_results:
        rows = kb.results_for(benchmark_id)
        papers = len({p.id for p, _ in rows})
        print(f"  {benchmark_id:<{width}} {len(rows):>5} row{'s' if len(rows) != 1 else ''} from {papers} "
              f"paper{'s' if papers != 1 else ''}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m site_builder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None,
                        help="repository root (default: the folder holding taxonomy.yaml, from here upwards)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check the data and report every problem")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("build", help="write README.md, papers.bib, papers.json, the schema and the site")
    p.add_argument("--check", action="store_true", help="only compare: exit 1 if a committed output is stale")
    p.add_argument("--no-site", action="store_true", help="write the generated files but do not build the site")
    p.add_argument("--builder", choices=("mkdocs", "zensical"), default="mkdocs", help="site generator")
    p.add_argument("--offline", action="store_true",
                   help="also build the copy read from disk (site-offline/; file URLs, no instant navigation), "
                        "offered as a zip on the Downloads page")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("stats", help="counts per category and per year")
    p.set_defaults(func=cmd_stats)

    add_contributor_commands(sub)  # new, verify, links, compare-list, import-bib
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.root = (args.root or find_root()).resolve()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
