"""The bundled mini benchmark: procedurally drawn 32x32 RGB shapes, generated in memory.

No downloads and no files: every image is drawn from a seeded `torch.Generator`, so a task is
the same tensor on every machine. Each image holds one shape (10 kinds) in a random colour,
size and position on a smooth two-colour gradient background with mild pixel noise.

Tasks (`load_task(name)`):
  source       label = shape kind (10 classes). The backbone is pretrained on it (backbone.py),
               so its class token learns "which shape", deliberately invariant to where and how big.
  shape-side   different label space: shape kind (first 5 kinds) x which half of the image the
               shape's centre lies in (left/right) = 10 classes. The pretrained features know the
               shape but were trained to ignore position, so a linear probe on the class token is
               useful but not sufficient; prompts can re-route attention to positional evidence
               that the patch tokens still carry (they keep their position embeddings).
  shifted      shifted input domain, same labels as `source`: lower contrast, an oriented sine
               grating over the whole image and stronger noise, the kind of texture/contrast
               shift that hurts a patch-4 ViT trained on clean images. Used by test_time.py.

Sizes are small on purpose (CPU in minutes): source 6000 train / 1000 test, downstream tasks
1000 train / 1000 test. Images are float32 in [0, 1], NOT normalised: methods apply `normalize`
themselves, after any pixel prompt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

IMG_SIZE = 32
SHAPES = ("disk", "square", "ring", "diamond", "cross", "triangle", "bar", "x", "frame", "half-disk")
TASKS: tuple[str, ...] = ("source", "shape-side", "shifted")
DOWNSTREAM = "shape-side"  # the task `python -m reference_impls run/bench` adapts to

# Rounded per-channel statistics of the source task (see test_tiny_vit.py, which recomputes them).
MEAN = (0.5, 0.5, 0.5)
STD = (0.23, 0.23, 0.23)

# Bump when the generator changes: backbone.py includes it in the cache key of pretrained weights.
DATA_VERSION = 1


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


def _shape_masks(kind: Tensor, cx: Tensor, cy: Tensor, r: Tensor) -> Tensor:
    """Binary masks [N, 32, 32] of shape `kind` centred at (cx, cy) with radius r (pixels)."""
    coords = torch.arange(IMG_SIZE, dtype=torch.float32) + 0.5
    dx = coords.view(1, 1, -1) - cx.view(-1, 1, 1)  # [N, 1, W]
    dy = coords.view(1, -1, 1) - cy.view(-1, 1, 1)  # [N, H, 1]
    r = r.view(-1, 1, 1)
    ax, ay = dx.abs(), dy.abs()
    dist = torch.sqrt(dx**2 + dy**2)
    cheb = torch.maximum(ax, ay)
    arm = r / 3  # half-width of bars and strokes
    candidates = torch.stack(
        [
            dist <= r,  # disk
            cheb <= r * 0.85,  # square (slightly smaller so its area matches the disk)
            (dist <= r) & (dist >= r * 0.55),  # ring
            ax + ay <= r * 1.2,  # diamond
            ((ax <= arm) & (ay <= r)) | ((ay <= arm) & (ax <= r)),  # plus-shaped cross
            (dy <= r * 0.8) & (dy >= -r) & (ax <= (dy + r) * 0.55),  # triangle pointing up
            (ay <= arm) & (ax <= r),  # horizontal bar
            ((ax - ay).abs() <= arm * 0.9) & (cheb <= r * 0.9),  # diagonal x
            (cheb <= r * 0.9) & (cheb >= r * 0.5),  # hollow square frame
            (dist <= r) & (dy <= 0),  # upper half-disk
        ],
        dim=1,
    )  # [N, 10, H, W]
    return candidates[torch.arange(len(kind)), kind]


def _draw(n: int, gen: torch.Generator, kinds: Tensor) -> tuple[Tensor, Tensor]:
    """Draw n images of the given shape kinds; returns images [n,3,32,32] and centre x [n]."""
    u = lambda *shape: torch.rand(*shape, generator=gen)  # noqa: E731 - local shorthand
    r = 4.0 + 5.0 * u(n)  # radius 4..9 px
    cx = r + 1 + (IMG_SIZE - 2 * r - 2) * u(n)  # the shape stays inside the frame
    cy = r + 1 + (IMG_SIZE - 2 * r - 2) * u(n)
    mask = _shape_masks(kinds, cx, cy, r).unsqueeze(1).float()  # [n, 1, H, W]

    # Background: a linear gradient between two random colours in a random direction.
    angle = 2 * math.pi * u(n)
    coords = torch.linspace(-1, 1, IMG_SIZE)
    ramp = torch.cos(angle).view(-1, 1, 1) * coords.view(1, 1, -1) + torch.sin(angle).view(-1, 1, 1) * coords.view(
        1, -1, 1
    )
    ramp = ((ramp + 1.5) / 3).unsqueeze(1)  # [n, 1, H, W] in (0, 1)
    c0, c1 = u(n, 3, 1, 1), u(n, 3, 1, 1)
    background = c0 * (1 - ramp) + c1 * ramp
    # Foreground: a random colour pushed away from the mean background colour so the shape is visible.
    bg_mean = (c0 + c1) / 2
    fg = u(n, 3, 1, 1)
    fg = torch.where((fg - bg_mean).abs().mean(1, keepdim=True) < 0.3, 1 - bg_mean, fg)
    images = background * (1 - mask) + fg * mask
    images = images + 0.03 * torch.randn(images.shape, generator=gen)
    return images.clamp(0, 1), cx


def _shift(images: Tensor, gen: torch.Generator) -> Tensor:
    """Texture/contrast domain shift: halve contrast, overlay an oriented grating, add noise."""
    n = images.shape[0]
    coords = torch.arange(IMG_SIZE, dtype=torch.float32)
    angle = math.pi * torch.rand(n, generator=gen).view(-1, 1, 1)
    freq = 2 * math.pi / (3.0 + 3.0 * torch.rand(n, generator=gen).view(-1, 1, 1))  # period 3..6 px
    phase = coords.view(1, 1, -1) * torch.cos(angle) + coords.view(1, -1, 1) * torch.sin(angle)
    grating = torch.sin(freq * phase).unsqueeze(1)  # [n, 1, H, W]
    shifted = 0.5 + 0.5 * (images - 0.5) + 0.18 * grating
    shifted = shifted + 0.08 * torch.randn(images.shape, generator=gen)
    return shifted.clamp(0, 1)


def _make_split(name: str, n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    if name == "shape-side":
        kinds = torch.randint(0, 5, (n,), generator=gen)
        images, cx = _draw(n, gen, kinds)
        right = (cx >= IMG_SIZE / 2).long()
        return images, kinds * 2 + right
    kinds = torch.randint(0, len(SHAPES), (n,), generator=gen)
    images, _ = _draw(n, gen, kinds)
    if name == "shifted":
        images = _shift(images, gen)
    return images, kinds


@lru_cache(maxsize=16)
def _load_task_cached(name: str, seed: int) -> Task:
    sizes = {"source": (6000, 1000), "shape-side": (1000, 1000), "shifted": (1000, 1000)}
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
