"""A table's feature and target arrays (the loader of ``Table``; tables are written by
``datamaestro.formats.table``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import numpy as np

from datamaestro.data.loading import register
from datamaestro.data.table import Table
from datamaestro.errors import UsageError
from datamaestro.loaders.arrays import num_classes, one_hot_rows


class TableLoaders:
    """What ``Table.arrays()`` gives."""

    def __init__(self, table: Table):
        self.table = table

    def arrays(
        self, columns: Optional[Sequence[str]] = None, one_hot: bool = False
    ) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """``(features, target)``: the numeric ``columns`` as float32, and the target column."""
        data = self.table.data()
        target_name = self.table.target
        names = list(columns) if columns is not None else [n for n in data.dtype.names or () if n != target_name]
        for name in names:
            self.table.column(name)
        text = [n for n in names if data.dtype[n].kind not in "biuf"]
        if text:
            raise UsageError(
                f"columns {', '.join(text)} are not numeric; choose numeric columns with columns=[...] "
                "or use to_pandas() to encode them"
            )
        features = np.empty((data.shape[0], len(names)), dtype=np.float32)
        for k, name in enumerate(names):
            features[:, k] = data[name]
        target = None
        if target_name is not None:
            target = np.asarray(data[target_name])
            if one_hot:
                target = one_hot_rows(target, num_classes(target, self.table.categories))
        return features, target


register(Table, TableLoaders)
