"""SVHN's cropped digits: MATLAB v5 files (``train_32x32.mat``...) holding ``X`` and ``y``.

``X`` is (32, 32, 3, N) uint8 (height, width, channel, image) and ``y`` is
(N, 1) numbers from 1 to 10, 10 standing for the digit 0. The files are read
with scipy.io (the extra ``mat``); anything else in them is a one-line
``FormatError`` naming the file. The shapes the file declares are checked
before anything is loaded (``max_bytes``: the most its arrays may take; scipy
then needs at most about 135 MB more, to decompress).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats import mat
from datamaestro.formats.bounds import check_bytes
from datamaestro.formats.splits import save_split
from datamaestro.optional import require

#: height and width of every image
SIZE = 32
#: what to do when a file is not what SVHN publishes
ADVICE = "the file is corrupt or not SVHN's; use an intact copy"
#: the variables read from a file
VARIABLES = ("X", "y")
#: bytes per element of each MATLAB class that may be loaded (char: one numpy character)
ITEMSIZE = {
    "int8": 1, "uint8": 1, "logical": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4, "single": 4,
    "char": 4, "int64": 8, "uint64": 8, "double": 8,
}


def read_mat(path: Path, max_bytes: Optional[int] = None) -> dict[str, Any]:
    """The variables X and y of a MATLAB v5 file, read with scipy.io (extra ``datamaestro[mat]``),
    once their headers show that they take at most ``max_bytes``."""
    scipy_io = require("scipy.io", "reading MATLAB .mat files", "scipy", "mat")
    try:
        declared = {variable.name: variable for variable in mat.variables(path)}
    except FormatError as e:
        raise FormatError(f"{e}; {ADVICE}") from None
    total = 0
    for name in VARIABLES:
        variable = declared.get(name, mat.Variable(name, (0,), "double"))
        if variable.kind not in ITEMSIZE:
            raise FormatError(f"{path}: {name} should be a numeric array, got a MATLAB {variable.kind}; {ADVICE}")
        total += int(np.prod(variable.shape, dtype=object)) * ITEMSIZE[variable.kind] * (2 if variable.complex else 1)
    check_bytes(total, max_bytes, path, "its arrays X and y")
    unreadable = (scipy_io.matlab.MatReadError, ValueError, TypeError, OSError, EOFError, NotImplementedError)
    try:
        return scipy_io.loadmat(path, variable_names=VARIABLES)
    except unreadable as e:
        raise FormatError(f"{path}: not a readable MATLAB v5 .mat file ({e}); {ADVICE}") from None


def read(path: Path, max_bytes: Optional[int] = None) -> tuple[np.ndarray, np.ndarray]:
    """The (N, 3, 32, 32) uint8 images and (N,) int64 digits (0 to 9) of an SVHN ``.mat`` file."""
    content = read_mat(path, max_bytes)
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


def save(path: Path, out: Path, split: str, max_bytes: Optional[int] = None) -> None:
    """Write the SVHN file ``path`` as the ``.npy`` split ``split`` of ``out``."""
    images, labels = read(path, max_bytes)
    save_split(out, split, images, labels, 10, str(path))
