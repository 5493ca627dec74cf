"""Delimited text tables (UCI's ``.data`` files, CSV), read into numpy structured arrays at prepare time.

Each column is named and typed (``Column``); a string column gets the width
of its longest value, so the array is bounded before it is created: it may
take at most ``max_bytes``, and at most ``MAX_EXPANSION`` bytes per
character read (one overlong value would widen every row).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from datamaestro.errors import FormatError, UnpackLimitError
from datamaestro.formats.bounds import check_bytes

#: column kinds -> numpy type ("str" columns get the width of their longest value)
KINDS = {"float": np.float64, "int": np.int64, "str": np.str_, "label": np.int64}
#: how published tables write a missing value (read as NaN in float columns)
MISSING = ("?", "", "NA")
#: the most bytes the array may take per character of the table's text (a tidy table takes 2 to 10)
MAX_EXPANSION = 64


@dataclass(frozen=True, slots=True)
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
    max_bytes: Optional[int] = None,
) -> np.ndarray:
    """The rows as a structured array with one field per column (checked, bounded and converted)."""
    index = {name: k for k, name in enumerate(categories or [])}
    values: list[list[object]] = [[] for _ in columns]
    for number, fields in rows:
        if len(fields) != len(columns):
            raise FormatError(f"{where} line {number}: {len(fields)} fields, expected {len(columns)}")
        for k, (column, text) in enumerate(zip(columns, fields)):
            values[k].append(_value(column, text, index, f"{where} line {number}"))
    dtype = np.dtype([(column.name, field_type(column, column_values)) for column, column_values in zip(columns, values)])
    check_table_size(rows, dtype, where, max_bytes)
    table = np.empty(len(rows), dtype=dtype)
    for column, column_values in zip(columns, values):
        table[column.name] = column_values
    return table


def field_type(column: Column, values: Sequence[object]) -> str:
    """The numpy type of a column: its kind's, strings as wide as the longest value."""
    kind = KINDS.get(column.kind)
    if kind is None:
        raise FormatError(f"column {column.name!r}: unknown kind {column.kind!r} (use {', '.join(KINDS)})")
    if kind is np.str_:
        return f"<U{max(max((len(str(v)) for v in values), default=1), 1)}"
    return np.dtype(kind).str


def check_table_size(rows: Sequence[tuple[int, list[str]]], dtype: np.dtype, where: str, max_bytes: Optional[int]) -> None:
    """Refuse a table whose array would exceed ``max_bytes`` or ``MAX_EXPANSION`` bytes per character read."""
    size = len(rows) * dtype.itemsize
    check_bytes(size, max_bytes, where, "its table")
    characters = sum(len(field) + 1 for _, fields in rows for field in fields)
    if size > MAX_EXPANSION * max(characters, 1):
        widest = max((name for name in dtype.names or ()), key=lambda name: dtype[name].itemsize)
        raise UnpackLimitError(
            f"{where}: refused: its column {widest!r} would be {dtype[widest].itemsize // 4} characters wide in "
            f"every row, {size} bytes for {characters} characters read; the file is not the table its definition describes"
        )


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
    max_bytes: Optional[int] = None,
) -> None:
    """Convert each (name, file, lines to skip) into ``folder/<name>.npy``."""
    for name, path, skip in sources:
        rows = read_rows(path, delimiter, skip)
        save_table(folder, name, to_structured(rows, columns, path.name, categories, max_bytes))


def table_from(
    path: Path,
    columns: Sequence[Column],
    categories: Optional[Sequence[str]] = None,
    delimiter: str = ",",
    header: Optional[Sequence[str]] = None,
    max_bytes: Optional[int] = None,
) -> np.ndarray:
    """The table of one delimited file; ``header``: the names its first row must hold (None: it has no header)."""
    rows = read_rows(path, delimiter)
    if header is not None:
        if not rows or rows[0][1] != list(header):
            first = ", ".join(rows[0][1]) if rows else "nothing"
            raise FormatError(
                f"{path.name}: the first row is {first[:200]!r}, not the header {', '.join(header)!r}; "
                "the file is not the table its definition describes"
            )
        rows = rows[1:]
    return to_structured(rows, columns, path.name, categories, max_bytes)
