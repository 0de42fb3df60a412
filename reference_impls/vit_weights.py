"""The frozen backbone a user names: `--model NAME [--weights FILE]`, and a fingerprint of its weights.

Names:
  tiny-vit                 the bundled TinyViT (backbone.py); without --weights, its cached
                           source-pretrained weights (pretrained on first use, about a minute)
  vit_{tiny,small,base,large}_patch16_224
                           timm's ViT shapes. With timm installed, timm builds them; without it,
                           TinyViT builds the same architecture under the same parameter names, so
                           a timm state dict loads into either, and the fingerprint is the same
  any other timm name      needs timm (and a ViT with timm's attribute names)

Weights come only from a local file (`.safetensors`, or a `.pt`/`.pth`/`.bin` state dict, possibly
under a "model" or "state_dict" key); nothing is downloaded. The head's size is read from the
file (`head.weight`; none means a headless model). When `image_size` differs from the model's,
the position table is resampled (bicubic over the patch grid, as timm does), after fingerprinting.

The fingerprint is a SHA-256 over every tensor's name, dtype, shape and bytes, in name order: a
prompt is only meaningful on the exact weights it was trained with, and `evaluate` refuses others.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .data import MEAN, STD
from .tiny_vit import TinyViT

BUNDLED = "tiny-vit"
# timm's ViT shapes (timm/models/vision_transformer.py) and their default normalisation.
TIMM_SHAPES = {
    "vit_tiny_patch16_224": dict(embed_dim=192, depth=12, num_heads=3),
    "vit_small_patch16_224": dict(embed_dim=384, depth=12, num_heads=6),
    "vit_base_patch16_224": dict(embed_dim=768, depth=12, num_heads=12),
    "vit_large_patch16_224": dict(embed_dim=1024, depth=24, num_heads=16),
}
TIMM_MEAN = TIMM_STD = (0.5, 0.5, 0.5)


class WeightsError(ValueError):
    """A problem with --model/--weights; str() is one line naming the file."""


@dataclass
class Backbone:
    module: nn.Module  # in eval mode, on the requested device
    model: str
    weights: str | None  # absolute path, or None for the bundled pretrained weights
    fingerprint: str
    image_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    num_parameters: int
    num_bytes: int  # of its state dict: what storing the backbone costs


def fingerprint(state: dict[str, Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy())
    return "sha256:" + digest.hexdigest()


def read_state_dict(path: str | os.PathLike) -> dict[str, Tensor]:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such file")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(path)
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # safetensors, pickle and zip errors have no common base class
        if path.suffix == ".safetensors":
            reason = str(error).strip() or type(error).__name__
        else:  # torch.load's message is paragraphs of advice; its type says what went wrong
            reason = f"torch.load with weights_only=True failed: {type(error).__name__}"
        raise WeightsError(f"{path}: cannot read as a state dict ({reason.splitlines()[0]})") from None
    for key in ("model", "state_dict"):  # training checkpoints often nest the weights
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not state or not all(isinstance(v, Tensor) for v in state.values()):
        raise WeightsError(f"{path}: not a state dict (a mapping of parameter names to tensors)")
    return state


def resample_positions(pos_embed: Tensor, *, num_prefix: int, grid: tuple[int, int]) -> Tensor:
    """[1, prefix + h*w, D] -> [1, prefix + grid, D]: bicubic over the square patch grid."""
    prefix, patches = pos_embed[:, :num_prefix], pos_embed[:, num_prefix:]
    side = int(round(patches.shape[1] ** 0.5))
    assert side * side == patches.shape[1], "position table is not a square grid"
    table = patches.reshape(1, side, side, -1).permute(0, 3, 1, 2).float()
    table = F.interpolate(table, size=grid, mode="bicubic", align_corners=False)
    table = table.permute(0, 2, 3, 1).reshape(1, grid[0] * grid[1], -1).to(pos_embed.dtype)
    return torch.cat([prefix, table], dim=1)


def _tiny_vit(config: dict, num_classes: int) -> TinyViT:
    if config["img_size"] % config["patch_size"]:
        raise WeightsError(f"--image-size {config['img_size']}: must be a multiple of the patch size "
                           f"{config['patch_size']}")
    return TinyViT(**config, num_classes=num_classes)


def _build(model: str, num_classes: int, image_size: int | None) -> tuple[nn.Module, tuple, tuple]:
    """An untrained module of the named architecture, its normalisation mean and std."""
    if model == BUNDLED:
        from .backbone import ModelConfig  # local: only this name needs the pretraining module

        config = {k: v for k, v in vars(ModelConfig()).items() if k != "num_classes"}
        config["img_size"] = image_size or config["img_size"]
        return _tiny_vit(config, num_classes), MEAN, STD
    if importlib.util.find_spec("timm") is not None:
        import timm

        if timm.is_model(model):
            extra = {"img_size": image_size} if image_size else {}
            vit = timm.create_model(model, pretrained=False, num_classes=num_classes, **extra)
            cfg = getattr(vit, "pretrained_cfg", None) or {}
            return vit, tuple(cfg.get("mean", TIMM_MEAN)), tuple(cfg.get("std", TIMM_STD))
    if model in TIMM_SHAPES:
        config = dict(img_size=image_size or 224, patch_size=16, pos_embed_init="trunc_normal", **TIMM_SHAPES[model])
        return _tiny_vit(config, num_classes), TIMM_MEAN, TIMM_STD
    known = ", ".join([BUNDLED, *TIMM_SHAPES])
    hint = "" if importlib.util.find_spec("timm") else "; other names need timm (pip install timm)"
    raise WeightsError(f"--model {model}: unknown model (built in: {known}{hint})")


def _check_fit(path: Path, model: str, module: nn.Module, state: dict[str, Tensor]) -> None:
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [f"{k} {list(state[k].shape)} vs {list(expected[k].shape)}" for k in sorted(set(state) & set(expected))
              if state[k].shape != expected[k].shape]
    problems = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes)):
        if items:
            problems.append(f"{len(items)} {label} ({', '.join(items[:3])}{', ...' if len(items) > 3 else ''})")
    if problems:
        raise WeightsError(f"{path}: does not fit --model {model}: {'; '.join(problems)}")


def load_backbone(model: str = BUNDLED, weights: str | os.PathLike | None = None, *, image_size: int | None = None,
                  mean: tuple[float, ...] | None = None, std: tuple[float, ...] | None = None,
                  device: str | torch.device = "cpu") -> Backbone:
    """Build `model`, load `weights` (or the bundled pretrained ones), fingerprint, move to `device`."""
    if weights is None:
        if model != BUNDLED:
            raise WeightsError(f"--model {model} needs --weights FILE (a local state dict; nothing is downloaded)")
        from .backbone import pretrained_backbone

        state, path = pretrained_backbone().state_dict(), None
    else:
        path = Path(weights).resolve()
        state = read_state_dict(path)
    print_name = str(path) if path else f"the bundled {BUNDLED} weights"
    num_classes = state["head.weight"].shape[0] if "head.weight" in state else 0
    module, default_mean, default_std = _build(model, num_classes, image_size)
    for attribute in ("patch_embed", "blocks", "num_prefix_tokens"):
        if not hasattr(module, attribute):
            raise WeightsError(f"--model {model}: not a ViT with timm's attribute names (no {attribute})")
    digest = fingerprint(state)
    grid = module.patch_embed.grid_size
    if "pos_embed" in state and state["pos_embed"].shape != module.pos_embed.shape:
        if state["pos_embed"].shape[-1] == module.pos_embed.shape[-1]:  # same width: another image size
            state = {**state, "pos_embed": resample_positions(state["pos_embed"], num_prefix=module.num_prefix_tokens,
                                                              grid=tuple(grid))}
    _check_fit(Path(print_name), model, module, state)
    module.load_state_dict(state)
    ph, pw = module.patch_embed.patch_size
    return Backbone(
        module=module.to(device).eval(), model=model, weights=str(path) if path else None, fingerprint=digest,
        image_size=grid[0] * ph, mean=tuple(mean or default_mean), std=tuple(std or default_std),
        num_parameters=sum(t.numel() for t in state.values()),
        num_bytes=sum(t.numel() * t.element_size() for t in state.values()),
    )
