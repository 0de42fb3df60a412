"""Problems found in the data, reported as ``path:line: field: message``.

Every stage (loading, validation, lint) appends to a :class:`ProblemList` instead of raising, so one
run reports everything that is wrong, errors and warnings apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int | None
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        prefix = "" if self.severity == "error" else "warning: "
        return f"{where}: {self.field}: {prefix}{self.message}"


@dataclass
class ProblemList:
    """An append-only collection of problems, kept in the order they were found."""

    items: list[Problem] = field(default_factory=list)

    def error(self, path: str, line: int | None, field_name: str, message: str) -> None:
        self.items.append(Problem(path, line, field_name, message, "error"))

    def warning(self, path: str, line: int | None, field_name: str, message: str) -> None:
        self.items.append(Problem(path, line, field_name, message, "warning"))

    def extend(self, problems: list[Problem] | ProblemList) -> None:
        self.items.extend(problems.items if isinstance(problems, ProblemList) else problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def sorted(self) -> list[Problem]:
        """Errors first, then by file and line, so output is stable and easy to scan."""
        return sorted(self.items, key=lambda p: (p.severity != "error", p.path, p.line or 0, p.field))


class KnowledgeBaseError(Exception):
    """Raised by :func:`site_builder.load_knowledge_base` when the data has errors."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} error(s) in the data; first: {errors[0] if errors else '-'}")
