"""VP-Generated: the BlackVIP-style coordinator, trained by backprop and by black-box SPSA-GC."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from reference_impls.backbone import pretrained_backbone
from reference_impls.data import Task, normalize
from reference_impls.engine import count_parameters, train
from reference_impls.vp_generated import (
    BlackBox,
    Coordinator,
    SPSAConfig,
    spsa_gradient,
    train_spsa_gc,
)
from reference_impls.vp_learnable import PromptedClassifier


@pytest.fixture
def source_vit() -> torch.nn.Module:
    """A fresh copy of the package's source-pretrained backbone (on-disk cache; trained on first use)."""
    return pretrained_backbone()


def first(task: Task, n: int) -> Task:
    return Task(task.name, task.num_classes, (task.train[0][:n], task.train[1][:n]), (task.test[0][:n], task.test[1][:n]))


class NoGradientBackbone(nn.Module):
    """Raises if it is ever called with autograd on: proof that a trainer is forward-only."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.num_classes, self.calls = inner, inner.num_classes, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() or x.requires_grad:
            raise AssertionError("the black-box backbone was called with gradients enabled")
        self.calls += 1
        return self.inner(x)


def test_coordinator_is_small_starts_as_identity_and_stays_in_range():
    coordinator = Coordinator(image_size=32)
    assert 100 < count_parameters(coordinator, trainable_only=True) < 5000  # small enough for SPSA
    assert all(not p.requires_grad for p in coordinator.encoder.parameters())
    x = normalize(torch.rand(4, 3, 32, 32))
    assert torch.allclose(coordinator(x), x)  # zero-initialised last layer: no prompt yet
    with torch.no_grad():
        coordinator.decoder[-1].weight.normal_(0, 5.0)
    out = coordinator(x)
    assert not torch.allclose(out, x)
    assert torch.all(out >= coordinator.low - 1e-6) and torch.all(out <= coordinator.high + 1e-6)
    assert not torch.allclose(coordinator.prompt(x[:1]), coordinator.prompt(x[1:2]))  # image-conditioned


def test_backprop_training_reaches_only_the_coordinator(device, source_vit, tiny_task):
    backbone = source_vit.to(device)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    torch.manual_seed(0)
    model = PromptedClassifier(backbone, Coordinator(image_size=32), num_classes=10).to(device)
    logits = model(torch.rand(5, 3, 32, 32, device=device))
    assert logits.shape == (5, 10) and torch.isfinite(logits).all()
    nn.functional.cross_entropy(logits, torch.arange(5, device=device)).backward()
    assert all(p.grad is None for p in backbone.parameters())
    assert all(p.grad is None for p in model.prompter.encoder.parameters())
    assert model.prompter.decoder[-1].weight.grad.abs().sum() > 0
    model.zero_grad()
    losses = train(model, first(tiny_task, 32), steps=20, lr=5e-2, batch_size=32, device=device)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items())


def test_spsa_is_forward_only_and_counts_queries_exactly(device, small_vit, tiny_task):
    backbone = small_vit.to(device)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    guarded = NoGradientBackbone(backbone)
    box = BlackBox(guarded)
    torch.manual_seed(0)
    model = PromptedClassifier(box, Coordinator(image_size=32), num_classes=10).to(device)
    w0 = [p.detach().clone() for p in model.parameters() if p.requires_grad]
    config = SPSAConfig(steps=3, batch_size=8, num_perturbations=2, a=1.0, c=0.05)
    losses = train_spsa_gc(model, tiny_task, config=config, device=device)
    assert box.queries == guarded.calls == 3 * 2 * 2 and box.images == 3 * 2 * 2 * 8
    assert len(losses) == 3 and all(torch.isfinite(torch.tensor(losses)))
    assert all(p.grad is None for p in backbone.parameters())
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items())
    assert any(not torch.equal(a, p) for a, p in zip(w0, (p for p in model.parameters() if p.requires_grad),
                                                     strict=True))
    with torch.enable_grad():  # even with autograd on, the black box refuses to build a graph
        out = box(torch.rand(2, 3, 32, 32, device=device, requires_grad=True))
    assert not out.requires_grad


def test_spsa_estimate_points_along_the_true_gradient():
    torch.manual_seed(0)
    target = torch.randn(200)
    w = torch.zeros(200)

    def loss_at(v: torch.Tensor) -> torch.Tensor:
        return ((v - target) ** 2).sum()

    for kind in ("segmented", "rademacher"):
        g_hat, _ = spsa_gradient(loss_at, w, 0.01, num_perturbations=400, kind=kind,
                                 generator=torch.Generator().manual_seed(0))
        true = 2 * (w - target)
        cosine = torch.nn.functional.cosine_similarity(g_hat, true, dim=0)
        assert cosine > 0.6, f"{kind}: cosine {cosine:.2f}"


def test_spsa_lowers_the_loss_on_a_fixed_batch(source_vit, tiny_task):
    torch.manual_seed(0)
    model = PromptedClassifier(BlackBox(source_vit), Coordinator(image_size=32), num_classes=10)
    task = first(tiny_task, 16)
    losses = train_spsa_gc(model, task, config=SPSAConfig(steps=20, batch_size=16, a=0.2, c=0.05,
                                                         num_perturbations=2))
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5


def test_same_seed_same_result(small_vit, tiny_task):
    def once() -> torch.Tensor:
        torch.manual_seed(1)
        model = PromptedClassifier(BlackBox(copy.deepcopy(small_vit)), Coordinator(image_size=32), num_classes=10)
        train_spsa_gc(model, tiny_task, config=SPSAConfig(steps=3, batch_size=8, num_perturbations=2), seed=5)
        return torch.nn.utils.parameters_to_vector(p for p in model.parameters() if p.requires_grad)

    assert torch.equal(once(), once())
