"""The contributor subcommands' arguments: ``new``, ``verify``, ``links``, ``compare-list``, ``import-bib``.

Only argparse lives here, so that ``python -m site_builder validate`` (and build, stats) does not import
the HTTP stack, BibTeX parser and list reader the contributor commands need: each subcommand's
``func`` imports :mod:`.commands` when it runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV_HELP = ("Network settings come from the environment: SITE_BUILDER_MAILTO (your e-mail, sent to "
            "Crossref and arXiv as a contact), SITE_BUILDER_CACHE (cache folder, default "
            "~/.cache/site_builder), SITE_BUILDER_HTTP_TIMEOUT, SITE_BUILDER_ARXIV_API, SITE_BUILDER_CROSSREF_API.")
NEW_HELP = """Scaffold papers/<id>.yaml from an arXiv id and/or a DOI."""
VERIFY_HELP = """Compare papers with what their arXiv id / DOI resolve to; with --published, also look for the
    published version of every preprint (venue: arXiv) on Crossref, and with --fix write it in."""
LINKS_HELP = """Check every URL in the data; exit 1 when one is broken (404/410)."""
IMPORT_BIB_HELP = """Turn BibTeX entries into paper files."""
COMPARE_LIST_HELP = """Compare another awesome list (a Markdown or HTML file) with the knowledge base: per section, the
    papers we have, those we lack, and links that look wrong; then totals and recall. No network,
    unless --scaffold hands the missing arXiv ids to `new`."""


def _deferred(name: str) -> Callable[[argparse.Namespace], int]:
    """``commands.<name>``, imported only when the subcommand runs."""

    def run(args: argparse.Namespace) -> int:
        from . import commands

        return getattr(commands, name)(args)

    run.__name__ = name
    return run


def _add_root(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a global --root of the main parser (if it has one) is not overwritten by our default.
    parser.add_argument("--root", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="repository root (default: the nearest folder upwards holding taxonomy.yaml)")


def add_subcommands(subparsers: Any) -> None:
    """Add ``new``, ``verify``, ``links``, ``compare-list`` and ``import-bib`` to the main parser's subparsers."""
    new = subparsers.add_parser("new", help="scaffold papers/<id>.yaml from an arXiv id or a DOI",
                                description=NEW_HELP, epilog=ENV_HELP)
    new.add_argument("--arxiv", metavar="ID", help="arXiv id, e.g. 2203.12119")
    new.add_argument("--doi", metavar="DOI", help="DOI, e.g. 10.1109/ICCV51070.2023.01604")
    new.add_argument("--id", help="use this paper id instead of the conventional one")
    new.add_argument("--dry-run", action="store_true", help="print the file instead of writing it")
    _add_root(new)
    new.set_defaults(func=_deferred("run_new"))

    ver = subparsers.add_parser("verify", help="compare papers with their arXiv / Crossref metadata",
                                description=VERIFY_HELP, epilog=ENV_HELP)
    ver.add_argument("ids", nargs="*", metavar="ID", help="paper ids (default: every paper)")
    ver.add_argument("--refresh", action="store_true", help="fetch again instead of using cached answers")
    ver.add_argument("--published", action="store_true",
                     help="also search Crossref for the published version of every preprint (venue: arXiv)")
    ver.add_argument("--fix", action="store_true",
                     help="with --published: write venue, year, DOI (and a changed title or author list) into the file")
    _add_root(ver)
    ver.set_defaults(func=_deferred("run_verify"))

    links = subparsers.add_parser("links", help="check every URL in the data", description=LINKS_HELP,
                                  epilog=ENV_HELP)
    links.add_argument("--report", metavar="FILE", help="write a Markdown report (for a GitHub issue)")
    links.add_argument("--refresh", action="store_true", help="check again instead of using the day's cache")
    links.add_argument("--per-host", type=int, default=2, metavar="N", help="requests at a time per host (2)")
    _add_root(links)
    links.set_defaults(func=_deferred("run_links"))

    cmp = subparsers.add_parser("compare-list", help="compare another awesome list with the knowledge base",
                                description=COMPARE_LIST_HELP)
    cmp.add_argument("file", metavar="FILE", help="the other list: a Markdown or HTML file on disk")
    cmp.add_argument("--missing-only", action="store_true", help="list only the papers the knowledge base lacks")
    cmp.add_argument("--json", action="store_true", help="print the comparison as JSON")
    cmp.add_argument("--exclude", metavar="FILE", help="out-of-scope rows: one arXiv id or title per line, "
                     "optionally a tab and the reason; recall is computed without them")
    cmp.add_argument("--scaffold", action="store_true",
                     help="run `new --arxiv ID` for every missing arXiv id (this one uses the network)")
    _add_root(cmp)
    cmp.set_defaults(func=_deferred("run_compare_list"))

    bib = subparsers.add_parser("import-bib", help="turn BibTeX entries into paper files",
                                description=IMPORT_BIB_HELP)
    bib.add_argument("file", metavar="FILE.bib")
    bib.add_argument("--dry-run", action="store_true", help="report what would be written, write nothing")
    _add_root(bib)
    bib.set_defaults(func=_deferred("run_import_bib"))
