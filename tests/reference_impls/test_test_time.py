"""Test-time prompt tuning: confident views, marginal entropy, one step, reset per sample."""

from __future__ import annotations

import copy

import pytest
import torch

from reference_impls.backbone import pretrained_backbone
from reference_impls.test_time import (
    TPTAdapter,
    TPTConfig,
    augmented_views,
    entropy,
    marginal_entropy,
    select_confident,
)
from reference_impls.vp_learnable import PadPrompter, PromptedClassifier

CONFIG = TPTConfig(num_views=16, keep=0.25, lr=0.1)


@pytest.fixture
def source_vit() -> torch.nn.Module:
    """A fresh copy of the package's source-pretrained backbone (on-disk cache; trained on first use)."""
    return pretrained_backbone()


def prompted(backbone: torch.nn.Module) -> PromptedClassifier:
    return PromptedClassifier(backbone, PadPrompter(image_size=32, pad=4, init_std=0.0), num_classes=10)


def test_views_keep_the_image_first_and_stay_in_range():
    image = torch.rand(3, 32, 32)
    views = augmented_views(image, 8, generator=torch.Generator().manual_seed(0))
    assert views.shape == (8, 3, 32, 32) and torch.equal(views[0], image)
    assert views.min() >= 0 and views.max() <= 1 and not torch.allclose(views[1], image)


def test_confidence_selection_keeps_the_lowest_entropy_views():
    base = torch.randn(20, 10, generator=torch.Generator().manual_seed(0))
    sharpness = torch.randperm(20, generator=torch.Generator().manual_seed(1)).float() + 1
    logits = base * sharpness.unsqueeze(1)  # sharper rows have lower entropy
    chosen = select_confident(logits, 0.1)
    assert len(chosen) == 2
    assert set(chosen.tolist()) == set(entropy(logits).argsort()[:2].tolist())
    assert entropy(logits[chosen]).max() <= entropy(logits).sort().values[1] + 1e-6
    assert len(select_confident(logits, 0.01)) == 1  # never empty


def test_marginal_entropy_is_the_entropy_of_the_mean_prediction():
    logits = torch.randn(6, 5)
    mean_p = logits.softmax(-1).mean(0)
    assert torch.allclose(marginal_entropy(logits), -(mean_p * mean_p.log()).sum(), atol=1e-6)


def test_prompt_and_optimiser_are_reset_before_every_sample(source_vit, monkeypatch):
    model = prompted(source_vit)
    tuner = TPTAdapter(model, config=CONFIG)
    initial = [p.detach().clone() for p in tuner.params]
    seen = []
    original = tuner.tune

    def spy(views: torch.Tensor) -> list[float]:
        at_entry = all(torch.equal(p, p0) for p, p0 in zip(tuner.params, initial, strict=True))
        seen.append((at_entry, len(tuner.optimizer.state)))
        result = original(views)
        seen.append((all(torch.equal(p, p0) for p, p0 in zip(tuner.params, initial, strict=True)), None))
        return result

    monkeypatch.setattr(tuner, "tune", spy)
    logits = tuner.predict(torch.rand(3, 3, 32, 32))
    assert logits.shape == (3, 10) and torch.isfinite(logits).all()
    entries, exits = seen[0::2], seen[1::2]
    assert entries == [(True, 0)] * 3  # initial prompt, fresh optimiser, for every sample
    assert all(not unchanged for unchanged, _ in exits)  # ...and the step did change the prompt
    assert all(torch.equal(p, p0) for p, p0 in zip(tuner.params, initial, strict=True))  # reset at the end


def test_one_step_lowers_the_objective_and_touches_only_the_prompt(device, source_vit):
    backbone = source_vit.to(device)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    model = prompted(backbone).to(device)
    tuner = TPTAdapter(model, config=TPTConfig(num_views=32, keep=0.25, lr=0.05))
    views = augmented_views(torch.rand(3, 32, 32, device=device), 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        selected = select_confident(model(views), 0.25)
    objective_before = tuner.tune(views)[0]
    with torch.no_grad():
        objective_after = marginal_entropy(model(views)[selected]).item()
    assert objective_after < objective_before
    assert all(p.grad is None for p in backbone.parameters())
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items()) and not backbone.training


def test_same_seed_same_result(source_vit):
    images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    a = TPTAdapter(prompted(copy.deepcopy(source_vit)), config=CONFIG, seed=4).predict(images)
    b = TPTAdapter(prompted(copy.deepcopy(source_vit)), config=CONFIG, seed=4).predict(images)
    assert torch.equal(a, b)
