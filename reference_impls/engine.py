"""Training and evaluation loops shared by every method, plus the two baselines.

The loop is deliberately plain (nanoGPT style): the optimiser only ever sees parameters with
`requires_grad`, so a method declares what it trains simply by freezing the rest. Every method
wrapper takes images in [0, 1] and normalises inside (data.normalize), and keeps its frozen
backbone in eval mode by overriding `train()`; the loop just calls `model.train()`.

Baselines (Jia et al. 2022, "Visual Prompt Tuning", Table 1, use the same two):
  linear-probe    frozen backbone, new linear head on the pooled feature
  full-finetune   every backbone weight trains, on a private copy (the caller's backbone is untouched)

`fit_and_evaluate` is what each `run_<name>` runner calls: build the wrapper around a fresh
pretrained backbone, train it on the downstream task, evaluate, and report a RunResult.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .data import DOWNSTREAM, Task, load_task, normalize


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


def count_parameters(module: nn.Module, *, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn "cpu"/"cuda" into a torch.device, with an actionable error when CUDA is missing."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("CUDA was requested but torch.cuda.is_available() is False; use --device cpu")
    return device


def _cosine_lr(step: int, steps: int, lr: float, warmup: int) -> float:
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return lr * 0.5 * (1 + math.cos(math.pi * progress))


def train(
    model: nn.Module,
    task: Task,
    *,
    steps: int,
    lr: float,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    seed: int = 0,
    weight_decay: float = 0.0,
) -> list[float]:
    """AdamW with warm-up + cosine decay on cross-entropy; returns the loss of every step."""
    device = resolve_device(device)
    params = [p for p in model.parameters() if p.requires_grad]
    assert params, "the model has no trainable parameters"
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    x_all, y_all = task.train
    # Batches come from a private generator; the global seed drives dropout inside the model.
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model.to(device).train()
    warmup = max(1, steps // 10)
    losses = []
    for step in range(steps):
        idx = torch.randint(0, len(y_all), (batch_size,), generator=gen)
        x, y = x_all[idx].to(device), y_all[idx].to(device)
        for group in optimizer.param_groups:
            group["lr"] = _cosine_lr(step, steps, lr, warmup)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def evaluate(model: nn.Module, task: Task, *, device: str | torch.device = "cpu", split: str = "test") -> float:
    """Top-1 accuracy in [0, 1] on `split` ("train" or "test")."""
    device = resolve_device(device)
    x_all, y_all = getattr(task, split)
    model.to(device).eval()
    correct = 0
    for start in range(0, len(y_all), 500):
        logits = model(x_all[start : start + 500].to(device))
        correct += (logits.argmax(-1).cpu() == y_all[start : start + 500]).sum().item()
    return correct / len(y_all)


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
    from .backbone import pretrained_backbone  # local: backbone.py imports this module

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
