"""A tiny Vision Transformer with exactly timm's attribute names.

Every prompt method in this package hooks into a ViT through the names timm's
`VisionTransformer` uses (`patch_embed`, `_pos_embed`, `patch_drop`, `norm_pre`, `blocks`,
`norm`, `fc_norm`, `head`, `num_prefix_tokens`, ...). This file re-implements the subset of
timm's ViT that those methods touch, so the tests need neither timm nor downloaded weights, and
the same wrapper code runs unchanged on `timm.create_model("vit_base_patch16_224")`.

References:
  Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021, arXiv 2010.11929.
  timm: https://github.com/huggingface/pytorch-image-models (timm/models/vision_transformer.py).

Departures from timm: no register tokens, no dynamic image size, no layer scale or stochastic
depth (`ls1`, `drop_path1`, ... exist as `nn.Identity` so code written for timm finds them),
no attention pooling; the forward pass is the same sequence of operations. Position embeddings
are learnable as in timm but start, by default, from MAE's 2D sin-cos table (He et al., "Masked
Autoencoders Are Scalable Vision Learners", CVPR 2022) instead of trunc-normal(0.02): a large
ViT learns spatial structure from its data, while our short pretraining on a task that does
not depend on position would leave positions near their random start, and downstream tasks
that do need position (data.py's "texture-side") would then have nothing to find.

The defaults (32x32 images, 4x4 patches, 64 dims, 6 blocks) make a model of about 0.3M
parameters that pretrains on two CPU cores in one to two minutes (see backbone.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def sincos_2d(grid_size: tuple[int, int], dim: int) -> Tensor:
    """MAE's fixed 2D sin-cos position table [1, H*W, dim]: half the channels encode the row, half the column."""
    assert dim % 4 == 0, f"embed_dim {dim} must be a multiple of 4 for 2D sin-cos positions"
    omega = 1.0 / 10000 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim // 4))

    def encode(pos: Tensor) -> Tensor:  # [M] -> [M, dim/2]
        angles = pos.double()[:, None] * omega[None]
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    rows, cols = torch.meshgrid(torch.arange(grid_size[0]), torch.arange(grid_size[1]), indexing="ij")
    table = torch.cat([encode(rows.flatten()), encode(cols.flatten())], dim=1)  # row-major, as patches are
    return table.float().unsqueeze(0)


class PatchEmbed(nn.Module):
    """Image [B, C, H, W] -> patch tokens [B, N, D] with a strided convolution, as in timm."""

    def __init__(self, *, img_size: int, patch_size: int, in_chans: int, embed_dim: int) -> None:
        super().__init__()
        assert img_size % patch_size == 0, f"img_size {img_size} must be a multiple of patch_size {patch_size}"
        self.img_size = (img_size, img_size)
        self.patch_size = (patch_size, patch_size)
        self.grid_size = (img_size // patch_size, img_size // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        x = self.proj(x)  # [B, D, H/p, W/p]
        return self.norm(x.flatten(2).transpose(1, 2))  # [B, N, D], N in row-major order


class Attention(nn.Module):
    """Multi-head self-attention with a single fused qkv projection (timm's layout)."""

    def __init__(self, dim: int, *, num_heads: int) -> None:
        super().__init__()
        assert dim % num_heads == 0, f"dim {dim} must be divisible by num_heads {num_heads}"
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim**-0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.q_norm = nn.Identity()
        self.k_norm = nn.Identity()
        self.attn_drop = nn.Dropout(0.0)
        self.norm = nn.Identity()
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.0)

    def forward(self, x: Tensor) -> Tensor:
        B, N, C = x.shape
        # [B, N, 3*C] -> [3, B, heads, N, head_dim]
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q, k = self.q_norm(q), self.k_norm(k)
        x = F.scaled_dot_product_attention(q, k, v, scale=self.scale)
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(self.norm(x)))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x))."""

    def __init__(self, dim: int, *, num_heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads=num_heads)
        self.ls1 = nn.Identity()
        self.drop_path1 = nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.ls2 = nn.Identity()
        self.drop_path2 = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
        return x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))


class TinyViT(nn.Module):
    """timm-compatible ViT. `forward` expects normalised images (see data.normalize)."""

    def __init__(
        self,
        *,
        img_size: int = 32,
        patch_size: int = 4,
        in_chans: int = 3,
        num_classes: int = 10,
        embed_dim: int = 64,
        depth: int = 6,
        num_heads: int = 4,
        mlp_ratio: float = 4.0,
        global_pool: str = "token",
        class_token: bool = True,
        pos_embed_init: str = "sincos",
    ) -> None:
        super().__init__()
        assert pos_embed_init in ("sincos", "trunc_normal"), f"unknown pos_embed_init {pos_embed_init!r}"
        assert global_pool in ("token", "avg"), f"global_pool must be 'token' or 'avg', not {global_pool!r}"
        assert class_token or global_pool == "avg", "global_pool='token' needs class_token=True"
        self.num_classes = num_classes
        self.global_pool = global_pool
        self.embed_dim = self.num_features = embed_dim
        self.num_prefix_tokens = 1 if class_token else 0

        self.patch_embed = PatchEmbed(img_size=img_size, patch_size=patch_size, in_chans=in_chans, embed_dim=embed_dim)
        num_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if class_token else None
        # One position per token, the class token included (timm's default, no_embed_class=False).
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + self.num_prefix_tokens, embed_dim))
        self.pos_drop = nn.Dropout(0.0)
        self.patch_drop = nn.Identity()
        self.norm_pre = nn.Identity()
        self.blocks = nn.Sequential(
            *[Block(embed_dim, num_heads=num_heads, mlp_ratio=mlp_ratio) for _ in range(depth)]
        )
        # timm puts the final norm after pooling (fc_norm) when pooling is "avg".
        use_fc_norm = global_pool == "avg"
        self.norm = nn.Identity() if use_fc_norm else nn.LayerNorm(embed_dim, eps=1e-6)
        self.fc_norm = nn.LayerNorm(embed_dim, eps=1e-6) if use_fc_norm else nn.Identity()
        self.head_drop = nn.Dropout(0.0)
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        self._init_weights(pos_embed_init)

    def _init_weights(self, pos_embed_init: str) -> None:
        # timm's "timm" scheme (truncated normal for linear layers, tiny class token), except that
        # positions start from MAE's 2D sin-cos table by default (see the module docstring).
        if pos_embed_init == "sincos":
            with torch.no_grad():
                self.pos_embed[:, self.num_prefix_tokens :] = sincos_2d(self.patch_embed.grid_size, self.embed_dim)
                self.pos_embed[:, : self.num_prefix_tokens] = 0.0
        else:
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        if self.cls_token is not None:
            nn.init.normal_(self.cls_token, std=1e-6)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def reset_classifier(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.head = nn.Linear(self.embed_dim, num_classes) if num_classes > 0 else nn.Identity()

    def _pos_embed(self, x: Tensor) -> Tensor:
        """Prepend the class token and add position embeddings: [B, N, D] -> [B, 1+N, D]."""
        if self.cls_token is not None:
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        return self.pos_drop(x + self.pos_embed)

    def forward_features(self, x: Tensor) -> Tensor:
        x = self.patch_embed(x)
        x = self._pos_embed(x)
        x = self.patch_drop(x)
        x = self.norm_pre(x)
        x = self.blocks(x)
        return self.norm(x)

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        if self.global_pool == "avg":
            x = x[:, self.num_prefix_tokens :].mean(dim=1)
        else:
            x = x[:, 0]
        x = self.head_drop(self.fc_norm(x))
        return x if pre_logits else self.head(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))
