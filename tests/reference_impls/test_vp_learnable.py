"""VP-Learnable: pad / fixed-patch / random-patch / frequency prompters and output label mapping."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from reference_impls.backbone import pretrained_backbone
from reference_impls.data import Task
from reference_impls.engine import count_parameters
from reference_impls.vp_learnable import (
    FixedPatchPrompter,
    FrequencyPrompter,
    LabelMapping,
    PadPrompter,
    PromptedClassifier,
    RandomPatchPrompter,
    one_to_one_mapping,
    train_with_label_mapping,
)

PROMPTERS = {
    "pad": lambda: PadPrompter(image_size=32, pad=4),
    "fixed-patch": lambda: FixedPatchPrompter(image_size=32, patch=8),
    "random-patch": lambda: RandomPatchPrompter(image_size=32, patch=8),
    "frequency": lambda: FrequencyPrompter(image_size=32, radius=4, init_std=0.1),
}


@pytest.fixture
def source_vit() -> torch.nn.Module:
    """A fresh copy of the package's source-pretrained backbone (on-disk cache; trained on first use)."""
    return pretrained_backbone()


def first(task: Task, n: int) -> Task:
    return Task(task.name, task.num_classes, (task.train[0][:n], task.train[1][:n]), (task.test[0][:n], task.test[1][:n]))


def test_pad_prompter_of_width_30_on_224_has_69840_parameters():
    # Bahng et al.'s default prompt: 2*30*224*3 (top, bottom) + 2*30*164*3 (left, right).
    assert count_parameters(PadPrompter(image_size=224, pad=30)) == 69_840


def test_prompters_touch_only_their_region():
    x = torch.zeros(2, 3, 32, 32)
    pad = PadPrompter(image_size=32, pad=4)(x)
    assert torch.all(pad[:, :, 4:28, 4:28] == 0) and torch.all(pad[:, :, :4] != 0)
    fixed = FixedPatchPrompter(image_size=32, patch=8)(x)
    assert torch.all(fixed[:, :, 8:, :] == 0) and torch.all(fixed[:, :, :, 8:] == 0)
    torch.manual_seed(0)
    random_patch = RandomPatchPrompter(image_size=32, patch=8)
    footprints = {tuple((random_patch(x)[0, 0] != 0).nonzero()[0].tolist()) for _ in range(10)}
    assert len(footprints) > 1, "the random patch should move between calls"


def test_random_patch_reaches_every_offset_including_the_last():
    # The official np.random.choice(isize - psize) never picks the last offset; ours does.
    torch.manual_seed(0)
    prompter = RandomPatchPrompter(image_size=12, patch=8)  # offsets 0..4 on each axis
    x = torch.zeros(1, 3, 12, 12)
    corners = {tuple((prompter(x)[0, 0] != 0).nonzero()[0].tolist()) for _ in range(300)}
    assert {top for top, _ in corners} == set(range(5)) and {left for _, left in corners} == set(range(5))


def test_frequency_prompter_is_identity_at_zero_and_stays_in_the_low_band():
    x = torch.rand(2, 3, 32, 32)
    assert torch.allclose(FrequencyPrompter(image_size=32, radius=4)(x), x, atol=1e-5)
    prompter = FrequencyPrompter(image_size=32, radius=4, init_std=1.0)
    change = torch.fft.rfft2(prompter(x) - x, norm="ortho").abs()
    outside = change.clone()
    outside[..., prompter.rows, :5] = 0
    assert change.max() > 0.1 and outside.max() < 1e-4
    assert count_parameters(prompter) == 3 * 9 * 5 * 2


def test_one_to_one_mapping_is_greedy_on_counts():
    counts = torch.tensor([[5, 0, 1], [9, 2, 0], [0, 7, 3], [1, 1, 1]])  # [source, target]
    # 9 -> target 0 takes source 1; then 7 -> target 1 takes source 2; then target 2: tie 1/1 -> source 0.
    assert one_to_one_mapping(counts).tolist() == [1, 2, 0]
    random_counts = torch.randint(0, 50, (10, 10))
    assert sorted(one_to_one_mapping(random_counts).tolist()) == list(range(10))


def test_label_mapping_refuses_more_targets_than_sources():
    with pytest.raises(ValueError, match="num_target"):
        LabelMapping(num_source=5, num_target=10)


class LabelReadingBackbone(nn.Module):
    """A fake frozen classifier that predicts source class perm[y] for an image encoding y."""

    def __init__(self, perm: torch.Tensor) -> None:
        super().__init__()
        self.num_classes = len(perm)
        self.register_buffer("perm", perm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        label = (x[:, 0, 0, 0] * 10).round().long()
        return 5.0 * nn.functional.one_hot(self.perm[label], self.num_classes).float()


def test_remap_recovers_the_source_class_each_target_class_is_predicted_as():
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(10).repeat(5)
    images = torch.zeros(50, 3, 4, 4)
    images[:, 0, 0, 0] = labels / 10
    model = PromptedClassifier(LabelReadingBackbone(perm), nn.Identity(), num_classes=10, mean=(0, 0, 0),
                               std=(1, 1, 1))
    assert model.remap(images, labels).tolist() == perm.tolist()
    assert torch.equal(model(images).argmax(-1), labels)  # mapped logits now read the target label


@pytest.mark.parametrize("kind", list(PROMPTERS))
def test_forward_shapes_and_gradients_reach_only_the_prompt(kind, device, small_vit):
    backbone = small_vit.to(device)
    model = PromptedClassifier(backbone, PROMPTERS[kind](), num_classes=10).to(device)
    logits = model(torch.rand(6, 3, 32, 32, device=device))
    assert logits.shape == (6, 10) and torch.isfinite(logits).all()
    nn.functional.cross_entropy(logits, torch.arange(6, device=device)).backward()
    assert all(p.grad is None for p in backbone.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.prompter.parameters())
    assert count_parameters(model, trainable_only=True) == count_parameters(model.prompter)


def _expected_loss(model: PromptedClassifier, task: Task, device: str, draws: int = 16) -> float:
    """Cross-entropy on the task's training images, averaged over `draws` seeded forward passes.

    A random-patch prompter puts its patch somewhere new on every call; the same seeds before and
    after training make the comparison paired. The other prompters are deterministic.
    """
    x, y = task.train[0].to(device), task.train[1].to(device)
    with torch.no_grad():
        total = 0.0
        for draw in range(draws):
            torch.manual_seed(draw)
            total += F.cross_entropy(model(x), y).item()
    return total / draws


@pytest.mark.parametrize("kind", list(PROMPTERS))
def test_training_keeps_backbone_bit_identical_and_lowers_the_loss(kind, device, source_vit, tiny_task):
    backbone = source_vit.to(device)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    torch.manual_seed(0)
    model = PromptedClassifier(backbone, PROMPTERS[kind](), num_classes=10).to(device)
    task = first(tiny_task, 32)  # batch 32 from 32 images: a fixed batch, so its loss must fall
    model.remap(*task.train)  # the mapping training starts from (FLM), so both losses use one mapping
    initial = _expected_loss(model, task, device)
    train_with_label_mapping(model, task, steps=25, lr=0.1, batch_size=32, device=device)
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items())
    assert not backbone.training and model.training
    # Not the noisy per-step training losses (for the random patch, each at one random location) but
    # the loss of the whole fixed batch, before and after, over the same 16 locations.
    assert _expected_loss(model, task, device) < initial


def test_ilm_remaps_every_epoch_and_flm_once(monkeypatch, small_vit, tiny_task):
    calls = []
    model = PromptedClassifier(small_vit, PadPrompter(image_size=32, pad=4), num_classes=10)
    original = model.remap
    monkeypatch.setattr(model, "remap", lambda *a, **k: calls.append(1) or original(*a, **k))
    train_with_label_mapping(model, tiny_task, steps=10, lr=0.01, batch_size=16, remap_every=4)
    assert len(calls) == 3  # steps 0, 4, 8
    calls.clear()
    train_with_label_mapping(model, tiny_task, steps=10, lr=0.01, batch_size=16, remap_every=None)
    assert len(calls) == 1


def test_same_seed_same_result(small_vit, tiny_task):
    def once() -> tuple[list[float], torch.Tensor]:
        torch.manual_seed(3)
        model = PromptedClassifier(copy.deepcopy(small_vit), RandomPatchPrompter(image_size=32, patch=8), num_classes=10)
        losses = train_with_label_mapping(model, tiny_task, steps=6, lr=0.05, batch_size=16, seed=3, remap_every=3)
        return losses, model.prompter.patch.detach().clone()

    (losses_a, patch_a), (losses_b, patch_b) = once(), once()
    assert losses_a == losses_b and torch.equal(patch_a, patch_b)


def test_works_on_a_timm_vit():
    timm = pytest.importorskip("timm")
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=20)
    model = PromptedClassifier(vit, PadPrompter(image_size=224, pad=30), num_classes=10)
    logits = model(torch.rand(2, 3, 224, 224))
    assert logits.shape == (2, 10) and count_parameters(model, trainable_only=True) == 69_840
