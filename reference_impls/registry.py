"""Every runnable method, by name: the table behind `python -m reference_impls list|run|bench`.

Each method module exposes `RUNNERS = {"name": run_name, ...}` where every runner is
`run_name(*, device="cpu", steps=None, seed=0) -> RunResult` (engine.py). This module only
collects them, baselines first, then the taxonomy's order (VP before VPT, fixed before learned
before generated), then practical settings.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from .engine import RunResult

Runner = Callable[..., RunResult]

# (module, taxonomy category shown by `list`)
MODULES = (
    ("engine", "baseline"),
    ("vp_fixed", "vp-fixed"),
    ("vp_learnable", "vp-learnable"),
    ("vp_generated", "vp-generated"),
    ("vpt_learnable", "vpt-learnable"),
    ("vpt_generated", "vpt-generated"),
    ("test_time", "setting: test-time"),
)


def load_runners() -> dict[str, tuple[str, Runner]]:
    """name -> (category, runner). A module that does not exist yet is skipped; a broken one raises."""
    table: dict[str, tuple[str, Runner]] = {}
    for module_name, category in MODULES:
        qualified = f"{__package__}.{module_name}"
        try:
            module = importlib.import_module(qualified)
        except ModuleNotFoundError as error:
            if error.name == qualified:
                continue
            raise
        for name, runner in module.RUNNERS.items():
            assert name not in table, f"runner {name!r} is registered twice ({module_name})"
            table[name] = (category, runner)
    return table
