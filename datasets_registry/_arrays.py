"""Shared by the definitions that convert published files into ``.npy`` split arrays.

A ``derived`` build writes ``<split>_images.npy`` (uint8, upright) and
``<split>_labels.npy`` (int64, 0-based) with ``save_split``; the definition
function reads them back as typed splits with ``npy_split``. (A module whose
name starts with ``_`` defines no datasets: the registry skips it.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datamaestro.data.images import LabelledImages
from datamaestro.data.npy import NPY
from datamaestro.errors import FormatError


def save_split(out: Path, split: str, images: np.ndarray, labels: np.ndarray, classes: int, source: str) -> None:
    """Check a split (one label in ``[0, classes)`` per image) and write its two ``.npy`` files."""
    if images.ndim < 3:
        raise FormatError(f"{source}: expected a stack of images, got an array of shape {images.shape}")
    save_labels(out, split, labels, images.shape[0], classes, source)
    np.save(Path(out) / f"{split}_images.npy", np.ascontiguousarray(images, dtype=np.uint8))


def save_labels(out: Path, split: str, labels: np.ndarray, count: int, classes: int, source: str) -> None:
    """Check ``count`` labels in ``[0, classes)`` and write ``<split>_labels.npy`` (int64)."""
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != count:
        raise FormatError(f"{source}: {count} images but {labels.shape[0]} labels")
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise FormatError(f"{source}: item {i} has label {int(labels[i])}, outside 0..{classes - 1}")
    np.save(Path(out) / f"{split}_labels.npy", labels.astype(np.int64))


def npy_split(folder: Path, split: str) -> LabelledImages:
    """The split ``save_split`` wrote in ``folder``."""
    folder = Path(folder)
    return LabelledImages(
        images=NPY(path=folder / f"{split}_images.npy"), labels=NPY(path=folder / f"{split}_labels.npy"),
    )
