"""Tables: named, typed columns stored as a numpy structured array (``.npy``).

``arrays()`` is the loader ``datamaestro.loaders.table`` registers for ``Table``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from datamaestro.data.base import Base
from datamaestro.data.loading import loaders_for
from datamaestro.data.ml import NamedClasses, Supervised, label_counts, share_categories
from datamaestro.errors import FormatError, UsageError

if TYPE_CHECKING:  # (numpy is imported when data is read, not to describe it)
    import numpy as np


class Table(Base, NamedClasses):
    """Rows of named, typed columns (numbers, strings, integer class labels).

    ``path`` is a ``.npy`` structured array, one field per column. ``target``
    names the column to predict; when it holds class labels, ``categories[k]``
    names label ``k``.
    """

    path: Path
    target: Optional[str] = None
    categories: Optional[list[str]] = None

    def data(self) -> np.ndarray:
        """The whole table as a structured array, memory-mapped (read-only)."""
        import numpy as np

        try:
            table = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as e:
            raise FormatError(f"{self.path}: not a readable .npy file ({e})") from None
        if table.dtype.names is None:
            raise FormatError(f"{self.path}: not a table (the array has no named columns)")
        return table

    def __len__(self) -> int:
        return int(self.data().shape[0])

    def stats(self, categories: Optional[list[str]] = None) -> dict[str, Any]:
        """What ``info`` says of the table: its rows, its columns and their types, and the rows
        per class of a label target."""
        table = self.data()
        facts: dict[str, Any] = {
            "count": int(table.shape[0]),
            "columns": {name: str(table.dtype[name]) for name in table.dtype.names or ()},
        }
        names = self.categories or categories
        if self.target is not None and names:
            facts["labels"] = label_counts(table[self.target], names)
        return facts

    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return list(self.data().dtype.names or ())

    def column(self, name: str) -> np.ndarray:
        """One column as a plain array."""
        table = self.data()
        if name not in (table.dtype.names or ()):
            raise UsageError(f"no column {name!r}; the columns are: {', '.join(table.dtype.names or ())}")
        return table[name]

    def arrays(
        self, columns: Optional[Sequence[str]] = None, one_hot: bool = False
    ) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """``(features, target)``: the numeric ``columns`` (default: all but the target) as
        an (N, F) float32 array, and the target column (None without one; ``one_hot``
        gives (N, classes) float32 rows for a label target)."""
        return loaders_for(self).arrays(columns, one_hot)

    def to_pandas(self) -> Any:
        """The table as a ``pandas.DataFrame`` (needs pandas); a label target becomes a
        categorical column of class names."""
        try:
            import pandas as pd
        except ImportError:
            raise UsageError("to_pandas needs pandas: pip install pandas") from None
        table = self.data()
        frame = pd.DataFrame({name: table[name] for name in table.dtype.names or ()})
        if self.target is not None and self.categories:
            frame[self.target] = pd.Categorical.from_codes(frame[self.target], categories=self.categories)
        return frame


class TableClassification(Supervised):
    """Train/test ``Table`` splits sharing a label column; ``categories[k]`` names label ``k``."""

    categories: Optional[list[str]] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        share_categories(self, self.categories, Table)
