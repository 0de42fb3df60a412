"""A prompt checkpoint: the trained tensors in prompt.safetensors and how to rebuild the rest in config.json.

    OUT/prompt.safetensors   every tensor of the wrapper that is NOT the backbone's: prompts, a
                             generator, a head, and the method's untrained state (a label mapping,
                             BlackVIP's frozen random encoder). The header records the method.
    OUT/config.json          method and settings, the backbone's name and weight fingerprint,
                             classes, image size, normalisation, metrics per epoch, and the
                             SHA-256 of prompt.safetensors (so a file from another run is refused)

"Not the backbone's" is decided by storage: a tensor that IS one of the backbone's tensors is
left out, so a method that trains the backbone itself (full fine-tuning works on a copy) saves
all of it, and every prompt method saves only its own few tensors.

Writes are atomic: both files are written to a staging folder beside OUT and moved in only when
complete, so a failed run leaves OUT as it was (a new OUT appears whole or not at all).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import Tensor, nn

FORMAT = "reference_impls.prompt/1"
PROMPT_FILE, CONFIG_FILE = "prompt.safetensors", "config.json"
REQUIRED_KEYS = ("method", "settings", "backbone", "classes", "image_size", "normalization", "split", "prompt")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used as asked; str() is one line naming the file."""


def trained_state(model: nn.Module, backbone: nn.Module) -> dict[str, Tensor]:
    """The wrapper's state dict minus every tensor that shares storage with the backbone's."""
    backbone_storage = {t.untyped_storage().data_ptr() for t in backbone.state_dict().values()}
    return {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()
            if tensor.untyped_storage().data_ptr() not in backbone_storage}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint(out: str | os.PathLike, tensors: dict[str, Tensor], config: dict) -> dict:
    """Write prompt.safetensors and config.json into `out` atomically; returns the config written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CheckpointError(f"{out}: exists and is not a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    try:
        save_file(tensors, staging / PROMPT_FILE, metadata={"format": FORMAT, "method": config["method"]})
        config = {**config, "prompt": {
            "file": PROMPT_FILE, "bytes": (staging / PROMPT_FILE).stat().st_size,
            "sha256": _sha256(staging / PROMPT_FILE),
            "tensors": {name: list(t.shape) for name, t in sorted(tensors.items())},
        }}
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        # mkdtemp makes a private folder; give the checkpoint the permissions of any new file.
        os.chmod(staging, 0o777 & ~umask)
        for name in (PROMPT_FILE, CONFIG_FILE):
            os.chmod(staging / name, 0o666 & ~umask)
        if not out.exists():
            os.rename(staging, out)  # the whole folder appears at once
        else:
            # Prompt first, config last: a crash in between leaves a pair whose hash check fails.
            os.replace(staging / PROMPT_FILE, out / PROMPT_FILE)
            os.replace(staging / CONFIG_FILE, out / CONFIG_FILE)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return config


def read_checkpoint(folder: str | os.PathLike) -> tuple[dict, dict[str, Tensor]]:
    """config.json and the prompt tensors of a checkpoint folder, with every consistency check."""
    folder = Path(folder)
    config_path, prompt_path = folder / CONFIG_FILE, folder / PROMPT_FILE
    for path in (config_path, prompt_path):
        if not path.is_file():
            raise CheckpointError(f"{path}: missing (a checkpoint folder holds {CONFIG_FILE} and {PROMPT_FILE})")
    try:
        config = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        line = f":{error.lineno}" if isinstance(error, json.JSONDecodeError) else ""
        raise CheckpointError(f"{config_path}{line}: not valid JSON ({error})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        found = config.get("format") if isinstance(config, dict) else None
        raise CheckpointError(f"{config_path}: format: expected {FORMAT!r}, found {found!r}")
    for key in REQUIRED_KEYS:
        if key not in config:
            raise CheckpointError(f"{config_path}: {key}: missing")
    try:
        with safe_open(prompt_path, framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"{prompt_path}: not a safetensors file ({error})") from None
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{prompt_path}: not a prompt checkpoint written by reference_impls")
    if metadata.get("method") != config["method"]:
        raise CheckpointError(f"{prompt_path}: a {metadata.get('method')} prompt, but {config_path} is for "
                              f"{config['method']}")
    if _sha256(prompt_path) != config["prompt"]["sha256"]:
        raise CheckpointError(f"{prompt_path}: not the file {config_path} was written with (SHA-256 differs)")
    return config, load_file(prompt_path)


def load_trained_state(model: nn.Module, backbone: nn.Module, tensors: dict[str, Tensor], path: str) -> None:
    """Put `tensors` into the wrapper; refuse unless they are exactly its non-backbone tensors."""
    expected = trained_state(model, backbone)
    wrong = sorted(set(expected) ^ set(tensors)) + sorted(
        k for k in set(expected) & set(tensors) if expected[k].shape != tensors[k].shape)
    if wrong:
        raise CheckpointError(f"{path}: its tensors do not fit this method and backbone "
                              f"({', '.join(wrong[:3])}{', ...' if len(wrong) > 3 else ''})")
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    assert not unexpected and set(missing).isdisjoint(tensors), (missing, unexpected)
