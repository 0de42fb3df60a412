"""The pretrained backbone every method adapts: a TinyViT trained once on the "source" task.

Prompt methods only make sense on a backbone whose features already mean something, so the
package pretrains its tiny ViT on the bundled source task (data.py, 10 textures).

One backbone, the same bytes everywhere. Pretraining runs under pinned settings (one intra-op
thread, deterministic algorithms, CPU) whatever the caller's thread count: a float reduction split
over two threads sums in another order, and the weights then differ by up to 0.2 after 400 steps,
which is enough to flip a method's result. The weights of the default configuration are shipped
in the package (weights/, 1.2 MB), so a fresh clone never pretrains; a test retrains and compares
them bit for bit. Any other configuration is pretrained on first use (1-2 minutes on two CPU
cores) and cached.

Cache: $REFERENCE_IMPLS_CACHE, else ~/.cache/awesome-pa/. The file name carries a hash of the
model config, the pretraining config and data.DATA_VERSION, so changing any of them retrains
instead of silently loading stale weights (the shipped file is named by the same hash). Writes
are atomic (temp file + rename), so two processes pretraining at once cannot leave a torn file.

    python -c "from reference_impls.backbone import pretrained_backbone; pretrained_backbone()"
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from .data import DATA_VERSION, load_task, normalize
from .loop import evaluate, train
from .tiny_vit import TinyViT


@dataclass(frozen=True)
class ModelConfig:
    img_size: int = 32
    patch_size: int = 4
    embed_dim: int = 64
    depth: int = 6
    num_heads: int = 4
    mlp_ratio: float = 4.0
    num_classes: int = 10
    pos_embed_init: str = "sincos"


@dataclass(frozen=True)
class PretrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    steps: int = 400  # ~4 epochs of the 6000 source images; 1-2 min on two CPU cores
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.05
    seed: int = 0


class _Normalized(nn.Module):
    """Lets engine.train (which feeds images in [0, 1]) drive the bare ViT."""

    def __init__(self, vit: TinyViT) -> None:
        super().__init__()
        self.vit = vit

    def forward(self, images: Tensor) -> Tensor:
        return self.vit(normalize(images))


SHIPPED_DIR = Path(__file__).resolve().parent / "weights"


def weights_name(config: PretrainConfig) -> str:
    key = json.dumps({"config": asdict(config), "data_version": DATA_VERSION}, sort_keys=True)
    return f"tiny_vit_source_{hashlib.sha256(key.encode()).hexdigest()[:12]}.pt"


def cache_path(config: PretrainConfig, cache_dir: str | os.PathLike | None = None) -> Path:
    root = Path(cache_dir or os.environ.get("REFERENCE_IMPLS_CACHE") or Path.home() / ".cache" / "awesome-pa")
    return root / weights_name(config)


@contextlib.contextmanager
def pinned_settings() -> Iterator[None]:
    """One intra-op thread and deterministic kernels for the duration; the caller's are restored."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)


def pretrain(config: PretrainConfig = PretrainConfig()) -> TinyViT:
    """Train a TinyViT from scratch on the source task: CPU, pinned settings, the same bytes every time."""
    with pinned_settings():
        torch.manual_seed(config.seed)
        vit = TinyViT(**asdict(config.model))
        train(_Normalized(vit), load_task("source"), steps=config.steps, lr=config.lr,
              batch_size=config.batch_size, seed=config.seed, weight_decay=config.weight_decay, device="cpu")
    return vit.eval()


def source_accuracy(vit: TinyViT, *, task: str = "source", device: str = "cpu") -> float:
    """Accuracy of the pretrained head on a task with the source label space ("source", "shifted")."""
    return evaluate(_Normalized(vit), load_task(task), device=device)


def pretrained_backbone(
    *,
    device: str | torch.device = "cpu",
    cache_dir: str | os.PathLike | None = None,
    config: PretrainConfig = PretrainConfig(),
) -> TinyViT:
    """A fresh TinyViT with the cached source-pretrained weights, on `device`, in eval mode.

    Each call returns a new module, so a method that mutates its copy cannot affect another.
    Parameters keep requires_grad=True (full fine-tuning needs them); use freeze() for methods.
    """
    shipped, path = SHIPPED_DIR / weights_name(config), cache_path(config, cache_dir)
    if shipped.exists():
        state = torch.load(shipped, map_location="cpu", weights_only=True)
    elif path.exists():
        state = torch.load(path, map_location="cpu", weights_only=True)
    else:
        state = pretrain(config).state_dict()
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
            torch.save(state, tmp)
        os.replace(tmp.name, path)
    vit = TinyViT(**asdict(config.model))
    vit.load_state_dict(state)
    return vit.to(device).eval()


def freeze(model: nn.Module) -> nn.Module:
    """No gradients and eval mode (dropout off). Returns the same module."""
    return model.requires_grad_(False).eval()
