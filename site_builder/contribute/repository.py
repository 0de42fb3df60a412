"""The paper files as they are on disk, read leniently.

The contributor commands must work on a knowledge base that does not validate yet (a freshly
scaffolded file has an empty summary), so they read each file with the strict YAML loader but do
not require the schema: they take the facts they need (ids, title, authors, year, links) and keep the
parsed document for line numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..knowledge_base import normalise_title
from ..load import TEMPLATE_NAME
from ..models import Taxonomy
from ..problems import Problem
from ..yaml_loader import LoadedDocument, YamlLoadError, load_yaml_file
from .sources import ContributeError


@dataclass(frozen=True)
class PaperFile:
    path: str  # relative to the root, e.g. papers/jia2022visual.yaml
    doc: LoadedDocument

    @property
    def data(self) -> dict[str, Any]:
        return self.doc.data

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        return value if isinstance(value, str) and value.strip() else None

    @property
    def stem(self) -> str:
        return Path(self.path).stem

    def line(self, *path: str | int) -> int | None:
        return self.doc.line_of(tuple(path))


@dataclass(frozen=True)
class Repository:
    root: Path
    papers: tuple[PaperFile, ...]
    problems: tuple[Problem, ...]  # files that could not be read at all

    @classmethod
    def scan(cls, root: Path) -> Repository:
        folder = root / "papers"
        papers: list[PaperFile] = []
        problems: list[Problem] = []
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            if path.name == TEMPLATE_NAME:
                continue
            shown = path.relative_to(root).as_posix()
            try:
                doc = load_yaml_file(path, shown)
            except YamlLoadError as exc:
                problems.append(Problem(shown, exc.line, "(file)", exc.message))
                continue
            except OSError as exc:
                problems.append(Problem(shown, None, "(file)", f"cannot read: {exc.strerror or exc}"))
                continue
            if not isinstance(doc.data, dict):
                problems.append(Problem(shown, 1, "(file)", "expected a mapping of fields"))
                continue
            papers.append(PaperFile(shown, doc))
        return cls(root, tuple(papers), tuple(problems))

    def find_duplicate(self, *, arxiv: str | None = None, doi: str | None = None,
                       title: str | None = None) -> tuple[PaperFile, str] | None:
        """A file describing the same paper, and which fact matched ("arXiv id", "DOI", "title")."""
        wanted = normalise_title(title) if title else None
        for paper in self.papers:
            if arxiv and str(paper.get("arxiv") or "") == arxiv:
                return paper, f"the same arXiv id {arxiv}"
            if doi and str(paper.get("doi") or "").lower() == doi.lower():
                return paper, f"the same DOI {doi}"
            if wanted and paper.text("title") and normalise_title(paper.text("title") or "") == wanted:
                return paper, "the same title"
        return None

    def select(self, ids: list[str]) -> list[PaperFile]:
        """The files of the given ids (or all); an unknown id is an error naming it."""
        if not ids:
            return list(self.papers)
        by_id = {p.stem: p for p in self.papers}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise ContributeError(f"no paper file for {', '.join(unknown)} (looked for papers/<id>.yaml)")
        return [by_id[i] for i in ids]


def load_taxonomy(root: Path) -> Taxonomy:
    """taxonomy.yaml, validated; a clear error if it is missing or invalid."""
    path = root / "taxonomy.yaml"
    if not path.is_file():
        raise ContributeError(f"no taxonomy.yaml in {root}: run the command in the repository, or pass --root")
    try:
        doc = load_yaml_file(path, "taxonomy.yaml")
        return Taxonomy.model_validate(doc.data)
    except YamlLoadError as exc:
        raise ContributeError(f"taxonomy.yaml:{exc.line}: {exc.message}") from None
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ContributeError(f"taxonomy.yaml does not validate; run `python -m site_builder validate` ({exc})") from None
