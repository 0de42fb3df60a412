"""VP-Fixed: drawn markers, the SAM-style Fourier encoding, and the marked-region demo."""

from __future__ import annotations

import pytest
import torch

from reference_impls.backbone import pretrained_backbone
from reference_impls.data import Task
from reference_impls.engine import LinearProbe, count_parameters, train
from reference_impls.vp_fixed import (
    FourierPromptEncoding,
    MarkerConfig,
    draw_boxes,
    draw_circles,
    draw_points,
    fourier_spotlight,
    marker_accuracy,
    mask_marker,
    overlay_masks,
    red_circle,
    two_region_scenes,
)


@pytest.fixture
def source_vit() -> torch.nn.Module:
    """A fresh copy of the package's source-pretrained backbone (on-disk cache; trained on first use)."""
    return pretrained_backbone()


def test_markers_paint_only_their_pixels():
    images = torch.full((1, 3, 32, 32), 0.25)
    ring = draw_circles(images, torch.tensor([[16.0, 16.0]]), torch.tensor([8.0]))
    assert torch.equal(ring[0, :, 16, 23], torch.tensor([1.0, 0.0, 0.0]))  # pixel centre 23.5: on the ring
    assert torch.equal(ring[0, :, 16, 16], images[0, :, 16, 16]) and torch.equal(ring[0, :, 0, 0], images[0, :, 0, 0])
    box = draw_boxes(images, torch.tensor([[4.0, 4.0, 20.0, 12.0]]))
    assert box[0, 0, 4, 10] == 1.0 and box[0, 0, 8, 10] == 0.25 and box[0, 0, 30, 30] == 0.25
    dot = draw_points(images, torch.tensor([[10.0, 20.0]]), radius=1.0)
    assert dot[0, 0, 19, 9] == 1.0 and (dot != images).any(dim=1).sum() <= 4
    mask = torch.zeros(1, 32, 32, dtype=torch.bool)
    mask[:, :8] = True
    veiled = overlay_masks(images, mask, alpha=0.5, color=(1.0, 1.0, 1.0))
    assert torch.allclose(veiled[:, :, :8], torch.tensor(0.625)) and torch.equal(veiled[:, :, 8:], images[:, :, 8:])


def test_fourier_encoding_is_fixed_and_a_location_kernel():
    encoding = FourierPromptEncoding(num_features=64, seed=0)
    assert count_parameters(encoding) == 0
    assert torch.equal(encoding.gaussian, FourierPromptEncoding(num_features=64, seed=0).gaussian)
    points = torch.rand(50, 2, generator=torch.Generator().manual_seed(0))
    assert encoding.encode_points(points).shape == (50, 128)
    light = encoding.spotlight(points, 32, 32)
    peak = light.flatten(1).argmax(-1)
    peak_xy = torch.stack([peak % 32, peak // 32], dim=-1) + 0.5
    assert (peak_xy - points * 32).norm(dim=-1).max() < 2.0  # the kernel peaks at the point
    far = light.flatten(1).topk(600, largest=False).values  # most of the image is dark
    assert far.max() < 0.3 and light.max() <= 1.0
    boxes = torch.tensor([[0.1, 0.2, 0.6, 0.9]])
    corners = encoding.encode_boxes(boxes)
    assert corners.shape == (1, 2, 128)
    assert torch.allclose(corners[0, 0] - encoding.encode(boxes[:, :2])[0], encoding.type_embed[1])


def test_scene_labels_are_independent_of_the_unmarked_image():
    scenes = two_region_scenes(400, seed=1)
    assert torch.equal(scenes.kinds.sum(1), torch.ones(400, dtype=torch.long))  # one of each stripe kind
    assert 0.4 < scenes.marked.float().mean() < 0.6
    assert torch.equal(scenes.images, two_region_scenes(400, seed=1).images)  # deterministic for a seed
    marked = mask_marker(scenes)
    assert marked.shape == scenes.images.shape and marked.min() >= 0 and marked.max() <= 1
    assert (red_circle(scenes) != scenes.images).any() and (fourier_spotlight(scenes) != scenes.images).any()


@pytest.mark.parametrize("prompt", [mask_marker, fourier_spotlight], ids=["mask", "fourier-spotlight"])
def test_marker_makes_the_marked_region_answerable_and_nothing_else_does(prompt, source_vit):
    backbone = source_vit
    config = MarkerConfig(n_train=800, n_test=600, steps=200)
    torch.manual_seed(0)
    with_prompt, _, _ = marker_accuracy(LinearProbe(backbone, num_classes=2), prompt, config=config)
    torch.manual_seed(0)
    without, _, _ = marker_accuracy(LinearProbe(backbone, num_classes=2), None, config=config)
    assert with_prompt > 0.85, f"prompted accuracy {with_prompt:.3f}"
    assert without < 0.58, f"unprompted accuracy {without:.3f} should be at chance (0.5)"


def test_probe_trains_only_its_head(device, source_vit):
    backbone = source_vit.to(device)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    scenes = two_region_scenes(64, seed=0)
    task = Task("marked", 2, (mask_marker(scenes), scenes.labels), (mask_marker(scenes), scenes.labels))
    torch.manual_seed(0)
    probe = LinearProbe(backbone, num_classes=2)
    logits = probe(task.train[0][:4].to(device))
    assert logits.shape == (4, 2) and torch.isfinite(logits).all()
    losses = train(probe, task, steps=30, lr=0.05, batch_size=64, device=device)
    assert sum(losses[-5:]) < sum(losses[:5])
    assert all(p.grad is None for p in backbone.parameters())
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items()) and not backbone.training
    assert count_parameters(probe, trainable_only=True) == 2 * backbone.num_features + 2


def test_same_seed_same_result(source_vit):
    config = MarkerConfig(n_train=200, n_test=100, steps=20)
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        results.append(marker_accuracy(LinearProbe(source_vit, num_classes=2), mask_marker, config=config)[:2])
    assert results[0] == results[1]
