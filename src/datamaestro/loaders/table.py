"""Tables: delimited text (UCI's ``.data`` files, CSV) to numpy structured arrays at prepare time,
and a table's feature and target arrays (the loader of ``Table``)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from datamaestro.data.loading import register
from datamaestro.data.table import Table
from datamaestro.errors import FormatError, UsageError
from datamaestro.loaders.arrays import num_classes, one_hot_rows

#: column kinds -> numpy type ("str" columns get the width of their longest value)
KINDS = {"float": np.float64, "int": np.int64, "str": np.str_, "label": np.int64}
#: how published tables write a missing value (read as NaN in float columns)
MISSING = ("?", "", "NA")


@dataclass(frozen=True)
class Column:
    """A named, typed column: ``kind`` is float, int, str, or label (an integer code into
    the table's categories, read from the class name)."""

    name: str
    kind: str = "float"


def read_rows(path: Path, delimiter: str = ",", skip: int = 0) -> list[tuple[int, list[str]]]:
    """(line number, stripped fields) of every non-blank row of a delimited text file,
    after ``skip`` leading lines."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise FormatError(f"{path}: not a readable delimited text file ({e})") from None
    return [
        (number, [field.strip() for field in row])
        for number, row in enumerate(rows[skip:], start=skip + 1)
        if any(field.strip() for field in row)
    ]


def to_structured(
    rows: Sequence[tuple[int, list[str]]],
    columns: Sequence[Column],
    where: str,
    categories: Optional[Sequence[str]] = None,
) -> np.ndarray:
    """The rows as a structured array with one field per column (checked and converted)."""
    index = {name: k for k, name in enumerate(categories or [])}
    values: list[list[object]] = [[] for _ in columns]
    for number, fields in rows:
        if len(fields) != len(columns):
            raise FormatError(f"{where} line {number}: {len(fields)} fields, expected {len(columns)}")
        for k, (column, text) in enumerate(zip(columns, fields)):
            values[k].append(_value(column, text, index, f"{where} line {number}"))
    dtype = []
    for column, column_values in zip(columns, values):
        kind = KINDS.get(column.kind)
        if kind is None:
            raise FormatError(f"column {column.name!r}: unknown kind {column.kind!r} (use {', '.join(KINDS)})")
        if kind is np.str_:
            width = max((len(str(v)) for v in column_values), default=1)
            dtype.append((column.name, f"<U{max(width, 1)}"))
        else:
            dtype.append((column.name, np.dtype(kind).str))
    table = np.empty(len(rows), dtype=dtype)
    for column, column_values in zip(columns, values):
        table[column.name] = column_values
    return table


def _value(column: Column, text: str, index: dict[str, int], where: str) -> object:
    if column.kind == "str":
        return text
    if column.kind == "label":
        if text not in index:
            raise FormatError(f"{where}: unknown class {text!r} in column {column.name!r}")
        return index[text]
    if column.kind == "float" and text in MISSING:
        return np.nan
    try:
        return float(text) if column.kind == "float" else int(text)
    except ValueError:
        raise FormatError(f"{where}: {text!r} in column {column.name!r} is not a number") from None


def save_table(folder: Path, name: str, table: np.ndarray) -> Path:
    """Write a structured array as ``<name>.npy`` in ``folder``; returns its path."""
    path = folder / f"{name}.npy"
    np.save(path, table, allow_pickle=False)
    return path


def tables_from(
    sources: Iterable[tuple[str, Path, int]],
    folder: Path,
    columns: Sequence[Column],
    categories: Optional[Sequence[str]] = None,
    delimiter: str = ",",
) -> None:
    """Convert each (name, file, lines to skip) into ``folder/<name>.npy``."""
    for name, path, skip in sources:
        rows = read_rows(path, delimiter, skip)
        save_table(folder, name, to_structured(rows, columns, path.name, categories))


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
