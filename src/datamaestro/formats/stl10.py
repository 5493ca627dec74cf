"""STL-10's binary files: ``<split>_X.bin``, ``<split>_y.bin`` and ``class_names.txt`` (``stl10_binary``).

Each image of ``<split>_X.bin`` is 3x96x96 bytes, stored channel by channel,
each channel column by column (MATLAB order); ``<split>_y.bin`` holds one
byte per image, 1 to 10; ``class_names.txt`` one class name per line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.bounds import check_bytes
from datamaestro.formats.splits import save_split

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


def save(folder: Path, out: Path, split: str, max_bytes: Optional[int] = None) -> None:
    """Write a labelled split as the ``.npy`` split of ``out``: upright (N, 3, 96, 96) uint8 images, labels from 0."""
    classes = len(read_class_names(folder))
    images_path, labels_path = Path(folder) / f"{split}_X.bin", Path(folder) / f"{split}_y.bin"
    for path in (images_path, labels_path):
        if not path.is_file():
            raise FormatError(f"{folder}: missing {path.name}")
    size = images_path.stat().st_size
    if size == 0 or size % (3 * SIDE * SIDE):
        raise FormatError(f"{images_path}: {size} bytes is not a whole number of 3x96x96 images")
    check_bytes(size, max_bytes, images_path, "its images")
    raw = np.memmap(images_path, dtype=np.uint8, mode="r").reshape(-1, 3, SIDE, SIDE)
    labels = np.fromfile(labels_path, dtype=np.uint8).astype(np.int64) - 1
    save_split(out, split, raw.transpose(0, 1, 3, 2), labels, classes, str(labels_path))
