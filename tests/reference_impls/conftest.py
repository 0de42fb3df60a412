"""Shared fixtures for the reference implementation tests.

Mechanism tests (shapes, gradients, freezing, fidelity to the papers) use a small randomly
initialised TinyViT: they need timm's structure, not good weights, and need no pretraining. The
tests that do need the real source-pretrained backbone (test_tiny_vit.py's quality check and the
CLI `run` test) get it from the on-disk cache (backbone.py): about a minute on the first run.
"""

from __future__ import annotations

import pytest
import torch

from reference_impls.data import Task, load_task
from reference_impls.tiny_vit import TinyViT

CUDA = pytest.param(
    "cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")]
)
DEVICES = ["cpu", CUDA]

# The test models are tiny: intra-op threads buy nothing, and on a shared 2-core machine several
# torch processes each spinning 2 OpenMP threads ran these tests 10x slower (measured: 25 s vs 5 min).
torch.set_num_threads(1)


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def small_vit() -> TinyViT:
    """A random 3-block TinyViT (dim 32) in eval mode; fresh for every test."""
    torch.manual_seed(0)
    return TinyViT(embed_dim=32, depth=3, num_heads=2).eval()


@pytest.fixture(scope="session")
def tiny_task() -> Task:
    """128 training images of the downstream task: enough for a loss to fall in a few steps."""
    task = load_task("texture-side")
    x, y = task.train
    return Task(name="tiny", num_classes=task.num_classes, train=(x[:128], y[:128]), test=(x[:128], y[:128]))
