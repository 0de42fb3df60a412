"""`train`, `evaluate` and `predict` on your own image folder and ViT (the commands; cli.py parses).

    python -m reference_impls train vpt-deep --data DIR --out CKPT [--model NAME --weights FILE]
    python -m reference_impls evaluate --checkpoint CKPT --data DIR
    python -m reference_impls predict --checkpoint CKPT IMAGE [IMAGE ...]

`train` checks the folder (imagefolder.py), builds the frozen backbone (vit_weights.py) and the
method's wrapper (recipes.py), trains (train.py, also under torchrun) and writes only the trained
tensors plus a config (checkpoint.py). `evaluate` and `predict` rebuild the backbone, refuse
weights whose fingerprint differs from the one the prompt was trained on, and load the prompt.
Every mistake a user can make raises one of the modules' one-line errors; cli.py prints it and
exits with status 2.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

from .checkpoint import FORMAT, CheckpointError, load_trained_state, read_checkpoint, save_checkpoint, trained_state
from .engine import count_parameters
from .imagefolder import DataError, ImageDataset, load_image, scan_image_folder
from .recipes import RECIPES, MethodError, Settings, build_model, resolved_settings, wrapper_inputs
from .train import Processes, TrainConfig, evaluate, fit, shard_loader, start_processes, stop_processes
from .vit_weights import WeightsError, load_backbone


class UsageError(ValueError):
    """A command-line setting that cannot work; str() is one line."""


def _settings(args) -> Settings:
    return Settings(num_tokens=args.num_tokens, prompt_dropout=args.prompt_dropout, prompt_size=args.prompt_size)


def train_command(args) -> int:
    recipe = RECIPES[args.method]
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    config = TrainConfig(
        epochs=args.epochs, batch_size=recipe.batch_size if args.batch_size is None else args.batch_size,
        lr=recipe.lr if args.lr is None else args.lr,
        weight_decay=recipe.weight_decay if args.weight_decay is None else args.weight_decay, seed=args.seed,
        amp=args.amp, workers=args.workers,
    )
    for flag, value, ok in (("--epochs", config.epochs, config.epochs >= 1), ("--lr", config.lr, config.lr > 0),
                            ("--weight-decay", config.weight_decay, config.weight_decay >= 0),
                            ("--workers", config.workers, config.workers >= 0),
                            ("--val-fraction", args.val_fraction, 0 < args.val_fraction < 1),
                            ("--image-size", args.image_size, args.image_size is None or args.image_size > 0),
                            ("--std", args.std, args.std is None or min(args.std) > 0)):
        if not ok:
            raise UsageError(f"{flag} {value}: out of range")
    if args.device == "cuda" and world_size > torch.cuda.device_count():
        raise UsageError(f"{world_size} processes on --device cuda need as many GPUs; "
                         f"{torch.cuda.device_count()} visible")
    if config.batch_size < world_size or config.batch_size % world_size:
        raise UsageError(f"--batch-size {config.batch_size} is the global batch: it must split evenly over "
                         f"{world_size} processes")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder")
    # Everything a user can get wrong is checked before any process group or training starts.
    split = scan_image_folder(args.data, val_fraction=args.val_fraction, seed=args.seed)
    backbone = load_backbone(args.model, args.weights, image_size=args.image_size, mean=args.mean, std=args.std)
    torch.manual_seed(args.seed)  # the wrapper's initialisation: identical on every process
    model = build_model(recipe, backbone.module, num_classes=len(split.classes), image_size=backbone.image_size,
                        mean=backbone.mean, std=backbone.std, settings=_settings(args))
    procs = start_processes(args.device)
    trainable = count_parameters(model, trainable_only=True)
    say = print if procs.is_main else (lambda *_: None)
    say(f"{recipe.name} ({recipe.category}) on {args.data}: {len(split.classes)} classes, {len(split.train)} "
        f"training / {len(split.val)} validation images ({split.val_source})")
    say(f"backbone {backbone.model} ({backbone.fingerprint[:19]}...), {backbone.num_parameters:,} parameters; "
        f"trainable {trainable:,} ({100 * trainable / backbone.num_parameters:.3f}%)")
    say(f"{procs.world_size} process(es) on {procs.device.type}, global batch {config.batch_size}, "
        f"{config.epochs} epochs, lr {config.lr}")
    inputs = lambda images: wrapper_inputs(images, backbone.mean, backbone.std)  # noqa: E731
    metrics = fit(
        model, train_set=ImageDataset(split.train, backbone.image_size),
        val_set=ImageDataset(split.val, backbone.image_size), inputs=inputs, config=config, procs=procs,
        trainer=recipe.trainer, label_mapping=recipe.label_mapping, log=say,
    )
    if procs.is_main:
        record = {
            "format": FORMAT,
            "method": recipe.name,
            "category": recipe.category,
            "settings": resolved_settings(recipe, model),
            "training": {**vars(config), "world_size": procs.world_size, "device": procs.device.type},
            "backbone": {"model": backbone.model, "weights": backbone.weights, "fingerprint": backbone.fingerprint,
                         "parameters": backbone.num_parameters, "bytes": backbone.num_bytes},
            "trainable_parameters": trainable,
            "classes": list(split.classes),
            "image_size": backbone.image_size,
            "normalization": {"mean": list(backbone.mean), "std": list(backbone.std)},
            "split": {"val": split.val_source, "val_fraction": args.val_fraction, "seed": args.seed,
                      "train_images": len(split.train), "val_images": len(split.val)},
            "metrics": metrics,
            "versions": {"torch": torch.__version__, "python": platform.python_version()},
        }
        written = save_checkpoint(out, trained_state(model, backbone.module), record)
        size = written["prompt"]["bytes"]
        print(f"validation accuracy {100 * metrics[-1]['val_accuracy']:.2f}% after {config.epochs} epochs")
        print(f"wrote {out / 'prompt.safetensors'}: {size:,} bytes, {100 * size / backbone.num_bytes:.3f}% of "
              f"the backbone's {backbone.num_bytes:,} bytes (not stored); and {out / 'config.json'}")
    stop_processes()
    return 0


def _load_for_inference(args):
    """(config, wrapper, backbone) from a checkpoint folder and the backbone it names (or --model/--weights)."""
    config, tensors = read_checkpoint(args.checkpoint)
    if config["method"] not in RECIPES:
        raise CheckpointError(f"{Path(args.checkpoint) / 'config.json'}: method: unknown {config['method']!r}")
    recipe, recorded = RECIPES[config["method"]], config["backbone"]
    if args.model and args.model != recorded["model"]:
        raise UsageError(f"--model {args.model}: the checkpoint was trained on {recorded['model']}")
    weights = args.weights or recorded["weights"]
    if args.weights is None and weights and not Path(weights).is_file():
        raise UsageError(f"{weights}: no such file (the weights recorded in {Path(args.checkpoint) / 'config.json'}); "
                         f"pass --weights FILE")
    backbone = load_backbone(recorded["model"], weights, image_size=config["image_size"],
                             mean=tuple(config["normalization"]["mean"]), std=tuple(config["normalization"]["std"]),
                             device=args.device)
    if backbone.fingerprint != recorded["fingerprint"]:
        source = weights or "the bundled weights"
        raise CheckpointError(f"{source}: weights fingerprint {backbone.fingerprint[:19]}... differs from the "
                              f"checkpoint's {recorded['fingerprint'][:19]}... (trained on other weights)")
    torch.manual_seed(config["training"]["seed"])
    fields = {k: v for k, v in config["settings"].items() if k in vars(Settings())}
    model = build_model(recipe, backbone.module, num_classes=len(config["classes"]), image_size=config["image_size"],
                        mean=backbone.mean, std=backbone.std, settings=Settings(**fields))
    load_trained_state(model, backbone.module, tensors, str(Path(args.checkpoint) / "prompt.safetensors"))
    return config, model.to(args.device).eval(), backbone


def evaluate_command(args) -> int:
    config, model, backbone = _load_for_inference(args)
    split_info = config["split"]
    split = scan_image_folder(args.data, val_fraction=split_info["val_fraction"], seed=split_info["seed"])
    if list(split.classes) != config["classes"]:
        raise UsageError(f"{args.data}: classes {', '.join(split.classes)} differ from the checkpoint's "
                         f"{', '.join(config['classes'])}")
    procs = Processes(device=torch.device(args.device))
    training = config["training"]
    loader = shard_loader(ImageDataset(split.val, config["image_size"]), procs, training["batch_size"], args.workers)
    accuracy = evaluate(model, loader, lambda x: wrapper_inputs(x, backbone.mean, backbone.std), procs,
                        seed=training["seed"], amp=args.amp)
    print(f"{config['method']} accuracy {100 * accuracy:.2f}% on {len(split.val)} images ({split.val_source})")
    return 0


@torch.no_grad()
def predict_command(args) -> int:
    config, model, backbone = _load_for_inference(args)
    if args.top_k < 1:
        raise UsageError(f"--top-k {args.top_k}: must be at least 1")
    classes, k = config["classes"], min(args.top_k, len(config["classes"]))
    for path in args.images:
        image = load_image(path, config["image_size"]).unsqueeze(0).to(args.device)
        probabilities = model(wrapper_inputs(image, backbone.mean, backbone.std)).float().softmax(-1)[0]
        top = probabilities.topk(k)
        print(f"{path}: " + ", ".join(f"{classes[i]} {100 * p:.1f}%" for p, i in zip(top.values.tolist(),
                                                                               top.indices.tolist(), strict=True)))
    return 0


COMMANDS = {"train": train_command, "evaluate": evaluate_command, "predict": predict_command}
USER_ERRORS = (DataError, WeightsError, CheckpointError, MethodError, UsageError)
