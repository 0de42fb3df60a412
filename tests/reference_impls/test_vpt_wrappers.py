"""The wrapper contract, checked for every token-level method and the linear-probe baseline:
shapes, finite outputs, gradients only where they belong, a frozen backbone that stays frozen
(bit for bit, and in eval mode), a loss that falls, and determinism."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from reference_impls.data import Task
from reference_impls.engine import LinearProbe, count_parameters, train
from reference_impls.vpt_generated import GeneratedPromptViT
from reference_impls.vpt_learnable import KeyValuePromptedViT, PromptedViT

WRAPPERS: dict[str, Callable[[nn.Module], nn.Module]] = {
    "vpt-shallow": lambda vit: PromptedViT(vit, num_classes=10, num_tokens=5),
    "vpt-deep": lambda vit: PromptedViT(vit, num_classes=10, num_tokens=5, deep=True),
    "vpt-kv": lambda vit: KeyValuePromptedViT(vit, num_classes=10, num_tokens=5),
    "vpt-gen-shallow": lambda vit: GeneratedPromptViT(vit, num_classes=10, num_tokens=5),
    "vpt-gen-deep": lambda vit: GeneratedPromptViT(vit, num_classes=10, num_tokens=5, deep=True),
    "vpt-gen-deep-shared": lambda vit: GeneratedPromptViT(vit, num_classes=10, num_tokens=5, deep=True, shared=True),
    "linear-probe": lambda vit: LinearProbe(vit, num_classes=10),
}
wrapper_names = pytest.mark.parametrize("name", list(WRAPPERS))


def _backbone_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@wrapper_names
def test_output_shape_and_finite(name: str, small_vit: nn.Module, device: str) -> None:
    model = WRAPPERS[name](small_vit).to(device).train()
    logits = model(torch.rand(4, 3, 32, 32, device=device))
    assert logits.shape == (4, 10)
    assert torch.isfinite(logits).all()


@wrapper_names
def test_gradients_reach_only_prompt_and_head(name: str, small_vit: nn.Module, device: str) -> None:
    model = WRAPPERS[name](small_vit).to(device).train()
    F.cross_entropy(model(torch.rand(4, 3, 32, 32, device=device)), torch.arange(4, device=device)).backward()
    for pname, p in small_vit.named_parameters():
        assert not p.requires_grad and p.grad is None, f"backbone parameter {pname} got a gradient"
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(not n.startswith("vit.") and not n.startswith("backbone.") for n in trainable)
    for pname, p in trainable.items():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"{pname} got no gradient"
    assert count_parameters(model, trainable_only=True) == sum(p.numel() for p in trainable.values())


@wrapper_names
def test_backbone_frozen_bit_identical_and_in_eval_mode(
    name: str, small_vit: nn.Module, tiny_task, device: str
) -> None:
    before = _backbone_state(small_vit)
    model = WRAPPERS[name](small_vit)
    train(model, tiny_task, steps=3, lr=1e-2, batch_size=16, device=device)
    model.train()  # the wrapper is in train mode, its backbone must not be
    assert model.training
    assert not any(m.training for m in small_vit.modules()), "backbone left eval mode"
    after = small_vit.cpu().state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), "backbone weights changed"


@wrapper_names
def test_loss_falls(name: str, small_vit: nn.Module, tiny_task, device: str) -> None:
    torch.manual_seed(0)
    model = WRAPPERS[name](small_vit)
    x, y = tiny_task.train
    few = Task(name="few", num_classes=10, train=(x[:16], y[:16]), test=(x[:16], y[:16]))
    # 16 images in full batches: every method can fit them, so the loss must clearly fall.
    losses = train(model, few, steps=40, lr=3e-2, batch_size=16, device=device)
    assert sum(losses[-3:]) / 3 < 0.5 * sum(losses[:3]) / 3, [round(v, 2) for v in losses]


@wrapper_names
def test_same_seed_same_result(name: str, small_vit: nn.Module, tiny_task) -> None:
    def run() -> tuple[list[float], torch.Tensor]:
        torch.manual_seed(3)
        model = WRAPPERS[name](small_vit)
        losses = train(model, tiny_task, steps=4, lr=1e-2, batch_size=16, seed=3)
        model.eval()
        with torch.no_grad():
            return losses, model(tiny_task.test[0][:8])

    (losses_a, out_a), (losses_b, out_b) = run(), run()
    assert losses_a == losses_b
    assert torch.equal(out_a, out_b)
