"""VP-Generated: a small network writes a different pixel prompt for every input image, trained
either by backpropagation through the frozen model or black-box, from forward queries only.

Paper and official code this module follows:
  Oh, Hwang, Lee, Lim, Jung, Jung, Choi, Song 2023 (CVPR), "BlackVIP: Black-Box Visual Prompting
    for Robust Transfer Learning", arXiv 2303.14773, https://github.com/changdaeoh/BlackVIP
    (trainers/blackvip.py, trainers/visual_prompters.py).
  The "coordinator": a frozen encoder gives image features, a learned "prompt trigger" vector is
  concatenated to them, and a light decoder turns the result into a prompt the size of the image,
  added to the (normalised) image, which is then clipped to the valid range. Black-box training is
  SPSA-GC: at step k (from 0) the step size is a/(k+1+o)^alpha and the perturbation size
  c/(k+1)^gamma; the gradient estimate averages several two-sided estimates
  (L(w+c*d) - L(w-c*d)) / (2*c*d) over random perturbations d; the "gradient correction" is a
  Nesterov-style look-ahead, m = beta*m + g, w -= a_k * (g + beta*m).

Run:  python -m reference_impls run blackvip-spsa      (black-box, forward queries only)
      python -m reference_impls run blackvip-backprop  (same coordinator, gradients through the model)
BlackVIP is about robust transfer under distribution shift, so both runners adapt the frozen
TinyViT, its source head included, to the "shifted" domain (data.py: same labels, lower contrast,
colour cast, noise) with the identity label mapping; GeneratedConfig(task=..., label_mapping="flm")
reads a task with other labels out through vp_learnable's frequency label mapping instead.

`BlackBox` is the only handle the SPSA trainer has on the model: it takes values (inputs are
detached), runs under torch.no_grad, returns logits and counts every call, so training costs
exactly steps * 2 * num_perturbations queries (baseline and final evaluations are counted apart).

Departures from the paper:
  - Encoder: a frozen random strided convolution, one 8-d feature per 4x4 patch (BlackVIP: a
    frozen self-supervised ViT-MAE or DINO ResNet); decoder: a 1x1 convolution and a transposed
    convolution that paints each patch, no batch norm: 299 trainable parameters (BlackVIP: a
    five-stage transposed-convolution decoder, thousands). SPSA needs on the order of d/P times
    more steps than gradient descent for d parameters and P perturbations per step, so a CPU
    budget of a few hundred steps only moves a generator this small (a 2.8k-parameter version
    gained nothing in 400 SPSA steps here, while backprop trained it fine).
  - The coordinator's last layer starts at zero, so the untrained prompt is the identity.
  - Output head: the frozen source head (BlackVIP: CLIP's zero-shot text classifier).
  - Perturbations: "segmented" uniform +-[0.5, 1] as in the official code by default, or
    Rademacher +-1; a = 0.03 and batch 32 tuned here (official: a = c = 0.01, o = 1,
    alpha = 0.4, gamma = 0.1, momentum 0.9, 5 perturbations, which are kept).
  - No learning-rate warm-up or cosine schedule around SPSA (the official config adds both).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from .data import MEAN, STD, Task, load_task
from .engine import RunResult, evaluate, resolve_device, run_result, train
from .vp_learnable import PromptedClassifier, input_size


@dataclass(frozen=True)
class SPSAConfig:
    steps: int = 300
    batch_size: int = 32
    a: float = 0.03  # step-size numerator
    c: float = 0.01  # perturbation-size numerator
    o: float = 1.0  # step-size offset (stability constant)
    alpha: float = 0.4  # step-size decay exponent
    gamma: float = 0.1  # perturbation decay exponent
    momentum: float = 0.9  # beta of the gradient correction
    num_perturbations: int = 5  # two-sided estimates averaged per step (BlackVIP: SP_AVG = 5)
    perturbation: str = "segmented"  # or "rademacher"


@dataclass(frozen=True)
class GeneratedConfig:
    task: str = "shifted"  # same labels as the source: the frozen head is used as it is
    label_mapping: str = "identity"  # or "flm" (vp_learnable), for a task with other labels
    feature_channels: int = 8  # frozen encoder output channels
    trigger_channels: int = 1  # learned prompt-trigger channels
    hidden: int = 4
    eps: float = 1.0  # prompt scale (BlackVIP's P_EPS)
    backprop_steps: int = 300
    backprop_lr: float = 2e-2


class Coordinator(nn.Module):
    """Normalised image -> clip(image + eps * decoder([frozen_encoder(image), trigger])).

    The encoder gives one feature vector per patch; the decoder mixes it with the learned trigger
    of that grid cell and a transposed convolution paints a full-resolution patch of prompt.
    """

    def __init__(self, *, image_size: int, patch: int = 4, feature_channels: int = 8, trigger_channels: int = 1,
                 hidden: int = 4, eps: float = 1.0, mean=MEAN, std=STD) -> None:
        super().__init__()
        assert image_size % patch == 0, f"image size {image_size} must be a multiple of patch {patch}"
        grid = image_size // patch
        self.eps = eps
        self.encoder = nn.Sequential(nn.Conv2d(3, feature_channels, patch, stride=patch), nn.GELU())
        self.encoder.requires_grad_(False)  # frozen, like BlackVIP's pretrained encoder
        self.trigger = nn.Parameter(0.1 * torch.rand(1, trigger_channels, grid, grid))  # official: U(0, 0.1)
        self.decoder = nn.Sequential(
            nn.Conv2d(feature_channels + trigger_channels, hidden, 1), nn.GELU(),
            nn.ConvTranspose2d(hidden, 3, patch, stride=patch),
        )
        nn.init.zeros_(self.decoder[-1].weight)  # start from "no prompt"
        nn.init.zeros_(self.decoder[-1].bias)
        mean_, std_ = torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)
        self.register_buffer("low", (0 - mean_) / std_, persistent=False)  # [0, 1] in normalised units
        self.register_buffer("high", (1 - mean_) / std_, persistent=False)

    def prompt(self, x: Tensor) -> Tensor:
        features = self.encoder(x)
        trigger = self.trigger.expand(x.shape[0], -1, -1, -1)
        return self.decoder(torch.cat([features, trigger], dim=1))

    def forward(self, x: Tensor) -> Tensor:
        return torch.maximum(torch.minimum(x + self.eps * self.prompt(x), self.high), self.low)


class BlackBox(nn.Module):
    """Forward-only, query-counting view of a classifier: no gradient can pass through it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model.requires_grad_(False).eval()
        self.num_classes = model.num_classes
        self.queries = 0  # forward calls
        self.images = 0  # images sent

    def train(self, mode: bool = True) -> BlackBox:
        super().train(mode)
        self.model.eval()
        return self

    def forward(self, x: Tensor) -> Tensor:
        self.queries += 1
        self.images += x.shape[0]
        with torch.no_grad():  # values in, values out: no graph reaches or leaves the model
            return self.model(x.detach())


def _perturbation(n: int, kind: str, gen: torch.Generator) -> Tensor:
    sign = torch.randint(0, 2, (n,), generator=gen).float() * 2 - 1
    if kind == "rademacher":
        return sign
    assert kind == "segmented", f"perturbation must be 'segmented' or 'rademacher', not {kind!r}"
    return sign * (0.5 + 0.5 * torch.rand(n, generator=gen))  # |d| in [0.5, 1]


@torch.no_grad()
def spsa_gradient(loss_at: Callable[[Tensor], Tensor], w: Tensor, c_k: float, *, num_perturbations: int,
                  kind: str, generator: torch.Generator) -> tuple[Tensor, float]:
    """Average of two-sided SPSA estimates; 2 * num_perturbations calls of loss_at. Also returns
    the mean perturbed loss (for logging)."""
    g_hat, mean_loss = torch.zeros_like(w), 0.0
    for _ in range(num_perturbations):
        d = _perturbation(w.numel(), kind, generator).to(w)
        loss_plus, loss_minus = loss_at(w + c_k * d), loss_at(w - c_k * d)
        g_hat += (loss_plus - loss_minus) / (2 * c_k * d)
        mean_loss += 0.5 * (loss_plus + loss_minus).item() / num_perturbations
    return g_hat / num_perturbations, mean_loss


@torch.no_grad()
def train_spsa_gc(model: PromptedClassifier, task: Task, *, config: SPSAConfig = SPSAConfig(),
                  device: str | torch.device = "cpu", seed: int = 0) -> list[float]:
    """SPSA with gradient correction on the trainable parameters of `model`, using forward passes
    only; returns the mean perturbed loss of every step."""
    device = resolve_device(device)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    assert params, "the model has no trainable parameters"
    w = parameters_to_vector(params)
    momentum = torch.zeros_like(w)
    gen = torch.Generator().manual_seed(seed)  # batches and perturbations
    x_all, y_all = task.train
    losses = []
    for k in range(config.steps):
        a_k = config.a / (k + 1 + config.o) ** config.alpha
        c_k = config.c / (k + 1) ** config.gamma
        idx = torch.randint(0, len(y_all), (config.batch_size,), generator=gen)
        x, y = x_all[idx].to(device), y_all[idx].to(device)

        def loss_at(v: Tensor, x: Tensor = x, y: Tensor = y) -> Tensor:
            vector_to_parameters(v, params)  # write the candidate weights into the coordinator
            return F.cross_entropy(model(x), y)

        g_hat, loss = spsa_gradient(loss_at, w, c_k, num_perturbations=config.num_perturbations,
                                    kind=config.perturbation, generator=gen)
        momentum = g_hat if k == 0 else config.momentum * momentum + g_hat
        w = w - a_k * (g_hat + config.momentum * momentum)  # look-ahead along the momentum
        vector_to_parameters(w, params)
        losses.append(loss)
    return losses


def _result(name: str, model: PromptedClassifier, backbone: nn.Module, task: Task, device: torch.device,
            steps: int, start: float, train_seconds: float, extra: dict) -> RunResult:
    accuracy = evaluate(model, task, device=device)
    return run_result(name, model, backbone, accuracy=accuracy, seconds=time.perf_counter() - start,
                      train_seconds=train_seconds, steps=steps, device=device,
                      extra={"task": task.name, "steps": steps, **extra})


def _build(black_box: bool, device: torch.device, seed: int, config: GeneratedConfig):
    from .backbone import pretrained_backbone

    torch.manual_seed(seed)
    backbone = pretrained_backbone(device=device)
    task = load_task(config.task)
    coordinator = Coordinator(image_size=input_size(backbone)[0], feature_channels=config.feature_channels,
                              trigger_channels=config.trigger_channels, hidden=config.hidden, eps=config.eps)
    model = PromptedClassifier(BlackBox(backbone) if black_box else backbone, coordinator,
                               num_classes=task.num_classes).to(device)
    assert config.label_mapping in ("identity", "flm"), f"unknown label mapping {config.label_mapping!r}"
    if config.label_mapping == "flm":
        model.remap(*task.train)  # frequency label mapping, computed with the initial (zero) prompt
    no_prompt_accuracy = evaluate(model, task, device=device)  # zero-initialised prompt = no prompt
    return backbone, task, model, no_prompt_accuracy


def run_blackvip_spsa(*, device: str = "cpu", steps: int | None = None, seed: int = 0,
                      config: GeneratedConfig = GeneratedConfig(), spsa: SPSAConfig = SPSAConfig()) -> RunResult:
    device_ = resolve_device(device)
    spsa = SPSAConfig(**{**spsa.__dict__, "steps": steps or spsa.steps})
    backbone, task, model, no_prompt_accuracy = _build(True, device_, seed, config)
    box: BlackBox = model.backbone
    setup_queries = box.queries
    start = time.perf_counter()
    losses = train_spsa_gc(model, task, config=spsa, device=device_, seed=seed)
    train_seconds = time.perf_counter() - start
    train_queries = box.queries - setup_queries
    result = _result("blackvip-spsa", model, backbone, task, device_, spsa.steps, start, train_seconds,
                     {"no_prompt_accuracy": no_prompt_accuracy, "final_loss": losses[-1],
                      "training_queries": train_queries, "training_images": spsa.steps * 2 * spsa.num_perturbations
                      * spsa.batch_size, "setup_queries": setup_queries})
    result.extra["evaluation_queries"] = box.queries - setup_queries - train_queries
    return result


def run_blackvip_backprop(*, device: str = "cpu", steps: int | None = None, seed: int = 0,
                          config: GeneratedConfig = GeneratedConfig()) -> RunResult:
    device_ = resolve_device(device)
    steps = steps or config.backprop_steps
    backbone, task, model, no_prompt_accuracy = _build(False, device_, seed, config)
    start = time.perf_counter()
    losses = train(model, task, steps=steps, lr=config.backprop_lr, device=device_, seed=seed)
    train_seconds = time.perf_counter() - start
    return _result("blackvip-backprop", model, backbone, task, device_, steps, start, train_seconds,
                   {"no_prompt_accuracy": no_prompt_accuracy, "final_loss": losses[-1]})


RUNNERS = {"blackvip-spsa": run_blackvip_spsa, "blackvip-backprop": run_blackvip_backprop}
