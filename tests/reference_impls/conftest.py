"""Shared fixtures for the reference implementation tests.

Mechanism tests (shapes, gradients, freezing, fidelity to the papers) use a small randomly
initialised TinyViT: they need timm's structure, not good weights. Tests that need features that
mean something use `small_pretrained`, a 2-block TinyViT pretrained for a few seconds on the
source task and cached like the real backbone (its cache key differs, so both coexist).
"""

from __future__ import annotations

import pytest
import torch

from reference_impls.backbone import ModelConfig, PretrainConfig, pretrained_backbone
from reference_impls.data import Task, load_task
from reference_impls.tiny_vit import TinyViT

CUDA = pytest.param(
    "cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")]
)
DEVICES = ["cpu", CUDA]

SMALL_PRETRAIN = PretrainConfig(model=ModelConfig(embed_dim=32, depth=2, num_heads=2), steps=60, batch_size=64)


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def small_vit() -> TinyViT:
    """A random 3-block TinyViT (dim 32) in eval mode; fresh for every test."""
    torch.manual_seed(0)
    return TinyViT(embed_dim=32, depth=3, num_heads=2).eval()


@pytest.fixture(scope="session")
def small_pretrained_state() -> dict[str, torch.Tensor]:
    return pretrained_backbone(config=SMALL_PRETRAIN).state_dict()


@pytest.fixture
def small_pretrained(small_pretrained_state: dict[str, torch.Tensor]) -> TinyViT:
    """A fresh copy of the briefly pretrained 2-block TinyViT, in eval mode."""
    vit = TinyViT(**SMALL_PRETRAIN.model.__dict__)
    vit.load_state_dict(small_pretrained_state)
    return vit.eval()


@pytest.fixture(scope="session")
def tiny_task() -> Task:
    """128 training images of the downstream task: enough for a loss to fall in a few steps."""
    task = load_task("texture-side")
    x, y = task.train
    return Task(name="tiny", num_classes=task.num_classes, train=(x[:128], y[:128]), test=(x[:128], y[:128]))
