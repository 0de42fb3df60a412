"""Cost of one training step of prompt methods vs full fine-tuning, on a ViT-B/16-sized backbone.

    python benchmarks/prompt_step.py                        # CPU, batch 8, 5 timed repeats
    python benchmarks/prompt_step.py --device cuda --batch 64 --repeats 20

Backbone: TinyViT at ViT-B/16 size (224 px, patch 16, dim 768, depth 12, 12 heads; 86.6M
parameters, random weights: cost does not depend on the values). One step = forward + backward +
AdamW step on a random batch. Methods: full fine-tuning (the reference, ratio 1.0), VPT-Shallow
and VPT-Deep with 10 tokens, the pad prompter (vp_learnable.py, if present) and linear probing.
After warm-up, the methods are timed in interleaved rounds (so drift in machine load hits all of
them alike) and the median per method is reported, with its ratio to full fine-tuning.

Analytic expectation (printed beside each measurement). Let F be the forward FLOPs. Full
fine-tuning costs about 3F: the forward, plus a backward that computes both the gradient with
respect to each layer's input (~F) and with respect to its weights (~F). A prompt method on a
frozen backbone needs no weight gradients, but the gradient must still travel back through every
layer to reach the prompts (VPT-Shallow: they enter before block 0; VPT-Deep: before every block,
so block 0's set still needs the full path; pad prompter: in pixel space, before the patch
embedding), so it costs about 2F' where F' is the forward on its sequence: VPT adds 10 tokens to
197 (linear layers scale with length, attention with its square), F'/F ~ 1.05, giving
2/3 x 1.05 ~ 0.70. Linear probing runs the backbone without autograd: ~F/3F = 0.33. The full
fine-tuning step also pays AdamW's update of 86M weights, which the prompt methods skip, so the
measured ratios may come out a little below the analytic ones. Target (DESIGN.md): VPT <= 0.75.

Memory: on CUDA, peak allocated memory during the step (torch.cuda.max_memory_allocated) beyond
what was allocated before it. On CPU no per-step peak is meaningful from inside the process (the
allocator reuses freed blocks and RSS only grows), so it is reported as n/a.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reference_impls.engine import FullFinetune, LinearProbe, count_parameters  # noqa: E402
from reference_impls.tiny_vit import TinyViT  # noqa: E402
from reference_impls.vpt_learnable import PromptedViT  # noqa: E402

IMG, PATCH, DIM, DEPTH, HEADS, TOKENS = 224, 16, 768, 12, 12, 10


def forward_flops(seq: int, dim: int = DIM, depth: int = DEPTH) -> float:
    """Per image: 12 dim^2 multiply-adds per token in qkv/proj/MLP, 2 seq^2 dim in attention."""
    return 2 * depth * (12 * seq * dim**2 + 2 * seq**2 * dim)


def methods(vit: nn.Module) -> dict[str, tuple[Callable[[], nn.Module], float]]:
    """name -> (builder, analytic cost ratio to full fine-tuning)."""
    seq = 1 + (IMG // PATCH) ** 2
    full = 3 * forward_flops(seq)
    prompted = 2 * forward_flops(seq + TOKENS) / full
    table = {
        "full-finetune": (lambda: FullFinetune(vit, num_classes=100), 1.0),
        "vpt-shallow": (lambda: PromptedViT(vit, num_classes=100, num_tokens=TOKENS), prompted),
        "vpt-deep": (lambda: PromptedViT(vit, num_classes=100, num_tokens=TOKENS, deep=True), prompted),
    }
    try:
        from reference_impls.vp_learnable import PadPrompter, PromptedClassifier

        table["pad-prompter"] = (
            lambda: PromptedClassifier(vit, PadPrompter(image_size=IMG, pad=30), num_classes=100),
            2 * forward_flops(seq) / full,
        )
    except ImportError:
        print("(vp_learnable.py not importable: pad prompter skipped)", file=sys.stderr)
    table["linear-probe"] = (lambda: LinearProbe(vit, num_classes=100), forward_flops(seq) / full)
    return table


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               device: torch.device) -> tuple[float, float | None]:
    """One forward+backward+optimizer step: (seconds, extra peak MB on CUDA or None)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    _sync(device)
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
    _sync(device)
    seconds = time.perf_counter() - start
    peak = (torch.cuda.max_memory_allocated(device) - base) / 2**20 if device.type == "cuda" else None
    return seconds, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda was given but torch sees no CUDA device; use --device cpu", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    torch.manual_seed(0)
    vit = TinyViT(img_size=IMG, patch_size=PATCH, embed_dim=DIM, depth=DEPTH, num_heads=HEADS, num_classes=1000)
    vit = vit.to(device).eval()
    backbone_params = count_parameters(vit)
    x = torch.rand(args.batch, 3, IMG, IMG, device=device)
    y = torch.randint(0, 100, (args.batch,), device=device)

    table = methods(vit)
    models, optimizers = {}, {}
    for name, (build, _) in table.items():
        models[name] = build().to(device).train()
        optimizers[name] = torch.optim.AdamW([p for p in models[name].parameters() if p.requires_grad], lr=1e-4)
    times: dict[str, list[float]] = {name: [] for name in table}
    peaks: dict[str, float | None] = {}
    for round_ in range(args.warmup + args.repeats):
        for name in table:  # interleaved: every method sees the same machine conditions
            seconds, peak = timed_step(models[name], optimizers[name], x, y, device)
            if round_ >= args.warmup:
                times[name].append(seconds)
                peaks[name] = peak if peaks.get(name) is None else max(peaks[name], peak)

    reference = statistics.median(times["full-finetune"])
    ref_peak = peaks["full-finetune"]
    print(f"ViT-B/16-sized TinyViT ({backbone_params / 1e6:.1f}M params), batch {args.batch}, {args.device}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {args.repeats} after "
          f"{args.warmup} warm-up")
    header = f"{'method':<14} {'trainable':>11} {'% backbone':>10} {'step ms':>9} {'ratio':>6} {'analytic':>8} {'peak MB':>8}"
    print(header)
    print("-" * len(header))
    for name, (_, analytic) in table.items():
        step = statistics.median(times[name])
        trainable = count_parameters(models[name], trainable_only=True)
        peak = peaks[name]
        peak_text = "n/a" if peak is None else f"{peak:.0f} ({peak / ref_peak:.2f}x)"
        print(f"{name:<14} {trainable:>11,} {100 * trainable / backbone_params:>10.3f} {1000 * step:>9.1f} "
              f"{step / reference:>6.2f} {analytic:>8.2f} {peak_text:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
