"""STL-10's binary files: ``<split>_X.bin``, ``<split>_y.bin`` and ``class_names.txt`` (``stl10_binary``).

Each image of ``<split>_X.bin`` is 3x96x96 bytes, stored channel by channel,
each channel column by column (MATLAB order); ``<split>_y.bin`` holds one
byte per image, 1 to 10; ``class_names.txt`` one class name per line.
``unlabeled_X.bin`` holds the 100,000 unlabelled images and ``fold_indices.txt``
the 10 predefined training folds (one line each: 0-based indices into the
training images).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.bounds import check_bytes
from datamaestro.formats.splits import save_split, split_files

#: height and width of every image
SIDE = 96


def read_class_names(folder: Path) -> list[str]:
    """The lines of ``class_names.txt``."""
    path = Path(folder) / "class_names.txt"
    try:
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(f"{path}: not readable ({e})") from None
    if not names:
        raise FormatError(f"{path}: no class names")
    return names


#: images converted at a time when writing the unlabelled split (about 28 MB)
CHUNK = 1000
#: the label of an image that has none (as torchvision's STL10 gives it)
NO_LABEL = -1


def images(folder: Path, split: str, max_bytes: Optional[int] = None) -> np.ndarray:
    """The images of ``<split>_X.bin``, memory-mapped and viewed upright: (N, 3, 96, 96) uint8."""
    path = Path(folder) / f"{split}_X.bin"
    if not path.is_file():
        raise FormatError(f"{folder}: missing {path.name}")
    size = path.stat().st_size
    if size == 0 or size % (3 * SIDE * SIDE):
        raise FormatError(f"{path}: {size} bytes is not a whole number of 3x96x96 images")
    check_bytes(size, max_bytes, path, "its images")
    return np.memmap(path, dtype=np.uint8, mode="r").reshape(-1, 3, SIDE, SIDE).transpose(0, 1, 3, 2)


def save(folder: Path, out: Path, split: str, max_bytes: Optional[int] = None) -> None:
    """Write a labelled split as the ``.npy`` split of ``out``: upright (N, 3, 96, 96) uint8 images, labels from 0."""
    classes = len(read_class_names(folder))
    labels_path = Path(folder) / f"{split}_y.bin"
    upright = images(folder, split, max_bytes)
    if not labels_path.is_file():
        raise FormatError(f"{folder}: missing {labels_path.name}")
    labels = np.fromfile(labels_path, dtype=np.uint8).astype(np.int64) - 1
    save_split(out, split, upright, labels, classes, str(labels_path))


def save_unlabelled(folder: Path, out: Path, max_bytes: Optional[int] = None) -> None:
    """Write ``unlabeled_X.bin`` as the ``.npy`` split ``unlabeled`` of ``out``: upright images, labels all -1.

    The images are copied a chunk at a time, never all in memory."""
    upright = images(folder, "unlabeled", max_bytes)
    images_file, labels_file = split_files(out, "unlabeled")
    written = np.lib.format.open_memmap(images_file, mode="w+", dtype=np.uint8, shape=upright.shape)
    for start in range(0, upright.shape[0], CHUNK):
        written[start : start + CHUNK] = upright[start : start + CHUNK]
    written.flush()
    del written
    np.save(labels_file, np.full(upright.shape[0], NO_LABEL, dtype=np.int64))


def read_folds(folder: Path, train_size: int) -> np.ndarray:
    """``fold_indices.txt``: one line per training fold, the 0-based indices (into the ``train_size``
    training images) of its images; as an int64 array (folds, images per fold)."""
    path = Path(folder) / "fold_indices.txt"
    try:
        lines = [line.split() for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
        folds = np.array([[int(field) for field in line] for line in lines], dtype=np.int64)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise FormatError(f"{path}: not lines of image indices ({e})") from None
    if folds.ndim != 2 or folds.size == 0:
        raise FormatError(f"{path}: expected folds of the same number of indices, one fold a line")
    if folds.min() < 0 or folds.max() >= train_size:
        raise FormatError(f"{path}: an index lies outside the {train_size} training images (0..{train_size - 1})")
    return folds
