"""The epoch loop behind `python -m reference_impls train`, on one process or many (torchrun).

    python -m reference_impls train vpt-deep --data DIR --out DIR
    torchrun --nproc_per_node=2 -m reference_impls train vpt-deep --data DIR --out DIR

Under torchrun (WORLD_SIZE > 1) every process joins one process group (gloo on CPU, NCCL on
CUDA, one GPU per process by LOCAL_RANK), the model is wrapped in DistributedDataParallel, and a
DistributedSampler gives each process its share of every batch. `batch_size` is the GLOBAL batch,
split evenly over the processes, so the same command with N processes takes the same steps on the
same images as with one: the sampler's permutation depends only on the seed and the epoch,
process r takes positions r, r+N, ... of it, and DDP averages the gradients of equal shards,
which is the gradient of the whole batch. Losses and accuracies are summed over processes.

What can still differ from one process, and why:
  * float rounding of the gradient average: prompts agree to about 1e-5 after a few steps
    (tests/reference_impls/test_adapt.py; Adam divides by the gradient's running RMS, so once the
    loss is near zero the rounding of tiny gradients shows in the step);
  * dropout masks (VPT-Deep's prompt dropout): each process draws masks for its own shard;
  * if the number of training images is not a multiple of N, DistributedSampler repeats a few
    images so that every process gets the same count.
Every process draws from the same global seed, so a random-patch prompter puts its patch in the
same place on every process (one location per global batch, as with one process). Evaluation and
the label-mapping pass run under a forked, re-seeded RNG, so they never shift the training stream
and a single-process `evaluate` repeats them.

Gradient methods: AdamW, linear warm-up over the first 10% of steps, cosine decay to zero,
gradients clipped to norm 1 (engine.train's recipe, counted in epochs). SPSA (BlackVIP):
vp_generated's estimator and gradient-corrected update, with every loss query averaged over the
processes, so all of them take the identical step.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.nn.utils import parameters_to_vector, vector_to_parameters
from torch.utils.data import DataLoader, DistributedSampler, Subset
from tqdm import tqdm

from .vp_generated import SPSAConfig, spsa_gradient
from .vp_learnable import one_to_one_mapping


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch_size: int = 64  # global: split evenly over the processes
    lr: float = 0.1
    weight_decay: float = 0.0
    seed: int = 0
    amp: bool = False  # bf16 autocast
    workers: int = 0  # image-decoding processes per training process
    warmup_fraction: float = 0.1
    clip_norm: float = 1.0


@dataclass(frozen=True)
class Processes:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def start_processes(device: str) -> Processes:
    """Join the torchrun process group if there is one; pick this process's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    torch_device = torch.device(device)
    if torch_device.type == "cuda":
        torch_device = torch.device("cuda", local_rank if world_size > 1 else torch.cuda.current_device())
        torch.cuda.set_device(torch_device)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch_device.type == "cuda" else "gloo")
    return Processes(rank=rank, world_size=world_size, device=torch_device)


def stop_processes() -> None:
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def all_sum(values: list[float], procs: Processes) -> list[float]:
    """Sum each value over all processes (a no-op for one)."""
    if procs.world_size == 1:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=procs.device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def _mean_over_processes(value: Tensor, procs: Processes) -> Tensor:
    if procs.world_size > 1:
        value = value.detach().clone()
        dist.all_reduce(value)
        value /= procs.world_size
    return value


def shard_loader(dataset, procs: Processes, batch_size: int, workers: int) -> DataLoader:
    """Positions r, r+N, ... of `dataset` in order, unpadded: every image counted exactly once overall."""
    return DataLoader(Subset(dataset, range(procs.rank, len(dataset), procs.world_size)), batch_size=batch_size,
                      shuffle=False, num_workers=workers)


def _autocast(procs: Processes, amp: bool):
    return torch.autocast(device_type=procs.device.type, dtype=torch.bfloat16, enabled=amp)


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, inputs: Callable[[Tensor], Tensor], procs: Processes, *,
             seed: int = 0, amp: bool = False) -> float:
    """Top-1 accuracy over every process's shard of `loader`'s dataset."""
    correct = total = 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # a random-patch prompter draws its locations here: make them repeatable
        model.eval()
        for images, labels in loader:
            with _autocast(procs, amp):
                logits = model(inputs(images.to(procs.device)))
            correct += (logits.argmax(-1).cpu() == labels).sum().item()
            total += len(labels)
    correct, total = all_sum([correct, total], procs)
    return correct / max(1, total)


@torch.no_grad()
def remap_labels(model: nn.Module, loader: DataLoader, inputs: Callable[[Tensor], Tensor], procs: Processes, *,
                 seed: int, amp: bool = False) -> list[int]:
    """ILM-VP's mapping from how the prompted model classifies the training images (all processes)."""
    num_source, num_target = model.backbone.num_classes, len(model.label_mapping.mapping)
    counts = torch.zeros(num_source, num_target, dtype=torch.float64)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model.eval()
        for images, labels in loader:
            with _autocast(procs, amp):
                predicted = model.source_logits(inputs(images.to(procs.device))).argmax(-1).cpu()
            counts.index_put_((predicted, labels), torch.ones(len(labels), dtype=torch.float64), accumulate=True)
    if procs.world_size > 1:
        counts = counts.to(procs.device)
        dist.all_reduce(counts)
    mapping = one_to_one_mapping(counts.cpu())
    model.label_mapping.mapping.copy_(mapping)
    return mapping.tolist()


def _lr_at(step: int, total: int, config: TrainConfig) -> float:
    warmup = max(1, int(config.warmup_fraction * total))
    if step < warmup:
        return config.lr * (step + 1) / warmup
    return config.lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


class GradientStep:
    """One AdamW step on the batch: warm-up + cosine learning rate, gradient-norm clipping."""

    def __init__(self, model: nn.Module, params: list[nn.Parameter], config: TrainConfig, procs: Processes,
                 total_steps: int) -> None:
        self.net = model
        if procs.world_size > 1:
            device_ids = [procs.device.index] if procs.device.type == "cuda" else None
            self.net = DistributedDataParallel(model, device_ids=device_ids)
        self.params, self.config, self.procs, self.total_steps = params, config, procs, total_steps
        self.optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)

    def __call__(self, x: Tensor, y: Tensor, step: int) -> float:
        for group in self.optimizer.param_groups:
            group["lr"] = _lr_at(step, self.total_steps, self.config)
        with _autocast(self.procs, self.config.amp):
            loss = F.cross_entropy(self.net(x), y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # under DDP the gradients are averaged over the processes here
        torch.nn.utils.clip_grad_norm_(self.params, self.config.clip_norm)
        self.optimizer.step()
        return loss.item()


class SPSAStep:
    """One SPSA-GC step (vp_generated.py) from forward queries only; every loss is averaged over the
    processes and the perturbations come from one seed, so every process takes the identical step."""

    def __init__(self, model: nn.Module, params: list[nn.Parameter], config: TrainConfig, procs: Processes) -> None:
        self.net, self.params, self.config, self.procs = model, params, config, procs
        self.spsa = SPSAConfig(a=config.lr)
        self.weights, self.momentum = parameters_to_vector(params).detach(), None
        self.perturbations = torch.Generator().manual_seed(config.seed)

    @torch.no_grad()
    def _loss_at(self, v: Tensor, x: Tensor, y: Tensor) -> Tensor:
        vector_to_parameters(v, self.params)
        with _autocast(self.procs, self.config.amp):
            loss = F.cross_entropy(self.net(x), y).float()
        return _mean_over_processes(loss, self.procs)

    def __call__(self, x: Tensor, y: Tensor, step: int) -> float:
        spsa = self.spsa
        a_k = spsa.a / (step + 1 + spsa.o) ** spsa.alpha
        c_k = spsa.c / (step + 1) ** spsa.gamma
        g_hat, loss = spsa_gradient(lambda v: self._loss_at(v, x, y), self.weights, c_k,
                                    num_perturbations=spsa.num_perturbations, kind=spsa.perturbation,
                                    generator=self.perturbations)
        self.momentum = g_hat if self.momentum is None else spsa.momentum * self.momentum + g_hat
        self.weights = self.weights - a_k * (g_hat + spsa.momentum * self.momentum)
        vector_to_parameters(self.weights, self.params)
        return loss


def fit(
    model: nn.Module,
    *,
    train_set,
    val_set,
    inputs: Callable[[Tensor], Tensor],
    config: TrainConfig,
    procs: Processes,
    trainer: str = "gradient",
    label_mapping: str | None = None,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Train `model` (its trainable parameters only) and return one metrics dict per epoch."""
    assert config.batch_size % procs.world_size == 0, "batch size must split evenly over the processes"
    assert trainer in ("gradient", "spsa"), f"unknown trainer {trainer!r}"
    local_batch = config.batch_size // procs.world_size
    sampler = DistributedSampler(train_set, num_replicas=procs.world_size, rank=procs.rank, shuffle=True,
                                 seed=config.seed)
    train_loader = DataLoader(train_set, batch_size=local_batch, sampler=sampler, num_workers=config.workers)
    val_loader = shard_loader(val_set, procs, local_batch, config.workers)
    mapping_loader = shard_loader(train_set, procs, local_batch, config.workers) if label_mapping else None
    model.to(procs.device)
    params = [p for p in model.parameters() if p.requires_grad]
    assert params, "the model has no trainable parameters"
    total_steps = config.epochs * len(train_loader)
    take_step = (GradientStep(model, params, config, procs, total_steps) if trainer == "gradient"
                 else SPSAStep(model, params, config, procs))
    torch.manual_seed(config.seed)  # dropout and random patch locations: the same stream on every process
    step, metrics = 0, []
    for epoch in range(config.epochs):
        start = time.perf_counter()
        sampler.set_epoch(epoch)  # the permutation depends on (seed, epoch) only
        if label_mapping == "ilm" or (label_mapping == "flm" and epoch == 0):
            remap_labels(model, mapping_loader, inputs, procs, seed=config.seed, amp=config.amp)
        take_step.net.train()  # the wrappers keep their frozen backbone in eval mode
        loss_sum = seen = 0.0
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch", file=sys.stderr,
                   disable=not procs.is_main, leave=False, dynamic_ncols=True)
        for images, labels in bar:
            loss = take_step(inputs(images.to(procs.device)), labels.to(procs.device), step)
            loss_sum, seen, step = loss_sum + loss * len(labels), seen + len(labels), step + 1
            bar.set_postfix(loss=f"{loss:.4f}")
        loss_sum, seen = all_sum([loss_sum, seen], procs)
        accuracy = evaluate(model, val_loader, inputs, procs, seed=config.seed, amp=config.amp)
        seconds = time.perf_counter() - start
        metrics.append({"epoch": epoch + 1, "train_loss": loss_sum / max(1, seen), "val_accuracy": accuracy,
                        "seconds": round(seconds, 3)})
        if procs.is_main:
            log(f"epoch {epoch + 1}/{config.epochs}  loss {loss_sum / max(1, seen):.4f}  "
                f"val accuracy {100 * accuracy:.2f}%  ({seconds:.1f} s)")
    return metrics
