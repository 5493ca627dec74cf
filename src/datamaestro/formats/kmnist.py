"""The Kuzushiji datasets' NumPy format (github.com/rois-codh/kmnist).

One compressed ``.npz`` per array (images (N, 28, 28) uint8, labels from 0),
each holding ``arr_0``, and a class map (CSV: ``index,codepoint,char``)
naming each label by its character.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats import npz
from datamaestro.formats.splits import save_split


def read_classmap(path: Path) -> list[str]:
    """The character of each label, from a class map CSV (``index,codepoint,char``)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise FormatError(f"{path}: not a readable class map ({e})") from None
    try:
        chars = {int(row["index"]): row["char"] for row in rows}
    except (KeyError, TypeError, ValueError):
        raise FormatError(f"{path}: expected the columns index,codepoint,char") from None
    if sorted(chars) != list(range(len(chars))):
        raise FormatError(f"{path}: the class indices are not 0..{len(chars) - 1}")
    return [chars[k] for k in range(len(chars))]


def save(images: Path, labels: Path, classes: int, out: Path, split: str, max_bytes: Optional[int] = None) -> None:
    """Write the published images and labels files as the ``.npy`` split ``split`` of ``out``."""
    array = npz.read(images, max_bytes=max_bytes)
    if array.ndim != 3 or array.dtype != np.uint8:
        raise FormatError(f"{images}: expected (N, 28, 28) uint8 images, got {array.shape} {array.dtype}")
    save_split(out, split, array, npz.read(labels, max_bytes=max_bytes), classes, str(labels))
