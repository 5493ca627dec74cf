"""The ``.npy`` split layout that derived builds write: images and labels of a split, memory-mappable.

A split ``<split>`` is ``<split>_images.npy`` (uint8, N images, upright) and
``<split>_labels.npy`` (int64, N labels from 0). ``save_split`` checks and
writes them; the definitions read them back as typed splits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datamaestro.errors import FormatError


def split_files(folder: Path, split: str) -> tuple[Path, Path]:
    """The images and labels files of ``split`` in ``folder``."""
    return Path(folder) / f"{split}_images.npy", Path(folder) / f"{split}_labels.npy"


def save_split(out: Path, split: str, images: np.ndarray, labels: np.ndarray, classes: int, source: str) -> None:
    """Check a split (one label in ``[0, classes)`` per image) and write its two ``.npy`` files."""
    if images.ndim < 3:
        raise FormatError(f"{source}: expected a stack of images, got an array of shape {images.shape}")
    save_labels(out, split, labels, images.shape[0], classes, source)
    np.save(split_files(out, split)[0], np.ascontiguousarray(images, dtype=np.uint8))


def save_labels(out: Path, split: str, labels: np.ndarray, count: int, classes: int, source: str) -> None:
    """Check ``count`` labels in ``[0, classes)`` and write ``<split>_labels.npy`` (int64)."""
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != count:
        raise FormatError(f"{source}: {count} images but {labels.shape[0]} labels")
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise FormatError(f"{source}: item {i} has label {int(labels[i])}, outside 0..{classes - 1}")
    np.save(split_files(out, split)[1], labels.astype(np.int64))
