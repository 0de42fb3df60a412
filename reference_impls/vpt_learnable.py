"""VPT-Learnable: free prompt tokens (shallow or deep) and key-value prompts on a frozen ViT.

Papers and official code:
  VPT      Jia, Tang, Chen, Cardie, Belongie, Hariharan, Lim. "Visual Prompt Tuning", ECCV 2022,
           arXiv 2203.12119; https://github.com/KMnP/vpt (src/models/vit_prompt/vit.py).
  E2VPT    Han, Wang, Zhang, Liu, Lu, Lu, Liu. "E^2VPT: An Effective and Efficient Approach for
           Visual Prompt Tuning", ICCV 2023, arXiv 2307.13770; https://github.com/ChengHan111/E2VPT.

What follows the papers:
  * Prompts enter after `_pos_embed` and `patch_drop`, at index `num_prefix_tokens` (right after
    the class token): they get no position embedding and are never dropped.
  * Initialisation uniform(-v, v) with v = sqrt(6 / (3 * patch_h * patch_w + dim)), the
    xavier-uniform bound of the patch projection's fan-in (VPT's "random" initiation).
  * Prompt dropout 0.1 for VPT-Deep and none for VPT-Shallow. The paper's implementation details
    (Appendix A) give 0.1 for VPT-deep. The official demo.ipynb agrees: its final-training commands
    ("the same [hyperparameters] from our paper") pass MODEL.PROMPT.DROPOUT 0.1 for VPT-Deep, and
    it notes "we don't use dropout for VPT-shallow". The official config's default
    (src/configs/config.py) is 0.0, and those commands override it.
  * The head is a new linear layer on the class token.
  * VPT-Deep: a fresh set of tokens for every block after the first REPLACES the prompt slice of
    the sequence (it does not accumulate), so the sequence length is constant: 1 + P + N.
  * The frozen encoder stays in eval mode even when the wrapper is put in train mode.
  * Key-value prompts (E2VPT): per layer, learnable entries [heads, P, head_dim] concatenated to
    the keys and values after the qkv projection; queries are untouched, so the sequence length
    (and every output token's position) is unchanged. No dropout on them by default, as in
    E2VPT's config (MODEL.P_VK.DROPOUT = 0.0).

Departures:
  * With `global_pool="avg"` the average skips prompt tokens (timm semantics; VPT only used CLS).
  * VPT trains with SGD and a per-dataset grid search over lr and weight decay; we use AdamW with
    one fixed setting (engine.py) so every method sees the same loop.
  * Head initialisation: ours is nn.Linear's default (uniform, bound 1/sqrt(fan_in)). The official
    head (src/models/mlp.py, MLP with special_bias=True) is initialised differently and larger:
    kaiming-normal weights with mode="fan_out" (std sqrt(2 / num_classes)) and every bias at
    -log(99), about -4.6 (a 0.01 prior per class).
  * E2VPT also adds input prompt tokens and prunes prompts/tokens (its "E^2"); only the key-value
    part is here. Its code initialises with sqrt(6 / (3 * p * p + 16)) (a constant 16); we use
    head_dim in place of that constant.
  * Normalisation happens inside the wrapper (images in [0, 1] in, logits out).

Run:  python -m reference_impls run vpt-deep [--device cuda]   (also vpt-shallow, vpt-kv)
      python -m reference_impls train vpt-deep --data IMAGE_FOLDER --out CKPT   (your own images)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .data import normalize
from .engine import RunResult, fit_and_evaluate


@dataclass(frozen=True)
class RunConfig:
    steps: int = 200
    # Large, as in VPT (SGD, base lr up to 50 in its grid): prompts are free vectors the frozen
    # LayerNorms rescale anyway. 0.1 beat 0.03 and 0.01 on texture-side at 200 steps.
    lr: float = 0.1
    batch_size: int = 64
    weight_decay: float = 0.0


def prompt_init_bound(vit: nn.Module, dim: int) -> float:
    """VPT's uniform bound: xavier-uniform for a layer with fan-in 3*ph*pw and fan-out dim."""
    ph, pw = vit.patch_embed.patch_size
    return math.sqrt(6.0 / (3 * ph * pw + dim))


def embed_tokens(vit: nn.Module, images: Tensor) -> Tensor:
    """Images in [0, 1] -> tokens [B, prefix+N, D] after positions and patch dropout (timm order)."""
    x = vit.patch_embed(normalize(images))
    x = vit._pos_embed(x)
    return vit.patch_drop(x)


def insert_prompts(x: Tensor, prompts: Tensor, at: int, *, replace: int = 0) -> Tensor:
    """Put prompts [B, P, D] at sequence index `at`, replacing `replace` tokens that sat there."""
    return torch.cat([x[:, :at], prompts, x[:, at + replace :]], dim=1)


def pool_and_head(vit: nn.Module, x: Tensor, head: nn.Module, *, skip: int) -> Tensor:
    """Final norm, pooling (class token, or mean over patch tokens skipping `skip` inserted tokens), head."""
    x = vit.norm(x)
    assert vit.global_pool in ("token", "avg"), f"unsupported global_pool {vit.global_pool!r}"
    if vit.global_pool == "avg":
        x = x[:, vit.num_prefix_tokens + skip :].mean(dim=1)
    else:
        x = x[:, 0]
    return head(vit.head_drop(vit.fc_norm(x)))


class FrozenBackboneMixin:
    """Keeps `self.vit` frozen in eval mode whatever mode the wrapper is put in."""

    def train(self, mode: bool = True) -> nn.Module:
        nn.Module.train(self, mode)
        self.vit.eval()
        return self


class PromptedViT(FrozenBackboneMixin, nn.Module):
    """VPT-Shallow (deep=False) or VPT-Deep (deep=True) around a frozen timm-style ViT."""

    def __init__(self, vit: nn.Module, *, num_classes: int, num_tokens: int = 10, deep: bool = False,
                 dropout: float | None = None) -> None:
        super().__init__()
        assert num_tokens > 0, "num_tokens must be positive"
        if dropout is None:
            dropout = 0.1 if deep else 0.0  # the paper's VPT-Deep value; VPT-Shallow runs without
        self.vit = vit.requires_grad_(False).eval()
        self.num_tokens, self.deep = num_tokens, deep
        dim = vit.embed_dim
        bound = prompt_init_bound(vit, dim)
        self.prompts = nn.Parameter(torch.empty(1, num_tokens, dim).uniform_(-bound, bound))
        # Deep: one set per block after the first; block 0 sees `self.prompts`.
        self.deep_prompts = (
            nn.Parameter(torch.empty(len(vit.blocks) - 1, num_tokens, dim).uniform_(-bound, bound)) if deep else None
        )
        self.prompt_dropout = nn.Dropout(dropout)
        self.head = nn.Linear(vit.num_features, num_classes)

    def forward(self, images: Tensor) -> Tensor:
        x = embed_tokens(self.vit, images)
        B, at = x.shape[0], self.vit.num_prefix_tokens
        x = insert_prompts(x, self.prompt_dropout(self.prompts.expand(B, -1, -1)), at)
        x = self.vit.norm_pre(x)
        for i, block in enumerate(self.vit.blocks):
            if self.deep_prompts is not None and i > 0:
                # Replace, not add: the previous layer's outputs at the prompt positions are discarded.
                prompts = self.prompt_dropout(self.deep_prompts[i - 1].expand(B, -1, -1))
                x = insert_prompts(x, prompts, at, replace=self.num_tokens)
            x = block(x)
        return pool_and_head(self.vit, x, self.head, skip=self.num_tokens)


class KeyValuePromptedViT(FrozenBackboneMixin, nn.Module):
    """E2VPT-style key-value prompts: extra keys/values in every attention layer, no extra tokens."""

    def __init__(self, vit: nn.Module, *, num_classes: int, num_tokens: int = 10, dropout: float = 0.0) -> None:
        super().__init__()
        assert num_tokens > 0, "num_tokens must be positive"
        self.vit = vit.requires_grad_(False).eval()
        attn = vit.blocks[0].attn
        shape = (len(vit.blocks), attn.num_heads, num_tokens, attn.head_dim)
        bound = prompt_init_bound(vit, attn.head_dim)
        self.key_prompts = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
        self.value_prompts = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
        self.prompt_dropout = nn.Dropout(dropout)
        self.head = nn.Linear(vit.num_features, num_classes)

    def _attention(self, attn: nn.Module, x: Tensor, layer: int) -> Tensor:
        """timm's Attention.forward with prompt keys/values appended after the qkv projection."""
        B, N, C = x.shape
        qkv = attn.qkv(x).reshape(B, N, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each [B, heads, N, head_dim]
        q, k = attn.q_norm(q), attn.k_norm(k)
        k_prompt = self.prompt_dropout(self.key_prompts[layer]).expand(B, -1, -1, -1)
        v_prompt = self.prompt_dropout(self.value_prompts[layer]).expand(B, -1, -1, -1)
        k, v = torch.cat([k, k_prompt], dim=2), torch.cat([v, v_prompt], dim=2)
        # N queries against N+P keys: the output keeps N tokens.
        x = F.scaled_dot_product_attention(q, k, v, scale=attn.scale)
        x = x.transpose(1, 2).reshape(B, N, C)
        x = getattr(attn, "norm", nn.Identity())(x)
        return attn.proj_drop(attn.proj(x))

    def forward(self, images: Tensor) -> Tensor:
        x = self.vit.norm_pre(embed_tokens(self.vit, images))
        for i, blk in enumerate(self.vit.blocks):
            # timm's Block.forward with the attention call swapped for the prompted one.
            x = x + blk.drop_path1(blk.ls1(self._attention(blk.attn, blk.norm1(x), i)))
            x = x + blk.drop_path2(blk.ls2(blk.mlp(blk.norm2(x))))
        return pool_and_head(self.vit, x, self.head, skip=0)


def _run(name: str, build: Callable[[nn.Module], nn.Module], *, device: str, steps: int | None, seed: int, config: RunConfig) -> RunResult:
    return fit_and_evaluate(name, build, device=device, steps=steps or config.steps, lr=config.lr, seed=seed,
                            batch_size=config.batch_size, weight_decay=config.weight_decay)


def run_vpt_shallow(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return _run("vpt-shallow", lambda vit: PromptedViT(vit, num_classes=10, deep=False),
                device=device, steps=steps, seed=seed, config=RunConfig())


def run_vpt_deep(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return _run("vpt-deep", lambda vit: PromptedViT(vit, num_classes=10, deep=True),
                device=device, steps=steps, seed=seed, config=RunConfig())


def run_vpt_kv(*, device: str = "cpu", steps: int | None = None, seed: int = 0) -> RunResult:
    return _run("vpt-kv", lambda vit: KeyValuePromptedViT(vit, num_classes=10),
                device=device, steps=steps, seed=seed, config=RunConfig())


RUNNERS = {"vpt-shallow": run_vpt_shallow, "vpt-deep": run_vpt_deep, "vpt-kv": run_vpt_kv}
