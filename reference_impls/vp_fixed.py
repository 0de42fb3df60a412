"""VP-Fixed: parameter-free visual prompts. Marks drawn on the pixels (point, box, circle, mask)
and a fixed random-Fourier encoding of point and box coordinates.

Papers and official code this module follows:
  Shtedritski, Rupprecht, Vedaldi 2023 (ICCV), "What does CLIP know about a red circle? Visual
    prompt engineering for VLMs", arXiv 2304.06712: a red circle drawn around a region makes a
    frozen model answer about that region. Here: `draw_circles` (and point/box/mask overlays).
  Kirillov et al. 2023 (ICCV), "Segment Anything", arXiv 2304.02643,
    https://github.com/facebookresearch/segment-anything (modeling/prompt_encoder.py,
    PositionEmbeddingRandom): coordinates in [0,1]^2 -> 2c-1 -> times a fixed Gaussian matrix ->
    [sin, cos] of 2*pi times that; a box is its two corners encoded as points plus a per-corner
    type embedding. Here: `FourierPromptEncoding`.

Run:  python -m reference_impls run red-circle-marker      (marker drawn on the image)
      python -m reference_impls run fourier-point-prompt   (point given as coordinates)
Both demos use generated scenes with two objects, always one disk and one square, one of them
chosen at random as "the marked object"; the question is its shape (2 classes, chance 0.5).
  red-circle-marker: a red ring is drawn around the marked object; the frozen pretrained TinyViT
    gives its class-token feature and a linear head (the only trained weights) answers. Control:
    the same pipeline on the same scenes with no ring, where the label is independent of the
    image, so any head is at chance.
  fourier-point-prompt: no pixel is changed; the point's Fourier code is compared with the codes
    of the patch-token centres, the similarity pools the frozen patch tokens around the point,
    and a linear head answers. Control: uniform pooling (no point).

Departures from the papers:
  - SAM adds LEARNED embeddings for point labels and box corners and feeds the codes to a trained
    mask decoder; here the type embeddings are fixed random vectors (buffers) and the code is used
    without any trained decoder, only as a pooling kernel: the encoder has zero parameters.
  - Shtedritski et al. use CLIP zero-shot with text; here a linear head is trained on frozen
    features of a ViT pretrained on single shapes (data.py), since there is no text encoder.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .data import MEAN, STD
from .engine import RunResult, count_parameters, resolve_device

RED = (1.0, 0.0, 0.0)


# --- Pixel prompts: images [B, 3, H, W] in [0, 1], coordinates in pixels (x, y) ---------------


def _pixel_grid(images: Tensor) -> tuple[Tensor, Tensor]:
    h, w = images.shape[-2:]
    xs = torch.arange(w, device=images.device, dtype=torch.float32).view(1, 1, w) + 0.5  # pixel centres
    ys = torch.arange(h, device=images.device, dtype=torch.float32).view(1, h, 1) + 0.5
    return xs, ys


def _paint(images: Tensor, mask: Tensor, color: tuple[float, float, float], alpha: float = 1.0) -> Tensor:
    colour = torch.tensor(color, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    m = alpha * mask.unsqueeze(1).to(images.dtype)
    return images * (1 - m) + colour * m


def draw_points(images: Tensor, points: Tensor, *, radius: float = 1.5, color=RED) -> Tensor:
    """Filled dots at points [B, 2]."""
    xs, ys = _pixel_grid(images)
    dist = torch.hypot(xs - points[:, 0, None, None], ys - points[:, 1, None, None])
    return _paint(images, dist <= radius, color)


def draw_boxes(images: Tensor, boxes: Tensor, *, thickness: float = 1.0, color=RED) -> Tensor:
    """Box outlines, boxes [B, 4] = (x0, y0, x1, y1)."""
    xs, ys = _pixel_grid(images)
    x0, y0, x1, y1 = (boxes[:, i, None, None] for i in range(4))
    inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
    core = (xs >= x0 + thickness) & (xs <= x1 - thickness) & (ys >= y0 + thickness) & (ys <= y1 - thickness)
    return _paint(images, inside & ~core, color)


def draw_circles(images: Tensor, centres: Tensor, radii: Tensor, *, thickness: float = 1.0, color=RED) -> Tensor:
    """Rings (the "red circle") of the given radii [B] around centres [B, 2]."""
    xs, ys = _pixel_grid(images)
    dist = torch.hypot(xs - centres[:, 0, None, None], ys - centres[:, 1, None, None])
    return _paint(images, (dist - radii[:, None, None]).abs() <= thickness / 2, color)


def overlay_masks(images: Tensor, masks: Tensor, *, alpha: float = 0.5, color=RED) -> Tensor:
    """Translucent colour over masks [B, H, W] (bool or {0,1})."""
    return _paint(images, masks.bool(), color, alpha)


# --- SAM-style fixed Fourier encoding of coordinates --------------------------------------------


class FourierPromptEncoding(nn.Module):
    """Normalised coordinates [..., 2] -> [..., 2*num_features]; no trainable parameter.

    The dot product of two codes, divided by num_features, estimates a Gaussian kernel of the
    distance between the points (random Fourier features), which is what `pool_weights` uses.
    """

    def __init__(self, *, num_features: int = 64, scale: float = 1.0, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.register_buffer("gaussian", scale * torch.randn(2, num_features, generator=gen))
        # Fixed stand-ins for SAM's learned embeddings: 0 = point, 1 = top-left, 2 = bottom-right corner.
        self.register_buffer("type_embed", torch.randn(3, 2 * num_features, generator=gen) / math.sqrt(num_features))

    def encode(self, coords: Tensor) -> Tensor:
        projected = 2 * math.pi * ((2 * coords - 1) @ self.gaussian)
        return torch.cat([projected.sin(), projected.cos()], dim=-1)

    def encode_points(self, points: Tensor) -> Tensor:
        return self.encode(points) + self.type_embed[0]

    def encode_boxes(self, boxes: Tensor) -> Tensor:
        """boxes [B, 4] normalised (x0, y0, x1, y1) -> [B, 2, 2F]: two corners plus corner types."""
        return self.encode(boxes.view(-1, 2, 2)) + self.type_embed[1:]

    def dense(self, grid_h: int, grid_w: int) -> Tensor:
        """Codes of the cell centres of a grid_h x grid_w grid, row-major (timm's token order)."""
        ys, xs = torch.meshgrid(torch.arange(grid_h), torch.arange(grid_w), indexing="ij")
        centres = torch.stack([(xs + 0.5) / grid_w, (ys + 0.5) / grid_h], dim=-1).to(self.gaussian)
        return self.encode(centres.view(-1, 2))

    def pool_weights(self, points: Tensor, grid_h: int, grid_w: int, *, temperature: float = 0.1) -> Tensor:
        """Weights [B, grid_h*grid_w] over grid cells, peaked at each point (normalised coords)."""
        similarity = self.encode(points) @ self.dense(grid_h, grid_w).T / self.gaussian.shape[1]
        return torch.softmax(similarity / temperature, dim=-1)


# --- Frozen backbone + linear head -------------------------------------------------------------


class FrozenProbe(nn.Module):
    """Frozen timm-style ViT + a trained linear head. `forward(images, points=None)`:
    without points the feature is the class token (forward_head pre_logits); with points
    (normalised [B, 2]) it is the patch tokens pooled by FourierPromptEncoding.pool_weights."""

    def __init__(self, backbone: nn.Module, *, num_classes: int, mean=MEAN, std=STD) -> None:
        super().__init__()
        self.backbone = backbone.requires_grad_(False).eval()
        self.encoding = FourierPromptEncoding()
        self.head = nn.Linear(backbone.num_features, num_classes)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> FrozenProbe:
        super().train(mode)
        self.backbone.eval()
        return self

    def features(self, images: Tensor, points: Tensor | None = None, *, pool: str = "token") -> Tensor:
        tokens = self.backbone.forward_features((images - self.mean) / self.std)
        if pool == "token":
            return self.backbone.forward_head(tokens, pre_logits=True)
        patches = tokens[:, self.backbone.num_prefix_tokens :]
        if points is None:  # the control: every patch counts the same
            return patches.mean(dim=1)
        grid_h, grid_w = self.backbone.patch_embed.grid_size
        return torch.einsum("bn,bnd->bd", self.encoding.pool_weights(points, grid_h, grid_w), patches)

    def forward(self, images: Tensor, points: Tensor | None = None) -> Tensor:
        return self.head(self.features(images, points, pool="token" if points is None else "points"))


# --- Generated two-object scenes ---------------------------------------------------------------


@dataclass(frozen=True)
class Scenes:
    images: Tensor  # [N, 3, 32, 32] in [0, 1], unmarked
    centres: Tensor  # [N, 2, 2] pixel (x, y) of the two regions
    radii: Tensor  # [N, 2]
    kinds: Tensor  # [N, 2]: 0 = horizontal, 1 = vertical stripes; always one of each
    marked: Tensor  # [N]: index (0/1) of the region the question is about

    @property
    def labels(self) -> Tensor:
        return self.kinds[torch.arange(len(self.marked)), self.marked]

    def marked_centre(self) -> Tensor:
        return self.centres[torch.arange(len(self.marked)), self.marked]


def two_region_scenes(n: int, *, seed: int, size: int = 32) -> Scenes:
    """A horizontally and a vertically striped disk (the source task's textures 0 and 1), one in
    each half of a random-gradient image, far enough apart for a ring around either."""
    gen = torch.Generator().manual_seed(seed)
    u = lambda *shape: torch.rand(*shape, generator=gen)  # noqa: E731 - local shorthand
    radii = 3.5 + u(n, 2)
    margin = 7.0  # radius + ring gap + half the ring thickness, at most
    cx = torch.stack([margin + 2 * u(n), size - margin - 2 * u(n)], dim=1)  # left, right
    centres = torch.stack([cx, margin + (size - 2 * margin) * u(n, 2)], dim=-1)  # [n, 2 regions, (x, y)]
    first = torch.randint(0, 2, (n,), generator=gen)
    kinds = torch.stack([first, 1 - first], dim=1)
    lin = torch.linspace(0, 1, size)
    images = u(n, 3, 1, 1) * (1 - lin.view(1, 1, 1, -1)) + u(n, 3, 1, 1) * lin.view(1, 1, 1, -1)
    xs, ys = torch.arange(size).view(1, 1, size) + 0.5, torch.arange(size).view(1, size, 1) + 0.5
    for i in range(2):
        period, phase = 4.0 + u(n, 1, 1), 4.0 * u(n, 1, 1)
        coord = torch.where(kinds[:, i, None, None] == 0, ys.expand(n, size, size), xs.expand(n, size, size))
        stripes = (torch.remainder(coord + phase, period) < period / 2).unsqueeze(1)
        c0, c1 = u(n, 3, 1, 1), u(n, 3, 1, 1)
        c1 = torch.where((c1 - c0).abs().mean(1, keepdim=True) < 0.35, 1 - c0, c1)  # visible stripes
        inside = torch.hypot(xs - centres[:, i, 0, None, None], ys - centres[:, i, 1, None, None])
        inside = (inside <= radii[:, i, None, None]).unsqueeze(1)
        images = torch.where(inside, torch.where(stripes, c1, c0), images)
    images = (images + 0.03 * torch.randn(images.shape, generator=gen)).clamp(0, 1)
    return Scenes(images, centres, radii, kinds, torch.randint(0, 2, (n,), generator=gen))


def with_red_circle(scenes: Scenes, *, gap: float = 1.5) -> Tensor:
    marked = torch.arange(len(scenes.marked)), scenes.marked
    return draw_circles(scenes.images, scenes.centres[marked], scenes.radii[marked] + gap)


# --- Runners -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkerConfig:
    n_train: int = 2000
    n_test: int = 1000
    steps: int = 300  # full-batch Adam steps of the linear head on cached frozen features
    lr: float = 0.05


def fit_head(head: nn.Linear, features: Tensor, labels: Tensor, *, steps: int, lr: float) -> list[float]:
    """Train only `head` on precomputed features (the backbone ran once, under no_grad)."""
    optimizer = torch.optim.Adam(head.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(head(features), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _run_probe(name: str, prompted: bool, *, use_points: bool, device: str, steps: int | None, seed: int,
               config: MarkerConfig) -> tuple[float, FrozenProbe, float, float]:
    from .backbone import pretrained_backbone

    device_ = resolve_device(device)
    torch.manual_seed(seed)
    probe = FrozenProbe(pretrained_backbone(device=device_), num_classes=2).to(device_)
    feats, labels = {}, {}
    for split, n, split_seed in (("train", config.n_train, seed), ("test", config.n_test, seed + 10_000)):
        scenes = two_region_scenes(n, seed=split_seed)
        images = with_red_circle(scenes) if prompted and not use_points else scenes.images
        points = scenes.marked_centre() / images.shape[-1] if prompted and use_points else None
        with torch.no_grad():
            feats[split] = torch.cat([
                probe.features(images[i : i + 500].to(device_), None if points is None else points[i : i + 500].to(device_),
                               pool="points" if use_points else "token")
                for i in range(0, n, 500)])
        labels[split] = scenes.labels.to(device_)
    start = time.perf_counter()
    steps = steps or config.steps
    fit_head(probe.head, feats["train"], labels["train"], steps=steps, lr=config.lr)
    train_seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (probe.head(feats["test"]).argmax(-1) == labels["test"]).float().mean().item()
    return accuracy, probe, train_seconds, 1000.0 * train_seconds / steps


def _run_demo(name: str, *, use_points: bool, device: str, steps: int | None, seed: int) -> RunResult:
    start = time.perf_counter()
    config = MarkerConfig()
    accuracy, probe, _, step_ms = _run_probe(name, True, use_points=use_points, device=device, steps=steps,
                                             seed=seed, config=config)
    control, _, _, _ = _run_probe(name, False, use_points=use_points, device=device, steps=steps, seed=seed,
                                  config=config)
    trainable, backbone_params = count_parameters(probe.head), count_parameters(probe.backbone)
    return RunResult(
        name=name, accuracy=accuracy, trainable_params=trainable, backbone_params=backbone_params,
        trainable_percent=100.0 * trainable / backbone_params, seconds=time.perf_counter() - start,
        step_ms=step_ms, peak_mem_mb=None,
        extra={"task": "two-object scenes: shape of the marked object", "chance": 0.5,
               "accuracy_without_prompt": control, "prompt_parameters": 0},
    )


def run_red_circle_marker(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return _run_demo("red-circle-marker", use_points=False, device=device, steps=steps, seed=seed)


def run_fourier_point_prompt(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return _run_demo("fourier-point-prompt", use_points=True, device=device, steps=steps, seed=seed)


RUNNERS = {"red-circle-marker": run_red_circle_marker, "fourier-point-prompt": run_fourier_point_prompt}
