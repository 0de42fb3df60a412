"""Build the site: generate the pages, then run MkDocs (Material) or Zensical on ``mkdocs.yml``.

The builder runs in a child process (``python -m mkdocs build`` / ``python -m zensical build``) so
that its logging, plugins and exit status stay its own; its output is passed on when it fails. A
missing builder is reported as a message that says what to install, not as a traceback.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Literal

from site_builder.knowledge_base import KnowledgeBase

from . import urls
from .config import DERIVED_CONFIG, OFFLINE_SITE_DIR, ConfigError, write_derived_config
from .pages import generate_pages
from .settings import SiteSettings, read_site_settings

Builder = Literal["mkdocs", "zensical"]

# Import names a builder needs, and what to install when one is missing.
_REQUIREMENTS: dict[str, tuple[tuple[str, ...], str]] = {
    "mkdocs": (("mkdocs", "material"), "pip install mkdocs-material"),
    "zensical": (("zensical",), "pip install zensical"),
}


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TRACEBACK = "Traceback (most recent call last):"


class SiteBuildError(Exception):
    """The site could not be built; the message says why and what to do."""


def builder_available(builder: str) -> bool:
    modules, _ = _REQUIREMENTS[builder]
    return all(importlib.util.find_spec(m) is not None for m in modules)


def builder_command(builder: str, root: Path, *, strict: bool = True, config: Path | None = None,
                    site_dir: str = "site") -> list[str]:
    config_file = str(config or root / "mkdocs.yml")
    if builder == "mkdocs":
        command = [sys.executable, "-m", "mkdocs", "build", "--clean", "-f", config_file, "-d", str(root / site_dir)]
    else:  # Zensical writes to the configuration's site_dir
        command = [sys.executable, "-m", "zensical", "build", "--clean", "-f", config_file]
    return command + (["--strict"] if strict else [])


def check_builder(root: Path, builder: str) -> None:
    """Raise :class:`SiteBuildError` with what to do when ``builder`` cannot run here."""
    if builder not in _REQUIREMENTS:
        raise SiteBuildError(f"unknown site builder {builder!r}: use one of {', '.join(_REQUIREMENTS)}")
    if not builder_available(builder):
        _, install = _REQUIREMENTS[builder]
        other = "zensical" if builder == "mkdocs" else "mkdocs"
        raise SiteBuildError(
            f"{builder} is not installed in this Python ({sys.executable}): run `{install}`, "
            f"or build with --builder {other}"
        )
    if not (root / "mkdocs.yml").is_file():
        raise SiteBuildError(f"{root / 'mkdocs.yml'} not found: the site configuration must sit at the repository root")


def run_builder(root: Path, *, builder: Builder = "mkdocs", strict: bool = True, offline: bool = False,
                settings: SiteSettings | None = None) -> float:
    """Run the builder on the configuration derived from ``root/mkdocs.yml`` (pages already generated);
    returns its wall time. ``offline``: the variant for reading from disk, into ``site-offline/``."""
    check_builder(root, builder)
    settings = settings if settings is not None else read_site_settings(root)
    try:
        config = write_derived_config(root, settings, offline=offline)
    except ConfigError as exc:
        raise SiteBuildError(str(exc)) from None
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONUTF8": "1", "NO_COLOR": "1"}
    command = builder_command(builder, root, strict=strict, config=config,
                              site_dir=OFFLINE_SITE_DIR if offline else "site")
    started = time.perf_counter()
    try:
        proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, encoding="utf-8",
                              errors="replace", check=False)
    finally:
        (root / DERIVED_CONFIG).unlink(missing_ok=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        strict_note = " in strict mode (every warning is an error)" if strict else ""
        raise SiteBuildError(f"{builder} build failed{strict_note}:\n{builder_messages(proc.stdout + proc.stderr)}")
    return elapsed


def builder_messages(output: str, *, limit: int = 40) -> str:
    """What a failed build said, without colour codes, INFO chatter or the builder's own traceback."""
    lines = _ANSI.sub("", output).splitlines()
    if _TRACEBACK in lines:  # Zensical ends a strict failure with a traceback: keep its last line only
        start = lines.index(_TRACEBACK)
        lines = lines[:start] + lines[-1:]
    kept = [line.rstrip() for line in lines if line.strip() and not line.startswith("INFO")]
    return "\n".join(kept[-limit:])


def build_site(kb: KnowledgeBase, root: Path, *, builder: Builder = "mkdocs", strict: bool = True,
               offline: bool = False) -> Path:
    """Generate the pages into ``root/docs`` and build the site into ``root/site``; returns that folder.

    ``offline``: first build the variant for reading from disk into ``root/site-offline`` (file URLs,
    search index in a script, no instant navigation), then the site, whose Downloads page offers the
    variant as :data:`~.urls.OFFLINE_ZIP`.
    """
    root = Path(root)
    check_builder(root, builder)  # before writing anything
    settings = read_site_settings(root)
    if offline:
        generate_pages(kb, root / "docs", settings=settings, offline_copy=True)
        run_builder(root, builder=builder, strict=strict, offline=True, settings=settings)
    generate_pages(kb, root / "docs", settings=settings, offline_zip=offline)
    run_builder(root, builder=builder, strict=strict, settings=settings)
    if offline:
        zip_folder(root / OFFLINE_SITE_DIR, root / "site" / urls.OFFLINE_ZIP, top=urls.OFFLINE_ZIP_FOLDER)
    return root / "site"


def zip_folder(folder: Path, target: Path, *, top: str) -> Path:
    """Pack ``folder`` into ``target`` under the folder name ``top`` (files sorted, fixed timestamps)."""
    partial = target.with_name(target.name + ".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{top}/{path.relative_to(folder).as_posix()}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    partial.replace(target)
    return target
