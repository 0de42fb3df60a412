"""Command line: list the methods, run one, or benchmark them all; train on your own images.

    python -m reference_impls list
    python -m reference_impls run vpt-deep [--device cpu|cuda] [--steps N] [--seed S]
    python -m reference_impls bench [--device cpu|cuda] [--steps N] [--json PATH]
    python -m reference_impls train vpt-deep --data DIR --out CKPT [--model NAME --weights FILE]
    python -m reference_impls evaluate --checkpoint CKPT --data DIR
    python -m reference_impls predict --checkpoint CKPT IMAGE [IMAGE ...]

`run` adapts the source-pretrained tiny ViT (backbone.py; pretrained and cached on first use)
to the bundled downstream task and prints accuracy, trainable parameters and time. `bench` runs
every registered method, the linear-probe and full-finetune baselines included, prints one table
and writes it as JSON (default reference_impls/bench.json) for the site. `train`, `evaluate` and
`predict` are in adapt.py; their mistakes are one-line errors with exit status 2.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from .engine import RunResult
from .recipes import RECIPES
from .registry import load_runners
from .vit_weights import BUNDLED

DEFAULT_JSON = Path(__file__).with_name("bench.json")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reference_impls", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the registered methods")
    for name, help_text in (("run", "adapt the pretrained backbone with one method"),
                            ("bench", "run every method and print a comparison table")):
        p = sub.add_parser(name, help=help_text)
        if name == "run":
            p.add_argument("name", help="a method name from `list`")
        p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
        p.add_argument("--steps", type=int, default=None, help="training steps (default: the method's own)")
        p.add_argument("--seed", type=int, default=0)
        if name == "bench":
            p.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"output path (default {DEFAULT_JSON})")
    _add_adapt_commands(sub)
    return parser


def _add_backbone_options(p: argparse.ArgumentParser, *, default_model: str | None) -> None:
    p.add_argument("--model", default=default_model,
                   help=f"{BUNDLED} (the bundled source-pretrained TinyViT), vit_base_patch16_224 and other timm ViT "
                        "shapes, or any timm name when timm is installed")
    p.add_argument("--weights", type=Path, default=None, help="local .safetensors or .pt state dict for --model")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--amp", action="store_true", help="bf16 autocast (meant for CUDA; allowed on CPU)")
    p.add_argument("--workers", type=int, default=0, help="image-decoding processes (default 0: in the main process)")


def _add_adapt_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a method on an image folder; save only the prompt")
    p.add_argument("method", choices=list(RECIPES), metavar="method", help=f"one of: {', '.join(RECIPES)}")
    p.add_argument("--data", type=Path, required=True, help="image folder: train/<class>/*.jpg|png, optional val/")
    p.add_argument("--out", type=Path, required=True, help="checkpoint folder to write")
    _add_backbone_options(p, default_model=BUNDLED)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=None, help="global batch, over all processes (default: the method's)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (SPSA: step size a; default: the method's)")
    p.add_argument("--weight-decay", type=float, default=None)
    p.add_argument("--image-size", type=int, default=None, help="default: the model's")
    p.add_argument("--mean", type=float, nargs=3, default=None, help="normalisation mean (default: the model's)")
    p.add_argument("--std", type=float, nargs=3, default=None, help="normalisation std (default: the model's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.2, help="held out per class when there is no val/")
    p.add_argument("--num-tokens", type=int, default=None, help="VPT: prompt tokens per layer (default 10)")
    p.add_argument("--prompt-dropout", type=float, default=None, help="VPT: dropout on prompts (default: the paper's)")
    p.add_argument("--prompt-size", type=int, default=None, help="VP prompters: pad width or patch side in pixels")
    p = sub.add_parser("evaluate", help="accuracy of a prompt checkpoint on an image folder's validation images")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    _add_backbone_options(p, default_model=None)
    p = sub.add_parser("predict", help="top-k classes of images under a prompt checkpoint")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("images", nargs="+", type=Path)
    p.add_argument("--top-k", type=int, default=5)
    _add_backbone_options(p, default_model=None)


ADAPT_COMMANDS = ("train", "evaluate", "predict")


# The same frozen model without the method, as each runner measures it (key -> what it means).
REFERENCE_KEYS = (
    ("no_prompt_accuracy", "without the prompt"),
    ("accuracy_without_prompt", "without the marker"),
    ("accuracy_without_tta", "without test-time tuning"),
)


def reference_accuracy(r: RunResult) -> tuple[str, float] | None:
    """(what, accuracy) of the runner's own no-method reference, when it measured one."""
    for key, label in REFERENCE_KEYS:
        if key in r.extra:
            return label, float(r.extra[key])
    return None


def report_row(r: RunResult) -> dict:
    """A bench JSON row: the RunResult plus its no-method reference, so readers need not know the keys."""
    reference = reference_accuracy(r)
    return {**asdict(r), "reference": None if reference is None else {"label": reference[0], "accuracy": reference[1]}}


def _format_row(r: RunResult) -> list[str]:
    peak = "n/a" if r.peak_mem_mb is None else f"{r.peak_mem_mb:.0f}"
    reference = reference_accuracy(r)
    return [r.name, str(r.extra.get("task", "?")), f"{100 * r.accuracy:.1f}",
            "" if reference is None else f"{100 * reference[1]:.1f}", f"{r.trainable_params:,}",
            f"{r.trainable_percent:.2f}", f"{r.step_ms:.1f}", peak]


def format_table(results: list[RunResult]) -> str:
    header = ["method", "task", "acc %", "without %", "trainable", "% of backbone", "step ms", "peak MB"]
    rows = [header] + [_format_row(r) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


TABLE_NOTE = (
    "acc %: top-1 on the task's test split. without %: the same frozen model without the method "
    "(no prompt, no marker, no test-time tuning), measured in the same run. Tasks differ by design "
    "(data.py): compare a row with the baselines on the same task."
)


def _print_run(r: RunResult, device: str) -> None:
    task, steps = r.extra.get("task", "?"), r.extra.get("steps", "?")
    print(f"{r.name} on {task} ({device}, {steps} steps)")
    print(f"  accuracy          {100 * r.accuracy:.1f}%")
    reference = reference_accuracy(r)
    if reference is not None:
        label, value = reference
        print(f"  {label:<17} {100 * value:.1f}% (same frozen model, same test set)")
    if "training_queries" in r.extra:
        print(f"  black-box queries {r.extra['training_queries']:,} forward calls in training "
              f"({r.extra.get('training_images', 0):,} images), no gradients")
    print(f"  trainable params  {r.trainable_params:,} ({r.trainable_percent:.2f}% of the backbone's "
          f"{r.backbone_params:,})")
    print(f"  time              {r.seconds:.1f} s ({r.step_ms:.1f} ms/step)")
    print(f"  peak memory       {'n/a on CPU' if r.peak_mem_mb is None else f'{r.peak_mem_mb:.0f} MB'}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    runners = load_runners()
    if args.command == "list":
        width = max(map(len, runners))
        for name, (category, _) in runners.items():
            print(f"{name.ljust(width)}  {category}")
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda was given but no CUDA device is available to torch "
              f"(torch {torch.__version__}, cuda build: {torch.version.cuda or 'no'}); use --device cpu",
              file=sys.stderr)
        return 2
    if args.command in ADAPT_COMMANDS:
        from . import adapt  # Pillow and safetensors are needed only from here on

        try:
            return adapt.COMMANDS[args.command](args)
        except adapt.USER_ERRORS as error:
            # A DataLoader worker re-raises with its traceback in the message: keep the last line.
            message = str(error).strip().splitlines()[-1].split("Error: ", 1)[-1] if "\n" in str(error) else str(error)
            print(f"error: {message}", file=sys.stderr)
            return 2
    if args.command == "run":
        if args.name not in runners:
            print(f"error: unknown method {args.name!r}; choose one of: {', '.join(runners)}", file=sys.stderr)
            return 2
        _print_run(runners[args.name][1](device=args.device, steps=args.steps, seed=args.seed), args.device)
        return 0

    print(f"bench: {len(runners)} methods on {args.device}; on two CPU cores this takes about 15 minutes",
          file=sys.stderr, flush=True)
    results, start = [], time.perf_counter()
    for name, (_, runner) in runners.items():
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.append(runner(device=args.device, steps=args.steps, seed=args.seed))
    print(format_table(results))
    print(TABLE_NOTE)
    total = time.perf_counter() - start
    print(f"({len(results)} methods, {total:.0f} s on {args.device})")
    report = {
        "device": args.device,
        "device_name": torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or "cpu",
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "date": datetime.date.today().isoformat(),
        "torch": torch.__version__,
        "seed": args.seed,
        "total_seconds": round(total, 1),
        "results": [report_row(r) for r in results],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    print(f"wrote {args.json}")
    return 0
