"""Session fixtures: one throw-away repository per use, each site built once per test session."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from site_repo import REPO, load, make_site_repo

from site_builder.knowledge_base import KnowledgeBase
from site_builder.site import build_site, builder_available, generate_pages


@dataclass(frozen=True)
class Generated:
    root: Path
    kb: KnowledgeBase
    files: list[Path]

    @property
    def docs(self) -> Path:
        return self.root / "docs"


@dataclass(frozen=True)
class BuiltSite:
    root: Path
    kb: KnowledgeBase
    builder: str

    @property
    def site(self) -> Path:
        return self.root / "site"


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = make_site_repo(tmp_path_factory.mktemp("generated"))
    kb = load(root)
    return Generated(root, kb, generate_pages(kb, root / "docs"))


def _build(tmp_path_factory: pytest.TempPathFactory, builder: str, papers=None, *, offline: bool = True,
           repository: str | None = None) -> BuiltSite:
    """Build a site; ``offline`` also builds the copy read from disk (site-offline/) and its zip."""
    root = make_site_repo(tmp_path_factory.mktemp(f"built-{builder}"), papers=papers)
    if repository:
        config = root / "mkdocs.yml"
        config.write_text(config.read_text(encoding="utf-8").replace("repository: null", f"repository: {repository}"),
                          encoding="utf-8")
    kb = load(root)
    build_site(kb, root, builder=builder, strict=True, offline=offline)  # type: ignore[arg-type]
    return BuiltSite(root, kb, builder)


@pytest.fixture(scope="session")
def mkdocs_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    if not builder_available("mkdocs"):
        pytest.skip("mkdocs-material is not installed (pip install mkdocs-material)")
    return _build(tmp_path_factory, "mkdocs")


@pytest.fixture(scope="session")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    if importlib.util.find_spec("zensical") is None:
        pytest.skip("zensical cannot be imported (pip install zensical)")
    return _build(tmp_path_factory, "zensical")


@pytest.fixture(scope="session")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The real corpus (papers/*.yaml), built with MkDocs and a repository configured."""
    if not builder_available("mkdocs"):
        pytest.skip("mkdocs-material is not installed (pip install mkdocs-material)")
    papers = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((REPO / "papers").glob("*.yaml"))
              if p.name != "EXAMPLE.yaml"]
    return _build(tmp_path_factory, "mkdocs", papers, offline=False, repository="https://github.com/o/r")
