"""Your own images, in torchvision's ImageFolder layout, read with Pillow (torchvision not needed).

    DIR/train/<class>/*.jpg|*.jpeg|*.png      required; at least two classes
    DIR/val/<class>/...                       optional; the same classes as train/

Without val/, a seeded, per-class split holds out `val_fraction` of each class's training images
(at least one), so the same seed gives the same split on every machine and in every process.

Everything a user can get wrong is checked before any training starts, and reported as a
one-line DataError naming the file or folder: a missing or empty folder, an image outside a
class folder, a class without images, a class missing from val/ (or one val/ has and train/
does not), and an image Pillow cannot open. A file that passes that check but fails to decode
later (a truncated JPEG) raises a DataError naming it at that point.

Images are decoded to RGB, the shorter side resized to `image_size` (bicubic) and the centre
cropped square, then kept as uint8 [3, S, S]; the training loop scales them to [0, 1]. There is
no augmentation: runs are reproducible and N processes see exactly the images one process sees.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class DataError(ValueError):
    """A problem with the user's image folder; str() is one line naming the file."""


@dataclass(frozen=True)
class ImageFolderSplit:
    classes: tuple[str, ...]
    train: tuple[tuple[Path, int], ...]  # (image path, class index), sorted by path
    val: tuple[tuple[Path, int], ...]
    val_source: str  # "val/" or "seeded split of train/ (fraction F, seed S)"


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def _class_images(split_dir: Path) -> dict[str, list[Path]]:
    """class name -> sorted image paths of one split folder (train/ or val/), with layout checks."""
    if not split_dir.is_dir():
        raise DataError(f"{split_dir}: not a folder (expected {split_dir.name}/<class>/<image>)")
    classes: dict[str, list[Path]] = {}
    for entry in sorted(split_dir.iterdir()):
        if entry.name.startswith("."):
            continue  # .DS_Store and friends
        if entry.is_file():
            if _is_image(entry):
                raise DataError(f"{entry}: an image directly in {split_dir.name}/; put it in a class folder "
                                f"({split_dir.name}/<class>/{entry.name})")
            continue
        images = sorted(Path(root) / name for root, _, names in os.walk(entry) for name in names
                        if _is_image(Path(name)))
        if not images:
            raise DataError(f"{entry}: class folder without images ({', '.join(IMAGE_SUFFIXES)})")
        classes[entry.name] = images
    if not classes:
        raise DataError(f"{split_dir}: no class folders (expected {split_dir.name}/<class>/<image>)")
    return classes


def _check_readable(paths: list[Path]) -> None:
    """Open every image's header with Pillow (cheap: no full decode) so a broken file fails now."""
    for path in paths:
        try:
            with Image.open(path) as image:
                image.verify()
        except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as error:
            raise DataError(f"{path}: not a readable image ({error})") from None


def scan_image_folder(root: str | os.PathLike, *, val_fraction: float = 0.2, seed: int = 0,
                      check_images: bool = True) -> ImageFolderSplit:
    """Read and check the layout of `root`; return classes and (path, label) lists."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder (expected {root}/train/<class>/<image>)")
    train = _class_images(root / "train")
    classes = tuple(sorted(train))
    if len(classes) < 2:
        raise DataError(f"{root / 'train'}: needs at least two class folders, found {len(classes)}")
    if (root / "val").exists():
        val = _class_images(root / "val")
        for name in classes:
            if name not in val:
                raise DataError(f"{root / 'val'}: class '{name}' of train/ is missing (add {root / 'val' / name}/)")
        for name in val:
            if name not in train:
                raise DataError(f"{root / 'val' / name}: class not in train/ (train/ has {', '.join(classes)})")
        val_source = "val/"
    else:
        # A per-class split, seeded: each class keeps at least one image on each side.
        rng = random.Random(seed)
        val = {}
        for name in classes:
            images = list(train[name])
            if len(images) < 2:
                raise DataError(f"{root / 'train' / name}: one image is too few to split off a validation "
                                f"image; add images or a val/ folder")
            rng.shuffle(images)
            n_val = min(len(images) - 1, max(1, round(val_fraction * len(images))))
            val[name], train[name] = sorted(images[:n_val]), sorted(images[n_val:])
        val_source = f"seeded split of train/ (fraction {val_fraction}, seed {seed})"
    pairs = lambda table: tuple((path, classes.index(name)) for name in classes for path in table[name])  # noqa: E731
    split = ImageFolderSplit(classes=classes, train=pairs(train), val=pairs(val), val_source=val_source)
    if check_images:
        _check_readable([path for path, _ in split.train + split.val])
    return split


def load_image(path: str | os.PathLike, image_size: int) -> Tensor:
    """RGB uint8 [3, S, S]: shorter side resized to S (bicubic), centre crop."""
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            scale = image_size / min(image.size)
            width, height = max(image_size, round(image.width * scale)), max(image_size, round(image.height * scale))
            image = image.resize((width, height), Image.Resampling.BICUBIC)
            left, top = (width - image_size) // 2, (height - image_size) // 2
            image = image.crop((left, top, left + image_size, top + image_size))
            pixels = np.array(image, dtype=np.uint8)  # a writable copy: torch.from_numpy needs one
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as error:
        raise DataError(f"{path}: cannot decode image ({error})") from None
    return torch.from_numpy(pixels).permute(2, 0, 1).contiguous()


class ImageDataset(torch.utils.data.Dataset):
    """(uint8 image [3, S, S], label) for each (path, label) pair, decoded on access."""

    def __init__(self, samples: tuple[tuple[Path, int], ...], image_size: int) -> None:
        self.samples, self.image_size = samples, image_size

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        path, label = self.samples[index]
        return load_image(path, self.image_size), label
