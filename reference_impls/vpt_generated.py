"""VPT-Generated: prompt tokens generated per input from the image's own patch tokens.

VPT-Learnable (vpt_learnable.py) learns one set of prompt tokens shared by every image. The
VPT-Generated family instead lets a small network produce the prompt tokens from the input, so
each image gets its own. This module is a GENERIC rendering of that category, not a
reproduction of any one paper. Its generator follows the recipe these papers share:

  DVPT     He, Wang, Wang, Li, Fu. "DVPT: Dynamic Visual Prompt Tuning of Large Pre-trained Models
           for Medical Image Analysis", arXiv 2307.09787; Neural Networks 185 (2025) 107168,
           doi 10.1016/j.neunet.2025.107168. A bottleneck on the frozen features, then learnable
           prompts used as queries that cross-attend to them. (We found no official repository.)
  DVPT     Ruan, Wang. "Dynamic Visual Prompt Tuning for Parameter Efficient Transfer Learning",
           arXiv 2309.06123. A Meta-Net generates an instance-wise prompt token per image.
  ViaPT    Xiao et al. "Visual Instance-aware Prompt Tuning", arXiv 2507.07796: instance-aware
           prompts fused with dataset-level ones.

The generator (PromptGenerator): LayerNorm, then a down-projection D -> r of the patch tokens
(DVPT's bottleneck; its output serves as both keys and values), P learnable queries in r
dimensions cross-attend to them (softmax over the N patches), and an up-projection r -> D gives
P prompt tokens per image. The queries and projections are learned; the backbone is frozen.

  shallow (deep=False)  one generator reads the embedded patch tokens (after positions) and its
                        prompts are inserted at index num_prefix_tokens, as in VPT-Shallow.
  deep    (deep=True)   before every block after the first, a generator reads that block's input
                        patch tokens and its prompts REPLACE the prompt slice, as in VPT-Deep.
                        One generator per layer by default; `shared=True` uses one for all
                        layers, as DVPT does to save parameters.

Departures: DVPT adds the generated features back onto the frozen tokens ("aggregated with the
frozen features") instead of inserting them as extra tokens; we insert them, so the module plugs
into the same VPT machinery (positions, replacement, pooling that skips prompts). No multi-head
cross-attention (one head keeps the generator small at ViT-B width). AdamW, one fixed setting.

Run:  python -m reference_impls run vpt-gen-deep [--device cuda]   (also vpt-gen-shallow)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .engine import RunResult, fit_and_evaluate
from .vpt_learnable import FrozenBackboneMixin, embed_tokens, insert_prompts, pool_and_head


@dataclass(frozen=True)
class RunConfig:
    steps: int = 200
    lr: float = 3e-2  # a small network: a smaller lr than vpt_learnable's free prompts
    batch_size: int = 64
    weight_decay: float = 0.0


class PromptGenerator(nn.Module):
    """Patch tokens [B, N, D] -> prompt tokens [B, P, D] by P learnable queries cross-attending."""

    def __init__(self, dim: int, *, num_tokens: int, rank: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.down = nn.Linear(dim, rank)  # bottleneck: keys and values live in r dimensions
        self.queries = nn.Parameter(torch.randn(num_tokens, rank) * rank**-0.5)
        self.up = nn.Linear(rank, dim)
        self.scale = rank**-0.5

    def forward(self, tokens: Tensor) -> Tensor:
        h = self.down(self.norm(tokens))  # [B, N, r]
        # Each query picks its own mixture of this image's patches: that is what makes it per-input.
        weights = torch.softmax(torch.einsum("pr,bnr->bpn", self.queries, h) * self.scale, dim=-1)
        return self.up(weights @ h)  # [B, P, D]


class GeneratedPromptViT(FrozenBackboneMixin, nn.Module):
    """Frozen timm-style ViT whose prompt tokens are generated from each image's patch tokens."""

    def __init__(self, vit: nn.Module, *, num_classes: int, num_tokens: int = 10, deep: bool = False,
                 shared: bool = False, rank: int | None = None, dropout: float = 0.0) -> None:
        super().__init__()
        assert num_tokens > 0, "num_tokens must be positive"
        assert deep or not shared, "shared=True only makes sense with deep=True"
        self.vit = vit.requires_grad_(False).eval()
        self.num_tokens, self.deep = num_tokens, deep
        dim = vit.embed_dim
        rank = rank or max(8, dim // 8)  # 8 at dim 64, 96 at ViT-B's 768
        num_generators = 1 if (shared or not deep) else len(vit.blocks)
        self.generators = nn.ModuleList(
            [PromptGenerator(dim, num_tokens=num_tokens, rank=rank) for _ in range(num_generators)]
        )
        self.prompt_dropout = nn.Dropout(dropout)
        self.head = nn.Linear(vit.num_features, num_classes)

    def _generate(self, layer: int, patch_tokens: Tensor) -> Tensor:
        generator = self.generators[layer if len(self.generators) > 1 else 0]
        return self.prompt_dropout(generator(patch_tokens))

    def prompt_tokens(self, images: Tensor) -> Tensor:
        """The input-layer prompts for `images` [B, P, D] (for inspection and tests)."""
        x = embed_tokens(self.vit, images)
        return self._generate(0, x[:, self.vit.num_prefix_tokens :])

    def forward(self, images: Tensor) -> Tensor:
        x = embed_tokens(self.vit, images)
        at, P = self.vit.num_prefix_tokens, self.num_tokens
        x = insert_prompts(x, self._generate(0, x[:, at:]), at)
        x = self.vit.norm_pre(x)
        for i, block in enumerate(self.vit.blocks):
            if self.deep and i > 0:
                # The generator sees this layer's patch tokens only, never the previous prompts.
                x = insert_prompts(x, self._generate(i, x[:, at + P :]), at, replace=P)
            x = block(x)
        return pool_and_head(self.vit, x, self.head, skip=P)


def _run(name: str, *, deep: bool, device: str, steps: int | None, seed: int) -> RunResult:
    config = RunConfig()
    return fit_and_evaluate(name, lambda vit: GeneratedPromptViT(vit, num_classes=10, deep=deep), device=device,
                            steps=steps or config.steps, lr=config.lr, seed=seed, batch_size=config.batch_size,
                            weight_decay=config.weight_decay)


def run_vpt_gen_shallow(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return _run("vpt-gen-shallow", deep=False, device=device, steps=steps, seed=seed)


def run_vpt_gen_deep(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return _run("vpt-gen-deep", deep=True, device=device, steps=steps, seed=seed)


RUNNERS = {"vpt-gen-shallow": run_vpt_gen_shallow, "vpt-gen-deep": run_vpt_gen_deep}
