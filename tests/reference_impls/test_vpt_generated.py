"""VPT-Generated: prompts are a function of each image's own patch tokens."""

from __future__ import annotations

import torch
from torch import Tensor

from reference_impls.engine import count_parameters
from reference_impls.tiny_vit import TinyViT
from reference_impls.vpt_generated import GeneratedPromptViT, PromptGenerator


def test_prompts_differ_between_images_and_ignore_the_rest_of_the_batch(small_vit: TinyViT) -> None:
    model = GeneratedPromptViT(small_vit, num_classes=10, num_tokens=4).eval()
    images = torch.rand(3, 3, 32, 32)
    prompts = model.prompt_tokens(images)
    assert prompts.shape == (3, 4, 32)
    assert not torch.allclose(prompts[0], prompts[1])  # per-input, unlike VPT-Learnable
    # Image 0's prompts depend on image 0 only, whatever else is in the batch.
    torch.testing.assert_close(model.prompt_tokens(images[:1])[0], prompts[0])
    torch.testing.assert_close(model.prompt_tokens(images[[2, 0]])[1], prompts[0])


def test_generator_reads_patch_tokens_not_the_class_token() -> None:
    torch.manual_seed(0)
    generator = PromptGenerator(16, num_tokens=3, rank=8)
    tokens = torch.randn(2, 10, 16)
    out = generator(tokens)
    assert out.shape == (2, 3, 16)
    # Permuting the patches leaves the prompts unchanged: attention pools over a set of patches.
    torch.testing.assert_close(generator(tokens[:, torch.randperm(10)]), out)


def _block_inputs(vit: TinyViT) -> list[Tensor]:
    seen: list[Tensor] = []
    for block in vit.blocks:
        block.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach()))
    return seen


def test_shallow_inserts_generated_prompts_after_cls(small_vit: TinyViT) -> None:
    model = GeneratedPromptViT(small_vit, num_classes=10, num_tokens=4).eval()
    seen = _block_inputs(small_vit)
    images = torch.rand(2, 3, 32, 32)
    model(images)
    assert seen[0].shape[1] == 1 + 4 + small_vit.patch_embed.num_patches
    torch.testing.assert_close(seen[0][:, 1:5], model.prompt_tokens(images))


def test_deep_generates_from_each_layer_and_replaces(small_vit: TinyViT) -> None:
    model = GeneratedPromptViT(small_vit, num_classes=10, num_tokens=4, deep=True).eval()
    assert len(model.generators) == len(small_vit.blocks)
    seen = _block_inputs(small_vit)
    model(torch.rand(2, 3, 32, 32))
    assert {x.shape[1] for x in seen} == {1 + 4 + small_vit.patch_embed.num_patches}
    for i in range(1, len(small_vit.blocks)):
        # Layer i's prompts are generator i applied to layer i's patch tokens (positions 5:).
        torch.testing.assert_close(seen[i][:, 1:5], model.generators[i](seen[i][:, 5:]))


def test_shared_generator_has_one_set_of_weights(small_vit: TinyViT) -> None:
    per_layer = GeneratedPromptViT(small_vit, num_classes=10, deep=True)
    shared = GeneratedPromptViT(small_vit, num_classes=10, deep=True, shared=True)
    assert len(shared.generators) == 1
    generator = count_parameters(shared.generators[0])
    assert count_parameters(per_layer, trainable_only=True) - count_parameters(shared, trainable_only=True) == (
        (len(small_vit.blocks) - 1) * generator
    )


def test_avg_pool_skips_generated_prompts() -> None:
    torch.manual_seed(0)
    vit = TinyViT(embed_dim=32, depth=2, num_heads=2, global_pool="avg").eval()
    model = GeneratedPromptViT(vit, num_classes=10, num_tokens=4).eval()
    final: list[Tensor] = []
    vit.blocks[-1].register_forward_hook(lambda _m, _a, out: final.append(out))
    logits = model(torch.rand(2, 3, 32, 32))
    torch.testing.assert_close(logits, model.head(vit.fc_norm(final[0][:, 1 + 4 :].mean(1))))
