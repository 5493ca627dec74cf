"""Tensors stored as numpy ``.npy`` files (any dtype, memory-mapped)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from datamaestro.data.tensor import Tensor
from datamaestro.errors import FormatError

if TYPE_CHECKING:  # (numpy is imported when data is read, not to describe it)
    import numpy as np


class NPY(Tensor):
    """A tensor in a ``.npy`` file (written at prepare time, e.g. from CIFAR pickles)."""

    path: Path

    def data(self) -> np.ndarray:
        """The tensor, memory-mapped (read-only) from the file."""
        import numpy as np  # (here: describing data does not need numpy)

        try:
            return np.load(self.path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as e:
            raise FormatError(f"{self.path}: not a readable .npy file ({e})") from None
