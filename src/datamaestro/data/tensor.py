"""Tensors stored in files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from datamaestro.data.base import Base

if TYPE_CHECKING:  # (numpy is imported when data is read, not to describe it)
    import numpy as np


class Tensor(Base):
    """An n-dimensional array stored in a file; ``data()`` gives it as numpy."""

    def data(self) -> np.ndarray:
        """The array (memory-mapped where the format allows)."""
        raise NotImplementedError(f"{type(self).__name__} must define data()")


class IDX(Tensor):
    """A tensor in the IDX format of MNIST (uncompressed file)."""

    path: Path

    def data(self) -> np.ndarray:
        """The tensor, memory-mapped (read-only) from the file."""
        from datamaestro.formats import idx  # (here: it imports numpy, which describing data does not need)

        return idx.read(self.path)
