"""SVHN's cropped digits: MATLAB v5 files (``train_32x32.mat``...) holding ``X`` and ``y``.

``X`` is (32, 32, 3, N) uint8 (height, width, channel, image) and ``y`` is
(N, 1) numbers from 1 to 10, 10 standing for the digit 0. The files are read
with scipy.io (the extra ``mat``); anything else in them is a one-line
``FormatError`` naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.optional import require

#: height and width of every image
SIZE = 32
#: what to do when a file is not what SVHN publishes
ADVICE = "the file is corrupt or not SVHN's; use an intact copy"


def read_mat(path: Path) -> dict[str, Any]:
    """The variables of a MATLAB v5 file, read with scipy.io (extra ``datamaestro[mat]``)."""
    scipy_io = require("scipy.io", "reading MATLAB .mat files", "scipy", "mat")
    unreadable = (scipy_io.matlab.MatReadError, ValueError, TypeError, OSError, EOFError, NotImplementedError)
    try:
        return scipy_io.loadmat(path)
    except unreadable as e:
        raise FormatError(f"{path}: not a readable MATLAB v5 .mat file ({e}); {ADVICE}") from None


def read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The (N, 3, 32, 32) uint8 images and (N,) int64 digits (0 to 9) of an SVHN ``.mat`` file."""
    content = read_mat(path)
    if "X" not in content or "y" not in content:
        raise FormatError(f"{path}: expected the variables X and y; {ADVICE}")
    images, labels = np.asarray(content["X"]), np.asarray(content["y"])
    if images.ndim != 4 or images.shape[:3] != (SIZE, SIZE, 3) or images.dtype != np.uint8:
        raise FormatError(f"{path}: X should be (32, 32, 3, N) uint8, got {images.shape} {images.dtype}; {ADVICE}")
    if labels.dtype.kind not in "iuf":
        raise FormatError(f"{path}: y should hold numbers (labels 1 to 10), got {labels.dtype} values; {ADVICE}")
    labels = labels.reshape(-1)
    if labels.shape[0] != images.shape[3]:
        raise FormatError(f"{path}: {images.shape[3]} images in X but {labels.shape[0]} labels in y; {ADVICE}")
    if not np.isin(labels, np.arange(1, 11)).all():
        raise FormatError(f"{path}: y should hold labels 1 to 10 (10 for the digit 0); {ADVICE}")
    return images.transpose(3, 2, 0, 1), labels.astype(np.int64) % 10
