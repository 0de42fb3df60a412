"""VP-Learnable: one learned pixel pattern shared by every input, read out through the frozen
source classifier by output label mapping.

Papers and official code this module follows:
  Bahng, Jahanian, Sankaranarayanan, Isola 2022, "Exploring Visual Prompts for Adapting
    Large-Scale Models", arXiv 2203.17274, https://github.com/hjbahng/visual_prompting
    (models/prompters.py): PadPrompter, FixedPatchPrompter, RandomPatchPrompter. The prompt is
    added to the NORMALISED image, as in the official code (normalise, then prompt).
  Chen et al. 2023 (CVPR), "Understanding and Improving Visual Prompting: A Label-Mapping
    Perspective", arXiv 2211.11635, https://github.com/OPTML-Group/ILM-VP
    (algorithms/flm_calculation.py): frequency label mapping (FLM, computed once with the initial
    prompt) and iterative label mapping (ILM, recomputed at the start of every epoch). Each target
    class goes to the source class its training images are most often predicted as, greedily and
    one-to-one (largest count first, then that row and column are struck out).
  Cho, Kim, Choi, Choo 2024 (ACM MM), "Training Spatial-Frequency Visual Prompts and Probabilistic
    Clusters for Accurate Black-Box Transfer Learning", arXiv 2408.07944: a prompt that lives in
    the low-frequency band of the image spectrum (no official repository found).

Run:  python -m reference_impls run pad-prompter [--device cuda] [--steps 300]
      (also pad-prompter-flm, fixed-patch-prompter, random-patch-prompter, frequency-prompter)
The frozen TinyViT, its 10-way source head included, is adapted to data.DOWNSTREAM
("texture-side", 10 classes: texture x left/right half) through the one-to-one label mapping;
nothing in the backbone trains, only the prompt. extra["no_prompt_accuracy"] is the same frozen
classifier and FLM with no prompt at all.

Departures from the papers:
  - 32x32 images, pad width 4 px, patches 8 px (Bahng et al.: 224 px, width 30; the 224/30 count
    of 69,840 parameters is checked in tests/reference_impls/test_vp_learnable.py).
  - Prompts start at zero (ILM-VP's init; Bahng et al. draw them from N(0, 1), which trained
    worse here). Optimiser: Adam, lr 0.2, cosine decay, 300 steps of random batches of 64, for
    every prompter (Bahng et al.: SGD, lr 40, warm-up; ILM-VP: Adam 0.01, multi-step decay); an
    ILM "epoch" is len(train) // batch_size steps.
  - ILM-VP puts the target image inside a larger learned frame (padding the image); here the
    prompt is added onto the 32x32 image, as in Bahng et al.
  - RandomPatchPrompter draws one location per forward call from torch's global generator (the
    official code uses numpy), so runs are reproducible through torch.manual_seed. It draws among
    all image_size - patch + 1 offsets per axis; the official np.random.choice(isize - psize)
    never places the patch at the last offset (touching the right or bottom edge), an
    off-by-one we do not copy.
  - FrequencyPrompter: Cho et al. generate a DCT low-frequency prompt with a decoder; here it is a
    single learned complex perturbation of the low-frequency band of rfft2 (no generator, no DCT).
    Because the FFT is linear this equals adding a smooth full-image pattern, but parameterised
    by 3*(2r+1)*(r+1)*2 numbers (270 for r=4) instead of 3*H*W.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .data import DOWNSTREAM, MEAN, STD, Task, load_task
from .engine import RunResult, evaluate, resolve_device, run_result


@dataclass(frozen=True)
class VPConfig:
    task: str = DOWNSTREAM
    prompt_size: int = 4  # pad width or patch side, pixels
    freq_radius: int = 4  # FrequencyPrompter: band half-width in FFT bins
    steps: int = 300
    lr: float = 0.2
    batch_size: int = 64
    init_std: float = 0.0  # prompts start at zero (ILM-VP); Bahng et al. start from N(0, 1)


def input_size(backbone: nn.Module) -> tuple[int, int]:
    """(H, W) the backbone's patch embedding expects; works for TinyViT and timm ViTs."""
    pe = backbone.patch_embed
    if getattr(pe, "img_size", None) is not None:
        return tuple(pe.img_size)
    return (pe.grid_size[0] * pe.patch_size[0], pe.grid_size[1] * pe.patch_size[1])


# --- Prompters: normalised image [B, 3, H, W] -> prompted normalised image -------------------


class PadPrompter(nn.Module):
    """A learned frame of width `pad` around the image (Bahng et al.'s best prompt)."""

    def __init__(self, *, image_size: int, pad: int, init_std: float = 1.0) -> None:
        super().__init__()
        assert 0 < 2 * pad < image_size, f"pad {pad} must be positive and leave an interior in {image_size} px"
        self.base = image_size - 2 * pad
        self.pad_up = nn.Parameter(init_std * torch.randn(1, 3, pad, image_size))
        self.pad_down = nn.Parameter(init_std * torch.randn(1, 3, pad, image_size))
        self.pad_left = nn.Parameter(init_std * torch.randn(1, 3, self.base, pad))
        self.pad_right = nn.Parameter(init_std * torch.randn(1, 3, self.base, pad))

    def prompt(self) -> Tensor:
        centre = self.pad_left.new_zeros(1, 3, self.base, self.base)  # the image itself is untouched
        middle = torch.cat([self.pad_left, centre, self.pad_right], dim=3)
        return torch.cat([self.pad_up, middle, self.pad_down], dim=2)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.prompt()


class FixedPatchPrompter(nn.Module):
    """A learned square patch added at the top-left corner."""

    def __init__(self, *, image_size: int, patch: int, init_std: float = 1.0) -> None:
        super().__init__()
        assert 0 < patch <= image_size, f"patch {patch} must fit in {image_size} px"
        self.image_size = image_size
        self.patch = nn.Parameter(init_std * torch.randn(1, 3, patch, patch))

    def forward(self, x: Tensor) -> Tensor:
        rest = self.image_size - self.patch.shape[-1]
        return x + F.pad(self.patch, (0, rest, 0, rest))


class RandomPatchPrompter(FixedPatchPrompter):
    """The same learned patch, at a random location for each forward call (one per batch)."""

    def forward(self, x: Tensor) -> Tensor:
        rest = self.image_size - self.patch.shape[-1]
        top, left = torch.randint(0, rest + 1, (2,)).tolist()  # global generator: seeded runs repeat
        return x + F.pad(self.patch, (left, rest - left, top, rest - top))


class FrequencyPrompter(nn.Module):
    """A learned complex perturbation added to the low-frequency band of each channel's spectrum.

    The band is |k_y| <= r and 0 <= k_x <= r in rfft2 layout (rows 0..r and H-r..H-1). A few
    coefficients of the k_x = 0 column are redundant under Hermitian symmetry; kept for clarity.
    """

    def __init__(self, *, image_size: int, radius: int, init_std: float = 0.0) -> None:
        super().__init__()
        assert 0 < radius < image_size // 2, f"radius {radius} must be below half of {image_size}"
        self.image_size = image_size
        rows = torch.cat([torch.arange(radius + 1), torch.arange(image_size - radius, image_size)])
        self.register_buffer("rows", rows, persistent=False)
        # (real, imag) pairs; zero init makes the untrained prompter the identity.
        self.band = nn.Parameter(init_std * torch.randn(3, 2 * radius + 1, radius + 1, 2))

    def forward(self, x: Tensor) -> Tensor:
        size = self.image_size
        # norm="ortho" keeps energies equal in both domains (Parseval), so the band is on the same
        # overall scale as a pixel prompt and suits a similar learning rate.
        spectrum = torch.fft.rfft2(x.float(), norm="ortho")  # [B, 3, H, W//2+1], complex
        delta = spectrum.new_zeros(3, size, size // 2 + 1)
        delta[:, self.rows, : self.band.shape[2]] = torch.view_as_complex(self.band)
        return torch.fft.irfft2(spectrum + delta, s=(size, size), norm="ortho").to(x.dtype)


# --- Output label mapping ----------------------------------------------------------------------


class LabelMapping(nn.Module):
    """Target logit t = source logit mapping[t]; the frozen source head is reused, nothing trains."""

    def __init__(self, *, num_source: int, num_target: int) -> None:
        super().__init__()
        if num_target > num_source:
            raise ValueError(f"one-to-one label mapping needs num_target ({num_target}) <= num_source ({num_source})")
        self.register_buffer("mapping", torch.arange(num_target))

    def forward(self, source_logits: Tensor) -> Tensor:
        return source_logits[:, self.mapping]


def one_to_one_mapping(counts: Tensor) -> Tensor:
    """Greedy assignment on counts[source, target]: repeatedly take the largest entry, then strike
    out its row and column. Returns mapping[target] = source (ILM-VP's frequency mapping)."""
    counts = counts.detach().double().cpu().clone()
    num_source, num_target = counts.shape
    assert num_target <= num_source, "more target classes than source classes"
    mapping = torch.empty(num_target, dtype=torch.long)
    for _ in range(num_target):
        source, target = divmod(int(counts.argmax()), num_target)  # ties: lowest index, deterministic
        mapping[target] = source
        counts[source, :] = -1
        counts[:, target] = -1
    return mapping


class PromptedClassifier(nn.Module):
    """images in [0,1] -> normalise -> prompter -> frozen backbone (with its head) -> label mapping."""

    def __init__(self, backbone: nn.Module, prompter: nn.Module, *, num_classes: int,
                 mean: tuple[float, ...] = MEAN, std: tuple[float, ...] = STD) -> None:
        super().__init__()
        self.backbone = backbone.requires_grad_(False).eval()
        self.prompter = prompter
        self.label_mapping = LabelMapping(num_source=backbone.num_classes, num_target=num_classes)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> PromptedClassifier:
        super().train(mode)
        self.backbone.eval()  # the backbone stays frozen in every mode
        return self

    def source_logits(self, images: Tensor) -> Tensor:
        return self.backbone(self.prompter((images - self.mean) / self.std))

    def forward(self, images: Tensor) -> Tensor:
        return self.label_mapping(self.source_logits(images))

    @torch.no_grad()
    def remap(self, images: Tensor, labels: Tensor, *, batch_size: int = 500) -> Tensor:
        """Recompute the label mapping from how the prompted model classifies (images, labels)."""
        device = self.mean.device
        num_source, num_target = self.backbone.num_classes, len(self.label_mapping.mapping)
        counts = torch.zeros(num_source, num_target)
        for start in range(0, len(labels), batch_size):
            predicted = self.source_logits(images[start : start + batch_size].to(device)).argmax(-1).cpu()
            counts.index_put_((predicted, labels[start : start + batch_size]), torch.ones(len(predicted)),
                              accumulate=True)
        mapping = one_to_one_mapping(counts)
        self.label_mapping.mapping.copy_(mapping)
        return mapping


def train_with_label_mapping(model: PromptedClassifier, task: Task, *, steps: int, lr: float,
                             batch_size: int = 64, device: str | torch.device = "cpu", seed: int = 0,
                             remap_every: int | None = None) -> list[float]:
    """Adam + cosine on cross-entropy of the mapped logits. The mapping is computed before the
    first step (FLM) and, if remap_every is set, again every remap_every steps (ILM)."""
    device = resolve_device(device)
    x_all, y_all = task.train
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    assert params, "the model has no trainable parameters"
    optimizer = torch.optim.Adam(params, lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    losses = []
    for step in range(steps):
        if step == 0 or (remap_every and step % remap_every == 0):
            model.remap(x_all, y_all)
        idx = torch.randint(0, len(y_all), (batch_size,), generator=gen)
        loss = F.cross_entropy(model(x_all[idx].to(device)), y_all[idx].to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    return losses


# --- Runners -----------------------------------------------------------------------------------


def run_label_mapped_prompt(name: str, make_prompter: Callable[[int, VPConfig], nn.Module], *,
                            mapping: str = "ilm", device: str = "cpu", steps: int | None = None,
                            seed: int = 0, config: VPConfig = VPConfig()) -> RunResult:
    """Adapt the frozen pretrained backbone (head included) to config.task with one prompter."""
    from .backbone import pretrained_backbone  # local: keeps importing this module cheap

    assert mapping in ("flm", "ilm"), f"mapping must be 'flm' or 'ilm', not {mapping!r}"
    device_ = resolve_device(device)
    steps = steps or config.steps
    task = load_task(config.task)
    torch.manual_seed(seed)
    backbone = pretrained_backbone(device=device_)
    model = PromptedClassifier(backbone, make_prompter(input_size(backbone)[0], config),
                               num_classes=task.num_classes).to(device_)
    # Reference: the same frozen classifier and FLM with no prompt at all.
    bare = PromptedClassifier(backbone, nn.Identity(), num_classes=task.num_classes).to(device_)
    bare.remap(*task.train)
    no_prompt_accuracy = evaluate(bare, task, device=device_)

    if device_.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device_)
    start = time.perf_counter()
    epoch = len(task.train[1]) // config.batch_size
    losses = train_with_label_mapping(model, task, steps=steps, lr=config.lr, batch_size=config.batch_size,
                                      device=device_, seed=seed, remap_every=epoch if mapping == "ilm" else None)
    if device_.type == "cuda":
        torch.cuda.synchronize(device_)
    train_seconds = time.perf_counter() - start
    accuracy = evaluate(model, task, device=device_)
    return run_result(
        name, model, backbone, accuracy=accuracy, seconds=time.perf_counter() - start,
        train_seconds=train_seconds, steps=steps, device=device_,
        extra={"task": config.task, "steps": steps, "lr": config.lr, "label_mapping": mapping,
               "no_prompt_accuracy": no_prompt_accuracy, "mapping": model.label_mapping.mapping.tolist(),
               "final_loss": losses[-1]},
    )


def run_pad_prompter(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return run_label_mapped_prompt("pad-prompter", lambda s, c: PadPrompter(image_size=s, pad=c.prompt_size, init_std=c.init_std),
                                   device=device, steps=steps, seed=seed)


def run_pad_prompter_flm(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return run_label_mapped_prompt("pad-prompter-flm", lambda s, c: PadPrompter(image_size=s, pad=c.prompt_size, init_std=c.init_std),
                                   mapping="flm", device=device, steps=steps, seed=seed)


def run_fixed_patch_prompter(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return run_label_mapped_prompt("fixed-patch-prompter",
                                   lambda s, c: FixedPatchPrompter(image_size=s, patch=2 * c.prompt_size, init_std=c.init_std),
                                   device=device, steps=steps, seed=seed)


def run_random_patch_prompter(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return run_label_mapped_prompt("random-patch-prompter",
                                   lambda s, c: RandomPatchPrompter(image_size=s, patch=2 * c.prompt_size, init_std=c.init_std),
                                   device=device, steps=steps, seed=seed)


def run_frequency_prompter(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return run_label_mapped_prompt("frequency-prompter",
                                   lambda s, c: FrequencyPrompter(image_size=s, radius=c.freq_radius, init_std=c.init_std),
                                   device=device, steps=steps, seed=seed)


RUNNERS = {
    "pad-prompter": run_pad_prompter,
    "pad-prompter-flm": run_pad_prompter_flm,
    "fixed-patch-prompter": run_fixed_patch_prompter,
    "random-patch-prompter": run_random_patch_prompter,
    "frequency-prompter": run_frequency_prompter,
}
