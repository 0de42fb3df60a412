"""Load -> validate -> lint: from taxonomy.yaml and papers/*.yaml to a :class:`KnowledgeBase`."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from .gc_pause import paused_gc
from .knowledge_base import KnowledgeBase
from .lint import LintContext, run_rules
from .models import Paper, Taxonomy
from .problems import KnowledgeBaseError, Problem, ProblemList
from .yaml_loader import LoadedDocument, YamlLoadError, load_yaml_file

TEMPLATE_NAME = "EXAMPLE.yaml"
_BOOL_WORDS = {"yes", "no", "on", "off", "y", "n"}


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder, from ``start`` upwards, holding taxonomy.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "taxonomy.yaml").is_file():
            return folder
    return here


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _field_label(loc: tuple[Any, ...]) -> str:
    label = ""
    for part in loc:
        label += f"[{part}]" if isinstance(part, int) else (f".{part}" if label else str(part))
    return label or "(entry)"


def _model_for(loc: tuple[Any, ...], root_model: type[BaseModel]) -> type[BaseModel]:
    """The model that the location ``loc`` (a path of keys and list indexes) points into."""
    model = root_model
    for part in loc:
        if isinstance(part, int) or part not in model.model_fields:
            continue
        annotation = model.model_fields[part].annotation
        candidates = [annotation, *get_args(annotation)]
        candidates += [arg for c in candidates for arg in get_args(c)]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            break
        model = nested[0]
    return model


def _message(error: dict[str, Any], doc: LoadedDocument, root_model: type[BaseModel]) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        model = _model_for(loc[:-1], root_model)
        close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(model.model_fields)}"
        return f"unknown field {loc[-1]!r}{hint}"
    written = doc.plain_text.get(loc)
    if written is not None:
        tag, text = written
        if tag == "float" and loc[-1] == "arxiv":
            return (f"YAML read the unquoted {text} as a number ({error['input']!r}): "
                    f'write it in quotes, arxiv: "{text}"')
        if tag == "bool" and text.lower() in _BOOL_WORDS:
            return f'YAML read the unquoted {text!r} as {error["input"]!r}: write it in quotes, "{text}"'
        if tag in {"int", "float", "bool", "null", "timestamp"} and "string" in error["msg"]:
            return f"{error['msg']}: YAML read the unquoted {text!r} as {tag}; write it in quotes"
    message = error["msg"].removeprefix("Value error, ")
    if kind.endswith("_type") or kind.startswith("string_pattern"):
        shown = repr(error.get("input"))
        message += f" (got {shown[:60] + '...' if len(shown) > 60 else shown})"
    return message


def _validate_model(model: type[BaseModel], doc: LoadedDocument, problems: ProblemList) -> Any:
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            problems.error(doc.path, doc.line_of(loc), _field_label(loc), _message(error, doc, model))
        return None


def _load_document(
    path: Path, root: Path, problems: ProblemList, what: str, shown: str | None = None
) -> LoadedDocument | None:
    shown = shown or _relative(path, root)
    try:
        doc = load_yaml_file(path, shown)
    except YamlLoadError as exc:
        problems.error(shown, exc.line, "(file)", exc.message)
        return None
    except OSError as exc:
        problems.error(shown, None, "(file)", f"cannot read: {exc.strerror or exc}")
        return None
    if doc.data is None:
        problems.error(shown, 1, "(file)", f"file is empty: a {what} is a mapping of fields")
        return None
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else f"a single {type(doc.data).__name__} value"
        problems.error(shown, 1, "(file)", f"expected a mapping of fields (key: value), got {kind}")
        return None
    return doc


def _category_paths(data: Any) -> dict[tuple[str, str], tuple[str | int, ...]]:
    paths: dict[tuple[str, str], tuple[str | int, ...]] = {}

    def walk(items: Any, facet: str, prefix: tuple[str | int, ...]) -> None:
        for i, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict) and "id" in item:
                paths[(facet, str(item["id"]))] = prefix + (i,)
                walk(item.get("children"), facet, prefix + (i, "children"))

    for facet, body in (data.get("facets") or {}).items() if isinstance(data, dict) else []:
        if isinstance(body, dict):
            walk(body.get("categories"), facet, ("facets", facet, "categories"))
    return paths


def validate(root: Path) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Run the whole pipeline. Returns the knowledge base (None if any error) and every problem."""
    with paused_gc():
        return _validate(root.resolve())


def _validate(root: Path) -> tuple[KnowledgeBase | None, list[Problem]]:
    problems = ProblemList()

    taxonomy_doc = _load_document(root / "taxonomy.yaml", root, problems, "taxonomy")
    taxonomy = _validate_model(Taxonomy, taxonomy_doc, problems) if taxonomy_doc else None

    paper_dir = root / "papers"
    # os.scandir knows which entries are folders without a stat() per file (it shows on 10,000 papers)
    entries: list[os.DirEntry[str]] = []
    if paper_dir.is_dir():
        with os.scandir(paper_dir) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    files = [paper_dir / e.name for e in entries]
    loaded: list[tuple[Paper, LoadedDocument, Path]] = []
    for entry, path in zip(entries, files, strict=True):
        if entry.name == TEMPLATE_NAME or entry.name.startswith(".") or entry.is_dir():
            continue
        shown = f"{paper_dir.name}/{entry.name}"
        if path.suffix != ".yaml":
            problems.error(shown, None, "(file)", "paper files end in .yaml: rename it")
            continue
        doc = _load_document(path, root, problems, "paper", shown)
        paper = _validate_model(Paper, doc, problems) if doc else None
        if paper is not None:
            loaded.append((paper, doc, path))
    if not files or not any(p.suffix == ".yaml" and p.name != TEMPLATE_NAME for p in files):
        problems.error("papers/", None, "(folder)", "no paper files found: the knowledge base cannot be empty")

    if taxonomy is not None:
        ctx = LintContext(root, taxonomy, loaded, problems, taxonomy_doc, _category_paths(taxonomy_doc.data))
        run_rules(ctx)

    ordered = problems.sorted()
    if taxonomy is None or problems.errors:
        return None, ordered
    papers = tuple(sorted((paper for paper, _, _ in loaded), key=lambda p: p.id))
    sources = MappingProxyType({paper.id: path for paper, _, path in loaded})
    return KnowledgeBase(papers=papers, taxonomy=taxonomy, root=root, sources=sources), ordered


def load_knowledge_base(root: Path | None = None) -> KnowledgeBase:
    """The validated knowledge base; raises :class:`KnowledgeBaseError` listing every error."""
    kb, problems = validate(root or find_root())
    if kb is None:
        raise KnowledgeBaseError(problems)
    return kb
