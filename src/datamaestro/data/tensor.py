"""Tensors stored in files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dataclasses import dataclass

from datamaestro.data.base import Base

if TYPE_CHECKING:
    import numpy as np


@dataclass(kw_only=True)
class IDX(Base):
    """A tensor in the IDX format of MNIST (uncompressed file)."""

    path: Path

    def data(self) -> "np.ndarray":
        """The tensor, memory-mapped (read-only) from the file."""
        from datamaestro.formats import idx

        return idx.read(self.path)
