"""The bundled mini benchmark: procedurally textured 32x32 RGB images, generated in memory.

No downloads and no files: every image is drawn from a seeded `torch.Generator`, so a task is
the same tensor on every machine. Each image holds one region (a disk or a square, radius 7-12
px, anywhere in the frame) filled with one of 10 textures (stripes in four orientations,
checkerboard, dots, rings, solid, speckle, grid; random period, phase and two random colours) on
a smooth two-colour gradient background with mild pixel noise.

Why textures and not shapes: a ViT trained from scratch needs many epochs to learn shape (a
relation between patches), while a texture is visible inside every 4x4 patch, so a tiny ViT
learns it within a pretraining budget of a minute or two on two CPU cores.

Tasks (`load_task(name)`):
  source        label = texture (10 classes). The backbone is pretrained on it (backbone.py), so
                its class token learns "which texture", trained to ignore where the region is.
  texture-side  different label space: texture (first 5 kinds) x which half of the image holds
                the region (left/right) = 10 classes; regions are smaller here (radius 4-7 px)
                and lie entirely inside their half. The frozen features know the
                texture but were trained to be position-invariant, so a linear probe on the class
                token is useful but not sufficient; prompt tokens can re-route attention to the
                positional evidence that patch tokens still carry (their position embeddings).
  shifted       shifted input domain, same labels as `source`: half the contrast, a warm colour
                cast and stronger sensor noise. Used by test_time.py.

Sizes are small on purpose (CPU in minutes): source 6000 train / 1000 test, downstream tasks
1000 train / 1000 test. Images are float32 in [0, 1], NOT normalised: methods apply `normalize`
themselves, after any pixel prompt. `load_task` caches per process and returns shared tensors:
do not modify them in place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

IMG_SIZE = 32
TEXTURES = (
    "h-stripes", "v-stripes", "diag-stripes", "anti-diag-stripes", "checker",
    "dots", "rings", "solid", "speckle", "grid",
)
TASKS: tuple[str, ...] = ("source", "texture-side", "shifted")
DOWNSTREAM = "texture-side"  # the task `python -m reference_impls run/bench` adapts to

# Rounded per-channel statistics of the source task (see test_tiny_vit.py, which recomputes them).
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)

# Bump when the generator changes: backbone.py includes it in the cache key of pretrained weights.
DATA_VERSION = 3


@dataclass(frozen=True)
class Task:
    name: str
    num_classes: int
    train: tuple[Tensor, Tensor]  # images [N, 3, 32, 32] float32 in [0, 1], labels [N] int64
    test: tuple[Tensor, Tensor]


def normalize(x: Tensor) -> Tensor:
    """Map images in [0, 1] to the backbone's input statistics (works on any device/dtype)."""
    mean = torch.tensor(MEAN, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


def _texture(kind: Tensor, cx: Tensor, cy: Tensor, gen: torch.Generator) -> Tensor:
    """Binary texture maps [N, 32, 32] of `kind`, with random period (4..7 px) and phase."""
    n = len(kind)
    coords = torch.arange(IMG_SIZE, dtype=torch.float32)
    period = (4.0 + 3.0 * torch.rand(n, generator=gen)).view(-1, 1, 1)
    phase = period * torch.rand(n, generator=gen).view(-1, 1, 1)
    x = coords.view(1, 1, -1) + phase  # [N, 1, W]
    y = coords.view(1, -1, 1) + phase  # [N, H, 1]
    frac = lambda t: torch.remainder(t, period) / period  # noqa: E731 - position within a period
    half = lambda t: frac(t) < 0.5  # noqa: E731 - square wave
    dist = torch.sqrt((x - phase - cx.view(-1, 1, 1)) ** 2 + (y - phase - cy.view(-1, 1, 1)) ** 2)
    full = (n, IMG_SIZE, IMG_SIZE)
    candidates = torch.stack(
        [
            half(y).expand(full),  # horizontal stripes
            half(x).expand(full),  # vertical stripes
            half(x + y),  # diagonal stripes /
            half(x - y + 2 * IMG_SIZE),  # diagonal stripes \\ (offset keeps the argument positive)
            half(x) ^ half(y),  # checkerboard
            (frac(x) - 0.5) ** 2 + (frac(y) - 0.5) ** 2 < 0.09,  # dots
            half(dist + phase),  # concentric rings around the region's centre
            torch.zeros(full, dtype=torch.bool),  # solid
            torch.rand(full, generator=gen) < 0.5,  # speckle (per-pixel noise)
            (frac(x) < 0.3) | (frac(y) < 0.3),  # grid lines
        ],
        dim=1,
    )  # [N, 10, H, W]
    return candidates[torch.arange(n), kind].float()


def _draw(n: int, gen: torch.Generator, kinds: Tensor, half: Tensor | None = None) -> Tensor:
    """Draw n images with a textured region of the given kinds.

    With `half` (0 = left, 1 = right per image) the region is smaller (radius 4-7 px) and lies
    entirely inside that half of the image; otherwise it has radius 7-12 px and lies anywhere.
    """
    u = lambda *shape: torch.rand(*shape, generator=gen)  # noqa: E731 - local shorthand
    if half is None:
        r = 7.0 + 5.0 * u(n)
        cx = r + 1 + (IMG_SIZE - 2 * r - 2) * u(n)  # the region stays inside the frame
    else:
        r = 4.0 + 3.0 * u(n)
        cx = r + 1 + (IMG_SIZE / 2 - 2 * r - 2) * u(n) + IMG_SIZE / 2 * half.float()
    cy = r + 1 + (IMG_SIZE - 2 * r - 2) * u(n)
    coords = torch.arange(IMG_SIZE, dtype=torch.float32) + 0.5
    dx = coords.view(1, 1, -1) - cx.view(-1, 1, 1)
    dy = coords.view(1, -1, 1) - cy.view(-1, 1, 1)
    radius = r.view(-1, 1, 1)
    is_disk = (u(n) < 0.5).view(-1, 1, 1)  # region outline: disk or square, not part of the label
    mask = torch.where(is_disk, dx**2 + dy**2 <= radius**2, torch.maximum(dx.abs(), dy.abs()) <= 0.85 * radius)
    mask = mask.unsqueeze(1).float()  # [n, 1, H, W]

    # Background: a linear gradient between two random colours in a random direction.
    angle = 2 * math.pi * u(n)
    lin = torch.linspace(-1, 1, IMG_SIZE)
    ramp = torch.cos(angle).view(-1, 1, 1) * lin.view(1, 1, -1) + torch.sin(angle).view(-1, 1, 1) * lin.view(1, -1, 1)
    ramp = ((ramp + 1.5) / 3).unsqueeze(1)  # [n, 1, H, W] in (0, 1)
    b0, b1 = u(n, 3, 1, 1), u(n, 3, 1, 1)
    background = b0 * (1 - ramp) + b1 * ramp
    # Texture in two random colours, pushed apart so that the pattern is always visible.
    t = _texture(kinds, cx, cy, gen).unsqueeze(1)
    f0, f1 = u(n, 3, 1, 1), u(n, 3, 1, 1)
    f1 = torch.where((f1 - f0).abs().mean(1, keepdim=True) < 0.35, 1 - f0, f1)
    images = background * (1 - mask) + (f0 * (1 - t) + f1 * t) * mask
    images = images + 0.03 * torch.randn(images.shape, generator=gen)
    return images.clamp(0, 1)


def _shift(images: Tensor, gen: torch.Generator) -> Tensor:
    """Acquisition shift: half the contrast, a warm colour cast, and stronger sensor noise."""
    tint = torch.tensor([1.0, 0.85, 0.7]).view(1, 3, 1, 1)
    shifted = (0.5 + 0.5 * (images - 0.5)) * tint
    shifted = shifted + 0.08 * torch.randn(images.shape, generator=gen)
    return shifted.clamp(0, 1)


def _make_split(name: str, n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    if name == "texture-side":
        kinds = torch.randint(0, 5, (n,), generator=gen)
        right = torch.randint(0, 2, (n,), generator=gen)
        return _draw(n, gen, kinds, half=right), kinds * 2 + right
    kinds = torch.randint(0, len(TEXTURES), (n,), generator=gen)
    images = _draw(n, gen, kinds)
    if name == "shifted":
        images = _shift(images, gen)
    return images, kinds


@lru_cache(maxsize=16)
def _load_task_cached(name: str, seed: int) -> Task:
    sizes = {"source": (6000, 1000), "texture-side": (1000, 1000), "shifted": (1000, 1000)}
    n_train, n_test = sizes[name]
    # Distinct streams per task and split, so "shifted" test images are not the source's.
    gen = torch.Generator().manual_seed(1_000_003 * (TASKS.index(name) + 1) + seed)
    train = _make_split(name, n_train, gen)
    test = _make_split(name, n_test, gen)
    return Task(name=name, num_classes=10, train=train, test=test)


def load_task(name: str, *, seed: int = 0) -> Task:
    """Generate (once per process) the task `name`, one of TASKS."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    return _load_task_cached(name, seed)
