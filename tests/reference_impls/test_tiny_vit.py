"""The shared foundation: the timm-named TinyViT, the generated tasks, the cached backbone, the loop."""

from __future__ import annotations

import os

import pytest
import torch

from reference_impls import backbone as backbone_module
from reference_impls.backbone import ModelConfig, PretrainConfig, cache_path, freeze, pretrained_backbone
from reference_impls.data import MEAN, STD, TASKS, load_task, normalize
from reference_impls.engine import FullFinetune, count_parameters, evaluate, resolve_device, train
from reference_impls.tiny_vit import TinyViT

TIMM_NAMES = ("patch_embed", "cls_token", "pos_embed", "pos_drop", "patch_drop", "norm_pre", "blocks", "norm",
              "fc_norm", "head_drop", "head", "num_prefix_tokens", "global_pool", "embed_dim", "num_features",
              "num_classes", "_pos_embed", "forward_features", "forward_head", "reset_classifier")


def test_tiny_vit_has_timm_names_and_shapes() -> None:
    vit = TinyViT()
    for name in TIMM_NAMES:
        assert hasattr(vit, name), name
    assert vit.patch_embed.patch_size == (4, 4) and vit.patch_embed.grid_size == (8, 8)
    assert vit.pos_embed.shape == (1, 1 + 64, 64) and vit.cls_token.shape == (1, 1, 64)
    block = vit.blocks[0]
    assert (block.attn.num_heads, block.attn.head_dim) == (4, 16)
    x = torch.randn(2, 3, 32, 32)
    assert vit.forward_features(x).shape == (2, 65, 64)
    assert vit(x).shape == (2, 10)
    assert vit.forward_head(vit.forward_features(x), pre_logits=True).shape == (2, 64)
    vit.reset_classifier(3)
    assert vit(x).shape == (2, 3)


def test_avg_pool_excludes_class_token_and_uses_fc_norm() -> None:
    vit = TinyViT(embed_dim=32, depth=1, num_heads=2, global_pool="avg").eval()
    tokens = vit.forward_features(torch.randn(2, 3, 32, 32))
    expected = vit.head(vit.fc_norm(tokens[:, 1:].mean(1)))
    torch.testing.assert_close(vit.forward_head(tokens), expected)
    assert isinstance(vit.norm, torch.nn.Identity) and isinstance(vit.fc_norm, torch.nn.LayerNorm)


def test_tasks_are_deterministic_and_well_formed() -> None:
    assert TASKS[0] == "source" and len(TASKS) >= 3
    for name in TASKS:
        task = load_task(name)
        for x, y in (task.train, task.test):
            assert x.dtype == torch.float32 and x.shape[1:] == (3, 32, 32)
            assert 0 <= x.min() and x.max() <= 1
            assert y.dtype == torch.int64 and set(y.unique().tolist()) == set(range(task.num_classes))
    # Generated again from scratch (bypassing the per-process cache), a task is the same tensor.
    from reference_impls.data import _load_task_cached

    again = _load_task_cached.__wrapped__("texture-side", 0)
    assert torch.equal(again.train[0], load_task("texture-side").train[0])
    assert not torch.equal(_load_task_cached.__wrapped__("texture-side", 1).train[0], again.train[0])
    with pytest.raises(ValueError, match="unknown task"):
        load_task("imagenet")


def test_normalisation_matches_source_statistics() -> None:
    x = load_task("source").train[0]
    torch.testing.assert_close(x.mean((0, 2, 3)), torch.tensor(MEAN), atol=0.02, rtol=0)
    torch.testing.assert_close(x.std((0, 2, 3)), torch.tensor(STD), atol=0.02, rtol=0)
    z = normalize(x[:500])
    assert abs(z.mean().item()) < 0.05 and abs(z.std().item() - 1) < 0.1


def test_shifted_task_keeps_labels_and_shifts_pixels() -> None:
    source, shifted = load_task("source"), load_task("shifted")
    assert shifted.num_classes == source.num_classes
    # Half the contrast: the per-image spread of pixel values drops clearly.
    spread = lambda x: x.flatten(1).std(1).mean().item()  # noqa: E731
    assert spread(shifted.test[0]) < 0.75 * spread(source.test[0])


def test_cache_key_follows_config(tmp_path) -> None:
    a = cache_path(PretrainConfig(), tmp_path)
    assert a == cache_path(PretrainConfig(), tmp_path)
    assert a != cache_path(PretrainConfig(steps=1), tmp_path)
    assert a != cache_path(PretrainConfig(model=ModelConfig(depth=2)), tmp_path)


def test_pretrained_backbone_is_cached_and_fresh_each_call(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = PretrainConfig(model=ModelConfig(embed_dim=16, depth=1, num_heads=2), steps=2, batch_size=8)
    first = pretrained_backbone(cache_dir=tmp_path, config=config)
    assert cache_path(config, tmp_path).exists() and not first.training
    assert not any(p.suffix == ".tmp" for p in tmp_path.iterdir())  # atomic write leaves no temp file

    def no_training(*_args, **_kwargs):
        raise AssertionError("a cached backbone must not be retrained")

    monkeypatch.setattr(backbone_module, "pretrain", no_training)
    second = pretrained_backbone(cache_dir=tmp_path, config=config)
    assert second is not first
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True))


def _pretrained_under(threads: int, config: PretrainConfig) -> dict[str, torch.Tensor]:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return backbone_module.pretrain(config).state_dict()
    finally:
        torch.set_num_threads(before)


def test_pretraining_gives_the_same_bytes_whatever_the_callers_thread_count() -> None:
    # A smaller model and fewer steps than the shipped one, but the same code path: under 1 and 2
    # caller threads the weights must be bit-identical (without pinning they differ after a few steps).
    config = PretrainConfig(model=ModelConfig(embed_dim=32, depth=2, num_heads=2), steps=30, batch_size=32)
    one, two = _pretrained_under(1, config), _pretrained_under(2, config)
    assert all(one[k].numpy().tobytes() == two[k].numpy().tobytes() for k in one)
    assert torch.get_num_threads() == 1  # the caller's setting is restored (conftest pins 1)


def test_default_backbone_is_shipped_and_loaded_without_cache_or_training(tmp_path, monkeypatch) -> None:
    shipped = backbone_module.SHIPPED_DIR / backbone_module.weights_name(PretrainConfig())
    assert shipped.is_file(), "the default backbone's weights must be shipped in reference_impls/weights/"
    monkeypatch.setattr(backbone_module, "pretrain", lambda *a, **k: pytest.fail("must not pretrain"))
    vit = pretrained_backbone(cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing cached: the shipped file is read directly
    state = torch.load(shipped, map_location="cpu", weights_only=True)
    assert all(torch.equal(state[k], v) for k, v in vit.state_dict().items())


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_backbone_bit_for_bit() -> None:
    # ~75 s on one core: the whole 400-step pretraining, then a byte comparison with the shipped file.
    shipped = backbone_module.SHIPPED_DIR / backbone_module.weights_name(PretrainConfig())
    state = torch.load(shipped, map_location="cpu", weights_only=True)
    fresh = _pretrained_under(2, PretrainConfig())
    assert state.keys() == fresh.keys()
    assert all(state[k].numpy().tobytes() == fresh[k].numpy().tobytes() for k in state)


def test_cache_dir_from_environment(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERENCE_IMPLS_CACHE", os.fspath(tmp_path))
    assert cache_path(PretrainConfig()).parent == tmp_path


def test_freeze_and_count_parameters() -> None:
    vit = TinyViT(embed_dim=16, depth=1, num_heads=2).train()
    total = count_parameters(vit)
    assert total == sum(p.numel() for p in vit.parameters())
    assert freeze(vit) is vit and not vit.training
    assert count_parameters(vit, trainable_only=True) == 0 and count_parameters(vit) == total


def test_full_finetune_trains_a_copy(small_vit: TinyViT, tiny_task) -> None:
    before = {k: v.clone() for k, v in small_vit.state_dict().items()}
    model = FullFinetune(small_vit, num_classes=10)
    assert count_parameters(model, trainable_only=True) == count_parameters(model.backbone)
    train(model, tiny_task, steps=2, lr=1e-3, batch_size=16)
    assert all(torch.equal(before[k], v) for k, v in small_vit.state_dict().items())
    assert not torch.equal(model.backbone.blocks[0].attn.qkv.weight, small_vit.blocks[0].attn.qkv.weight)


def test_evaluate_returns_accuracy(small_vit: TinyViT, tiny_task) -> None:
    model = FullFinetune(small_vit, num_classes=10)
    accuracy = evaluate(model, tiny_task)
    assert 0.0 <= accuracy <= 1.0
    assert not model.training


def test_cuda_request_without_cuda_is_an_actionable_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(RuntimeError, match="--device cpu"):
        resolve_device("cuda")


def test_default_backbone_learned_the_source_task() -> None:
    """The real backbone (pretrained once, then cached): good on source, worse under the shift."""
    vit = pretrained_backbone()
    source = backbone_module.source_accuracy(vit)
    shifted = backbone_module.source_accuracy(vit, task="shifted")
    assert source > 0.8, source
    assert shifted < source - 0.1, (source, shifted)
