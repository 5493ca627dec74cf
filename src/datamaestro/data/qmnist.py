"""QMNIST's labelled digits: MNIST-compatible labels plus the extended labels that trace each digit to NIST."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from datamaestro.data.images import LabelledImages
from datamaestro.data.tensor import Tensor

if TYPE_CHECKING:  # (numpy is imported when data is read, not to describe it)
    import numpy as np

#: what each of the 8 columns of QMNIST's extended labels holds (from the QMNIST README)
EXTENDED_COLUMNS = [
    "class",  # character class, 0 to 9
    "hsf_series",  # NIST HSF series: 0, 1 or 4
    "writer",  # NIST writer id
    "writer_digit",  # index of the digit for this writer
    "nist_class",  # NIST class code (30 to 39)
    "nist_index",  # global NIST digit index
    "duplicate",  # index of the digit this one duplicates (0: none)
    "unused",
]


class Column(Tensor):
    """One column of a 2-D tensor: ``source.data()[:, column]`` (a view, not a copy)."""

    source: Tensor
    column: int

    def data(self) -> np.ndarray:
        """The column, as a view of the source array."""
        return self.source.data()[:, self.column]


class ExtendedLabelledImages(LabelledImages):
    """Labelled images whose ``extended_labels`` is an (N, 8) int32 tensor; ``extended_columns`` names its columns.

    ``labels`` is the first column (the digit), as MNIST's labels.
    """

    extended_labels: Tensor
    #: None: the columns of QMNIST's extended labels (``EXTENDED_COLUMNS``)
    extended_columns: Optional[list[str]] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.extended_columns is None:
            self.extended_columns = list(EXTENDED_COLUMNS)
