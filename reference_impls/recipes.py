"""Every method `python -m reference_impls train` can run: how it wraps a backbone, and its defaults.

A recipe is the method module's own wrapper plus the settings its runner uses on the bundled
benchmark (learning rate, batch size, weight decay): the same code, pointed at your images.
VP-Fixed is absent (its markers need a point or box per image, which an image folder does not
have) and so is TPT (it tunes at test time; nothing is trained to save).

Label-mapped methods (the VP-Learnable prompters and BlackVIP) read their answer out of the
backbone's own classifier through a one-to-one label mapping, so they need a backbone with a
head of at least as many classes as the folder has (an ImageNet head has 1000).

Input statistics: every wrapper takes images in [0, 1] and normalises them with the bundled
backbone's statistics (data.MEAN, data.STD). For a backbone trained with other statistics,
`wrapper_inputs` maps [0, 1] images so that the wrapper's own normalisation yields exactly the
backbone's (x - mean) / std; pixel prompts are then still added in that normalised space.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .data import MEAN, STD
from .engine import FullFinetune, LinearProbe
from .vp_generated import BlackBox, Coordinator, GeneratedConfig, SPSAConfig
from .vp_learnable import (
    FixedPatchPrompter,
    FrequencyPrompter,
    PadPrompter,
    PromptedClassifier,
    RandomPatchPrompter,
    VPConfig,
)
from .vpt_generated import GeneratedPromptViT
from .vpt_generated import RunConfig as VPTGenConfig
from .vpt_learnable import KeyValuePromptedViT, PromptedViT
from .vpt_learnable import RunConfig as VPTConfig


class MethodError(ValueError):
    """A method that cannot run as asked; str() is one line."""


@dataclass(frozen=True)
class Settings:
    """Method settings a user may change; None means the method's default."""

    num_tokens: int | None = None  # VPT and VPT-Generated: prompt tokens per layer
    prompt_dropout: float | None = None  # VPT: dropout on prompt tokens
    prompt_size: int | None = None  # VP prompters: pad width or patch side, pixels


@dataclass(frozen=True)
class Recipe:
    name: str
    category: str
    build: Callable[..., nn.Module]  # (backbone, *, num_classes, image_size, mean, std, **settings) -> wrapper
    lr: float
    weight_decay: float = 0.0
    batch_size: int = 64
    trainer: str = "gradient"  # "gradient" (AdamW) or "spsa" (forward queries only)
    label_mapping: str | None = None  # "ilm": recomputed every epoch; "flm": once, before training
    settings: tuple[str, ...] = ()  # fields of Settings this method takes


def _label_mapped(backbone: nn.Module, prompter: nn.Module, num_classes: int, *, black_box: bool = False) -> nn.Module:
    source = getattr(backbone, "num_classes", 0)
    if source < num_classes:
        raise MethodError(f"this method reads out the backbone's own classifier through a label mapping, which "
                          f"needs at least {num_classes} classes; the backbone's head has {source}")
    return PromptedClassifier(BlackBox(backbone) if black_box else backbone, prompter, num_classes=num_classes)


def _prompter(kind: str) -> Callable[..., nn.Module]:
    def build(backbone, *, num_classes, image_size, mean, std, prompt_size=None):
        init = VPConfig.init_std
        if kind == "pad":
            pad = prompt_size or max(1, round(image_size * VPConfig.prompt_size / 32))  # 4 px at 32, 28 at 224
            if not 0 < 2 * pad < image_size:
                raise MethodError(f"--prompt-size {pad}: a pad must leave an interior in {image_size} px images")
            prompter = PadPrompter(image_size=image_size, pad=pad, init_std=init)
        elif kind == "frequency":
            prompter = FrequencyPrompter(image_size=image_size, radius=VPConfig.freq_radius, init_std=init)
        else:
            patch = prompt_size or max(1, round(image_size * 2 * VPConfig.prompt_size / 32))  # 8 px at 32
            if not 0 < patch <= image_size:
                raise MethodError(f"--prompt-size {patch}: the patch must fit in {image_size} px images")
            cls = FixedPatchPrompter if kind == "fixed" else RandomPatchPrompter
            prompter = cls(image_size=image_size, patch=patch, init_std=init)
        return _label_mapped(backbone, prompter, num_classes)

    return build


def _blackvip(black_box: bool) -> Callable[..., nn.Module]:
    def build(backbone, *, num_classes, image_size, mean, std):
        config = GeneratedConfig()
        if image_size % 4:
            raise MethodError(f"BlackVIP's coordinator paints 4x4 patches: --image-size {image_size} must be a multiple of 4")
        # The coordinator clips to the valid pixel range in the backbone's normalised units.
        coordinator = Coordinator(image_size=image_size, feature_channels=config.feature_channels,
                                  trigger_channels=config.trigger_channels, hidden=config.hidden, eps=config.eps,
                                  mean=mean, std=std)
        return _label_mapped(backbone, coordinator, num_classes, black_box=black_box)

    return build


def _vpt(deep: bool) -> Callable[..., nn.Module]:
    def build(backbone, *, num_classes, image_size, mean, std, num_tokens=None, prompt_dropout=None):
        return PromptedViT(backbone, num_classes=num_classes, num_tokens=num_tokens or 10, deep=deep,
                           dropout=prompt_dropout)

    return build


def _vpt_kv(backbone, *, num_classes, image_size, mean, std, num_tokens=None, prompt_dropout=None):
    extra = {} if prompt_dropout is None else {"dropout": prompt_dropout}
    return KeyValuePromptedViT(backbone, num_classes=num_classes, num_tokens=num_tokens or 10, **extra)


def _vpt_generated(deep: bool) -> Callable[..., nn.Module]:
    def build(backbone, *, num_classes, image_size, mean, std, num_tokens=None):
        return GeneratedPromptViT(backbone, num_classes=num_classes, num_tokens=num_tokens or 10, deep=deep)

    return build


def _baseline(cls: type) -> Callable[..., nn.Module]:
    def build(backbone, *, num_classes, image_size, mean, std):
        return cls(backbone, num_classes=num_classes)

    return build


_VP = dict(lr=VPConfig.lr, batch_size=VPConfig.batch_size, settings=("prompt_size",))
_TOKENS = ("num_tokens", "prompt_dropout")
RECIPES: dict[str, Recipe] = {r.name: r for r in (
    # The two baselines, with the settings of engine.run_linear_probe / run_full_finetune.
    Recipe("linear-probe", "baseline", _baseline(LinearProbe), lr=1e-2),
    Recipe("full-finetune", "baseline", _baseline(FullFinetune), lr=5e-4, weight_decay=0.05),
    Recipe("pad-prompter", "vp-learnable", _prompter("pad"), label_mapping="ilm", **_VP),
    Recipe("pad-prompter-flm", "vp-learnable", _prompter("pad"), label_mapping="flm", **_VP),
    Recipe("fixed-patch-prompter", "vp-learnable", _prompter("fixed"), label_mapping="ilm", **_VP),
    Recipe("random-patch-prompter", "vp-learnable", _prompter("random"), label_mapping="ilm", **_VP),
    Recipe("frequency-prompter", "vp-learnable", _prompter("frequency"), label_mapping="ilm", lr=VPConfig.lr),
    Recipe("blackvip-backprop", "vp-generated", _blackvip(False), lr=GeneratedConfig.backprop_lr, label_mapping="flm"),
    Recipe("blackvip-spsa", "vp-generated", _blackvip(True), lr=SPSAConfig.a, batch_size=SPSAConfig.batch_size,
           trainer="spsa", label_mapping="flm"),
    Recipe("vpt-shallow", "vpt-learnable", _vpt(False), lr=VPTConfig.lr, settings=_TOKENS),
    Recipe("vpt-deep", "vpt-learnable", _vpt(True), lr=VPTConfig.lr, settings=_TOKENS),
    Recipe("vpt-kv", "vpt-learnable", _vpt_kv, lr=VPTConfig.lr, settings=_TOKENS),
    Recipe("vpt-gen-shallow", "vpt-generated", _vpt_generated(False), lr=VPTGenConfig.lr, settings=("num_tokens",)),
    Recipe("vpt-gen-deep", "vpt-generated", _vpt_generated(True), lr=VPTGenConfig.lr, settings=("num_tokens",)),
)}


def build_model(recipe: Recipe, backbone: nn.Module, *, num_classes: int, image_size: int,
                mean: tuple[float, ...], std: tuple[float, ...], settings: Settings = Settings()) -> nn.Module:
    """The method's wrapper around `backbone`; raises MethodError for a setting it does not take."""
    given = {k: v for k, v in vars(settings).items() if v is not None}
    limits = {"num_tokens": lambda n: n >= 1, "prompt_dropout": lambda p: 0 <= p < 1, "prompt_size": lambda n: n >= 1}
    for key, value in given.items():
        flag = f"--{key.replace('_', '-')}"
        if key not in recipe.settings:
            raise MethodError(f"{flag} does not apply to {recipe.name}")
        if not limits[key](value):
            raise MethodError(f"{flag} {value}: out of range")
    return recipe.build(backbone, num_classes=num_classes, image_size=image_size, mean=mean, std=std, **given)


def resolved_settings(recipe: Recipe, model: nn.Module) -> dict:
    """The settings the built wrapper actually uses (defaults filled in), for config.json."""
    out: dict = {}
    if "num_tokens" in recipe.settings:
        out["num_tokens"] = getattr(model, "num_tokens", None) or model.key_prompts.shape[2]
    if "prompt_dropout" in recipe.settings:
        out["prompt_dropout"] = model.prompt_dropout.p
    if "prompt_size" in recipe.settings:
        prompter = model.prompter
        out["prompt_size"] = prompter.patch.shape[-1] if hasattr(prompter, "patch") else prompter.pad_up.shape[2]
    if recipe.label_mapping:
        out["label_mapping"] = recipe.label_mapping
    if recipe.trainer == "spsa":
        out["spsa"] = {k: v for k, v in vars(SPSAConfig()).items() if k not in ("steps", "batch_size", "a")}
    return out


def wrapper_inputs(images: Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> Tensor:
    """uint8 [B, 3, H, W] -> the [0, 1]-scaled input a wrapper expects (see the module docstring)."""
    x = images.float() / 255.0
    if tuple(mean) == tuple(MEAN) and tuple(std) == tuple(STD):
        return x
    m, s = torch.tensor(mean, device=x.device).view(1, 3, 1, 1), torch.tensor(std, device=x.device).view(1, 3, 1, 1)
    M, S = torch.tensor(MEAN, device=x.device).view(1, 3, 1, 1), torch.tensor(STD, device=x.device).view(1, 3, 1, 1)
    return M + S * (x - m) / s
