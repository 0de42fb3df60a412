"""Fidelity of vpt_learnable.py to VPT (Jia et al. 2022) and E2VPT's key-value prompts."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor, nn

from reference_impls.data import normalize
from reference_impls.engine import count_parameters
from reference_impls.tiny_vit import TinyViT
from reference_impls.vpt_learnable import KeyValuePromptedViT, PromptedViT, prompt_init_bound


def _block_inputs(vit: nn.Module) -> tuple[list[Tensor], list]:
    """Record the input of every block (pre-hooks on norm1, which sees exactly the block's input
    even when a wrapper runs the block's parts itself); returns the list and the hook handles."""
    seen: list[Tensor] = []
    handles = [b.norm1.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach())) for b in vit.blocks]
    return seen, handles


def test_init_bound_is_xavier_on_patch_fan_in(small_vit: TinyViT) -> None:
    model = PromptedViT(small_vit, num_classes=10, num_tokens=50, deep=True)
    bound = math.sqrt(6.0 / (3 * 4 * 4 + 32))  # patch 4x4, dim 32
    assert prompt_init_bound(small_vit, 32) == pytest.approx(bound)
    for p in (model.prompts, model.deep_prompts):
        assert p.abs().max() <= bound
        assert p.abs().max() > 0.95 * bound  # uniform over the whole interval, not a narrower one
        assert abs(p.mean().item()) < 0.1 * bound


def test_prompts_get_no_position_embedding_and_sit_after_cls(small_vit: TinyViT) -> None:
    model = PromptedViT(small_vit, num_classes=10, num_tokens=5).eval()
    seen, _ = _block_inputs(small_vit)
    images = torch.rand(2, 3, 32, 32)
    model(images)
    first = seen[0]
    plain = small_vit._pos_embed(small_vit.patch_embed(normalize(images)))  # [B, 1+N, D] with positions
    assert first.shape[1] == 1 + 5 + small_vit.patch_embed.num_patches
    assert torch.equal(first[:, :1], plain[:, :1])  # class token first
    assert torch.equal(first[:, 1:6], model.prompts.detach().expand(2, -1, -1))  # raw prompts: no position added
    assert torch.equal(first[:, 6:], plain[:, 1:])  # patches keep their own positions


def test_deep_prompts_replace_not_accumulate(small_vit: TinyViT) -> None:
    model = PromptedViT(small_vit, num_classes=10, num_tokens=5, deep=True).eval()
    seen, _ = _block_inputs(small_vit)
    model(torch.rand(2, 3, 32, 32))
    lengths = {x.shape[1] for x in seen}
    assert lengths == {1 + 5 + small_vit.patch_embed.num_patches}  # constant length: nothing accumulates
    for i in range(1, len(small_vit.blocks)):
        # The slice is exactly the layer's own prompts, not previous output + prompts.
        assert torch.equal(seen[i][:, 1:6], model.deep_prompts[i - 1].detach().expand(2, -1, -1))


def test_shallow_prompts_flow_through_blocks(small_vit: TinyViT) -> None:
    model = PromptedViT(small_vit, num_classes=10, num_tokens=5).eval()
    seen, _ = _block_inputs(small_vit)
    model(torch.rand(2, 3, 32, 32))
    assert not torch.equal(seen[1][:, 1:6], model.prompts.detach().expand(2, -1, -1))


def test_avg_pool_skips_prompt_tokens() -> None:
    torch.manual_seed(0)
    vit = TinyViT(embed_dim=32, depth=2, num_heads=2, global_pool="avg").eval()
    model = PromptedViT(vit, num_classes=10, num_tokens=5).eval()
    final: list[Tensor] = []
    vit.blocks[-1].register_forward_hook(lambda _m, _a, out: final.append(out))
    logits = model(torch.rand(2, 3, 32, 32))
    tokens = vit.norm(final[0])
    expected = model.head(vit.fc_norm(tokens[:, 1 + 5 :].mean(1)))
    with_prompts = model.head(vit.fc_norm(tokens[:, 1:].mean(1)))
    torch.testing.assert_close(logits, expected)
    assert not torch.allclose(logits, with_prompts)


def test_prompt_dropout_active_only_in_training(small_vit: TinyViT) -> None:
    model = PromptedViT(small_vit, num_classes=10, num_tokens=5, dropout=0.5)
    images = torch.rand(2, 3, 32, 32)
    model.eval()
    assert torch.equal(model(images), model(images))
    model.train()
    assert not torch.equal(model(images), model(images))


def test_prompt_dropout_defaults_follow_the_paper(small_vit: TinyViT) -> None:
    # VPT Appendix A: dropout 0.1 for VPT-deep; the official demo runs VPT-shallow without.
    assert PromptedViT(small_vit, num_classes=10, deep=True).prompt_dropout.p == 0.1
    assert PromptedViT(small_vit, num_classes=10, deep=False).prompt_dropout.p == 0.0
    assert PromptedViT(small_vit, num_classes=10, deep=False, dropout=0.3).prompt_dropout.p == 0.3
    assert KeyValuePromptedViT(small_vit, num_classes=10).prompt_dropout.p == 0.0  # E2VPT's config


def test_key_value_prompts_keep_queries_and_sequence_length(small_vit: TinyViT) -> None:
    model = KeyValuePromptedViT(small_vit, num_classes=10, num_tokens=5).eval()
    seen, _ = _block_inputs(small_vit)
    images = torch.rand(2, 3, 32, 32)
    model(images)
    assert {x.shape[1] for x in seen} == {1 + small_vit.patch_embed.num_patches}
    # Recompute block 0's attention by hand: queries from the tokens alone, keys/values extended.
    attn, x = small_vit.blocks[0].attn, small_vit.blocks[0].norm1(seen[0])
    B, N, C = x.shape
    q, k, v = attn.qkv(x).reshape(B, N, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
    k = torch.cat([k, model.key_prompts[0].expand(B, -1, -1, -1)], dim=2)
    v = torch.cat([v, model.value_prompts[0].expand(B, -1, -1, -1)], dim=2)
    weights = torch.softmax(q @ k.transpose(-2, -1) * attn.scale, dim=-1)  # [B, heads, N, N + 5]
    assert weights.shape[-2:] == (N, N + 5)
    expected = attn.proj((weights @ v).transpose(1, 2).reshape(B, N, C))
    torch.testing.assert_close(model._attention(attn, x, 0), expected)
    # And the prompts matter: the plain attention computes something else.
    assert not torch.allclose(attn(x), expected)


@pytest.mark.parametrize("deep", [False, True])
def test_vpt_on_vit_b16_trains_under_one_percent(deep: bool) -> None:
    with torch.device("meta"):  # shapes only: counting needs no memory and no initialisation time
        vit = TinyViT(img_size=224, patch_size=16, embed_dim=768, depth=12, num_heads=12, num_classes=1000)
        model = PromptedViT(vit, num_classes=100, num_tokens=10, deep=deep)
    backbone = count_parameters(vit)
    assert 86e6 < backbone < 87e6  # really ViT-B/16-sized
    trainable = count_parameters(model, trainable_only=True)
    prompts = 10 * 768 * (12 if deep else 1)
    assert trainable == prompts + 768 * 100 + 100
    assert trainable / backbone < 0.01


def test_works_on_timm_vit_b16() -> None:
    timm = pytest.importorskip("timm")
    vit = timm.create_model("vit_base_patch16_224", pretrained=False).eval()
    before = {k: v.clone() for k, v in vit.state_dict().items()}
    images = torch.rand(2, 3, 224, 224)
    for model in (PromptedViT(vit, num_classes=5, deep=True), KeyValuePromptedViT(vit, num_classes=5)):
        model.train()
        logits = model(images)
        assert logits.shape == (2, 5) and torch.isfinite(logits).all()
        logits.sum().backward()
        assert not vit.training and all(p.grad is None for p in vit.parameters())
        assert count_parameters(model, trainable_only=True) / count_parameters(vit) < 0.01
    assert all(torch.equal(before[k], v) for k, v in vit.state_dict().items())
