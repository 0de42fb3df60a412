"""Small runnable PyTorch reference implementations of prompt-based adaptation for ViTs.

One module per category of the taxonomy's `method` facet (vp_fixed, vp_learnable, vp_generated,
vpt_learnable, vpt_generated) plus test_time for the test-time setting. They share a tiny
timm-compatible ViT (tiny_vit), a generated mini benchmark (data), a backbone pretrained once on
its source task and cached (backbone), and one training loop with the two baselines (engine).

    python -m reference_impls list | run <name> [--device cpu|cuda] | bench [--json PATH]
"""
