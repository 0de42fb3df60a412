"""What a method category's page says about its reference implementation.

For a category whose ``reference_impl`` is ``vpt_learnable`` the page shows the module
(``reference_impls/vpt_learnable.py``), the commands that run it and the figures measured by
``python -m reference_impls bench --json``. Nothing here imports torch: the runner names are read from
the module's ``RUNNERS = {"name": run_name, ...}`` literal with :mod:`ast` (importing the module is the
fallback when that literal is built dynamically), and the figures from the bench JSON file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..runners import runner_names

# Where `python -m reference_impls bench --json PATH` output is looked for, first match wins.
BENCH_JSON_CANDIDATES = (
    "reference_impls/bench.json",
    "benchmarks/reference_impls.json",
    "benchmarks/results/reference_impls.json",
)
BASELINES = ("linear-probe", "full-finetune")


@dataclass(frozen=True)
class BenchFigure:
    """One measured row of the bench table."""

    name: str
    accuracy: float | None
    trainable_params: int | None
    trainable_percent: float | None
    seconds: float | None
    device: str | None
    task: str | None = None
    reference: float | None = None  # the same frozen model without the method (no prompt, no TTA, ...)
    reference_label: str | None = None

    @property
    def accuracy_text(self) -> str:
        return "" if self.accuracy is None else f"{100 * self.accuracy:.1f}%"

    @property
    def reference_text(self) -> str:
        if self.reference is None:
            return ""
        return f"{100 * self.reference:.1f}% {self.reference_label or ''}".strip()

    @property
    def params_text(self) -> str:
        if self.trainable_params is None:
            return ""
        pct = "" if self.trainable_percent is None else f" ({self.trainable_percent:.2f}%)"
        return f"{self.trainable_params:,}{pct}"

    @property
    def seconds_text(self) -> str:
        return "" if self.seconds is None else f"{self.seconds:.1f} s"


@dataclass(frozen=True)
class ReferenceImpl:
    module: str
    path: str  # relative to the repository root, with forward slashes
    exists: bool
    runners: tuple[str, ...]
    figures: tuple[BenchFigure, ...]  # rows of this module's runners, in runner order
    baselines: tuple[BenchFigure, ...]
    bench_file: str | None  # the bench JSON that was read, relative to the root

    @property
    def commands(self) -> tuple[str, ...]:
        return tuple(f"python -m reference_impls run {name}" for name in self.runners)


def find_bench_json(root: Path) -> Path | None:
    for candidate in BENCH_JSON_CANDIDATES:
        path = root / candidate
        if path.is_file():
            return path
    return None


def load_bench(root: Path) -> tuple[dict[str, BenchFigure], str | None]:
    """Measured figures by runner name, and the file they came from (``{}, None`` when absent).

    Accepted shapes: a list of rows, ``{"results": [rows]}`` (or ``rows``/``runs``), or a mapping
    ``name -> row``; a row carries the fields of ``reference_impls.engine.RunResult``.
    """
    path = find_bench_json(root)
    if path is None:
        return {}, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, None
    rows: list[Any]
    if isinstance(data, dict):
        listed = next((data[k] for k in ("results", "rows", "runs") if isinstance(data.get(k), list)), None)
        rows = listed if listed is not None else [
            {"name": k, **v} for k, v in data.items() if isinstance(v, dict)
        ]
    elif isinstance(data, list):
        rows = data
    else:
        rows = []
    device = data.get("device") if isinstance(data, dict) and isinstance(data.get("device"), str) else None
    figures: dict[str, BenchFigure] = {}
    for row in rows:
        if isinstance(row, dict) and isinstance(row.get("name"), str):
            extra = row.get("extra") if isinstance(row.get("extra"), dict) else {}
            task = extra.get("task")
            reference = row.get("reference") if isinstance(row.get("reference"), dict) else {}
            label = reference.get("label")
            figures[row["name"]] = BenchFigure(
                name=row["name"],
                accuracy=_number(row.get("accuracy")),
                trainable_params=_integer(row.get("trainable_params")),
                trainable_percent=_number(row.get("trainable_percent")),
                seconds=_number(row.get("seconds")),
                device=row.get("device") if isinstance(row.get("device"), str) else device,
                task=task if isinstance(task, str) else None,
                reference=_number(reference.get("accuracy")),
                reference_label=label if isinstance(label, str) else None,
            )
    return figures, str(path.relative_to(root).as_posix())


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _integer(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def reference_impl(root: Path, module: str, bench: tuple[dict[str, BenchFigure], str | None]) -> ReferenceImpl:
    figures, bench_file = bench
    runners = runner_names(root, module)
    path = f"reference_impls/{module}.py"
    return ReferenceImpl(
        module=module,
        path=path,
        exists=(root / path).is_file(),
        runners=runners,
        figures=tuple(figures[n] for n in runners if n in figures),
        baselines=tuple(figures[n] for n in BASELINES if n in figures),
        bench_file=bench_file,
    )
