"""Training and evaluation loops shared by every method, plus the two baselines.

The loops themselves live in loop.py (re-exported here: `engine.train`, `engine.evaluate`), so
that backbone.py can pretrain with them without importing this module.

Baselines (Jia et al. 2022, "Visual Prompt Tuning", Table 1, use the same two):
  linear-probe    frozen backbone, new linear head on the pooled feature
  full-finetune   every backbone weight trains, on a private copy (the caller's backbone is untouched)

`fit_and_evaluate` is what each `run_<name>` runner calls: build the wrapper around a fresh
pretrained backbone, train it on the downstream task, evaluate, and report a RunResult.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from .backbone import pretrained_backbone
from .data import DOWNSTREAM, load_task, normalize
from .loop import count_parameters, evaluate, resolve_device, train

__all__ = [
    "RUNNERS", "FullFinetune", "LinearProbe", "RunResult", "count_parameters", "evaluate", "fit_and_evaluate",
    "resolve_device", "run_result", "train",
]


@dataclass
class RunResult:
    name: str
    accuracy: float  # top-1 on the task's test split, in [0, 1]
    trainable_params: int
    backbone_params: int
    trainable_percent: float  # trainable_params / backbone_params * 100
    seconds: float  # wall time of training + evaluation
    step_ms: float  # mean wall time of one training step
    peak_mem_mb: float | None  # CUDA peak allocated memory; None on CPU (no meaningful figure)
    extra: dict = field(default_factory=dict)


# --- Baselines ---------------------------------------------------------------------------------


class LinearProbe(nn.Module):
    """Frozen backbone, new linear head on its pooled feature (forward_head(pre_logits=True))."""

    def __init__(self, backbone: nn.Module, *, num_classes: int) -> None:
        super().__init__()
        self.backbone = backbone.requires_grad_(False).eval()
        self.head = nn.Linear(backbone.num_features, num_classes)

    def train(self, mode: bool = True) -> LinearProbe:
        super().train(mode)
        self.backbone.eval()  # frozen means frozen: no dropout, no batch-statistics updates
        return self

    def forward(self, images: Tensor) -> Tensor:
        features = self.backbone.forward_head(self.backbone.forward_features(normalize(images)), pre_logits=True)
        return self.head(features)


class FullFinetune(nn.Module):
    """Every weight trains. Works on a deep copy so the backbone handed in is never mutated."""

    def __init__(self, backbone: nn.Module, *, num_classes: int) -> None:
        super().__init__()
        self.backbone = copy.deepcopy(backbone).requires_grad_(True)
        self.backbone.reset_classifier(num_classes)

    def forward(self, images: Tensor) -> Tensor:
        return self.backbone(normalize(images))


def run_result(
    name: str,
    model: nn.Module,
    backbone: nn.Module,
    *,
    accuracy: float,
    seconds: float,
    train_seconds: float,
    steps: int,
    device: torch.device,
    extra: dict,
    measure_memory: bool = True,
) -> RunResult:
    """A RunResult from what a runner measured; parameter shares and peak memory are derived here."""
    trainable, backbone_params = count_parameters(model, trainable_only=True), count_parameters(backbone)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if measure_memory and device.type == "cuda" else None
    return RunResult(
        name=name,
        accuracy=accuracy,
        trainable_params=trainable,
        backbone_params=backbone_params,
        trainable_percent=100.0 * trainable / backbone_params,
        seconds=seconds,
        step_ms=1000.0 * train_seconds / max(1, steps),
        peak_mem_mb=peak,
        extra=extra,
    )


def fit_and_evaluate(
    name: str,
    build: Callable[[nn.Module], nn.Module],
    *,
    device: str | torch.device = "cpu",
    steps: int,
    lr: float,
    seed: int = 0,
    task: str = DOWNSTREAM,
    batch_size: int = 64,
    weight_decay: float = 0.0,
    backbone: nn.Module | None = None,
) -> RunResult:
    """Wrap a fresh pretrained backbone with `build`, train on `task`, evaluate, report."""
    device = resolve_device(device)
    torch.manual_seed(seed)  # the wrapper's own initialisation (prompts, head) depends on it
    backbone = backbone if backbone is not None else pretrained_backbone(device=device)
    model = build(backbone).to(device)
    data = load_task(task)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    losses = train(model, data, steps=steps, lr=lr, batch_size=batch_size, device=device, seed=seed,
                   weight_decay=weight_decay)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    train_seconds = time.perf_counter() - start
    accuracy = evaluate(model, data, device=device)
    return run_result(
        name, model, backbone, accuracy=accuracy, seconds=time.perf_counter() - start,
        train_seconds=train_seconds, steps=steps, device=device,
        extra={"task": task, "steps": steps, "lr": lr, "final_loss": losses[-1] if losses else float("nan")},
    )


def run_linear_probe(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return fit_and_evaluate("linear-probe", lambda b: LinearProbe(b, num_classes=10), device=device,
                            steps=steps or 200, lr=1e-2, seed=seed)


def run_full_finetune(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return fit_and_evaluate("full-finetune", lambda b: FullFinetune(b, num_classes=10), device=device,
                            steps=steps or 200, lr=5e-4, seed=seed, weight_decay=0.05)


RUNNERS = {"linear-probe": run_linear_probe, "full-finetune": run_full_finetune}
