"""The plain training and evaluation loops every method and the pretraining share.

The loop is deliberately plain (nanoGPT style): the optimiser only ever sees parameters with
`requires_grad`, so a method declares what it trains simply by freezing the rest. Every method
wrapper takes images in [0, 1] and normalises inside (data.normalize), and keeps its frozen
backbone in eval mode by overriding `train()`; the loop just calls `model.train()`.

This module sits below both backbone.py (which pretrains with it) and engine.py (which runs the
methods on the pretrained backbone), so neither has to import the other's caller.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .data import Task


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
