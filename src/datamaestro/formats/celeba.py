"""CelebA's annotation lists: the text files published beside ``img_align_celeba.zip``.

Each is space-separated, with runs of spaces between columns; each row is an
image file name (``000001.jpg``) followed by integers:

- ``list_eval_partition.txt``: ``<file> <0 train | 1 valid | 2 test>``, no header;
- ``identity_CelebA.txt``: ``<file> <identity>``, no header;
- ``list_attr_celeba.txt``: line 1 the image count, line 2 the 40 attribute
  names, then ``<file>`` and 40 values ``1`` or ``-1``;
- ``list_bbox_celeba.txt``: line 1 the count, line 2 ``image_id x_1 y_1 width height``;
- ``list_landmarks_align_celeba.txt``: line 1 the count, line 2 the 10 names
  ``lefteye_x lefteye_y ... rightmouth_y``.

Header lines may end with spaces (no empty name is kept), and a leading
``image_id`` column name is dropped. A file name must be a plain name in the
images folder (no folder, no ``..``, not hidden): anything else is refused
with the file and line, as are missing or extra columns and a count on line 1
that does not match the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.paths import is_valid_name, printable

PARTITIONS = "list_eval_partition.txt"
IDENTITIES = "identity_CelebA.txt"
ATTRIBUTES = "list_attr_celeba.txt"
BOXES = "list_bbox_celeba.txt"
LANDMARKS = "list_landmarks_align_celeba.txt"
#: the published files, in the order a person is asked for them (after the images' zip)
LISTS = (ATTRIBUTES, IDENTITIES, BOXES, LANDMARKS, PARTITIONS)


@dataclass(frozen=True)
class Table:
    """One list: its column names (none for the lists without a header), the image file names
    in file order, and their values ((N, columns) int64)."""

    names: list[str]
    files: list[str]
    values: np.ndarray


def read_text(path: Path) -> list[str]:
    """The lines of a list (FormatError if it cannot be read as text)."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(f"{path}: cannot read ({e}); it is not the published file") from None


def read_table(path: Path, columns: int = 1, header: bool = False) -> Table:
    """The rows of a CelebA list: ``columns`` integers after each file name (with ``header``: as many
    as the names on line 2, after the count on line 1)."""
    lines = read_text(path)
    names: list[str] = []
    first = 0
    if header:
        count, names = read_header(path, lines)
        columns, first = len(names), 2
    files: list[str] = []
    rows: list[list[int]] = []
    for number, line in enumerate(lines[first:], start=first + 1):
        fields = line.split()
        if not fields:
            continue
        files.append(image_name(path, number, fields[0]))
        rows.append(numbers(path, number, fields[1:], columns))
    if header and count != len(files):
        raise FormatError(f"{path} line 1: says {count} images, the file lists {len(files)}")
    return Table(names, files, np.array(rows, dtype=np.int64).reshape(len(rows), columns))


def read_header(path: Path, lines: list[str]) -> tuple[int, list[str]]:
    """The image count (line 1) and the column names (line 2) of a list with a header."""
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise FormatError(f"{path} line 1: expected the number of images, then a line of column names")
    names = lines[1].split()
    if names[:1] == ["image_id"]:
        names = names[1:]
    if not names:
        raise FormatError(f"{path} line 2: expected the column names")
    return int(lines[0]), names


def image_name(path: Path, number: int, name: str) -> str:
    """``name`` if it is a plain file name in the images folder."""
    if not is_valid_name(name) or name in (".", ".."):
        raise FormatError(
            f"{path} line {number}: refused image name '{printable(name)}': not a plain file name in the images folder"
        )
    return name


def numbers(path: Path, number: int, fields: list[str], columns: int) -> list[int]:
    """The ``columns`` integers of one row."""
    if len(fields) != columns:
        raise FormatError(f"{path} line {number}: expected {columns} numbers after the file name, found {len(fields)}")
    try:
        return [int(f) for f in fields]
    except ValueError:
        raise FormatError(f"{path} line {number}: expected integers after the file name") from None


def read_attributes(path: Path) -> Table:
    """The attribute list, its values 1 and -1 made 1 and 0 (uint8), as torchvision maps them."""
    table = read_table(path, header=True)
    bad = np.flatnonzero(~np.isin(table.values, (1, -1)).all(axis=1))
    if bad.size:
        raise FormatError(f"{path} line {int(bad[0]) + 3}: expected attribute values 1 or -1")
    return Table(table.names, table.files, (table.values > 0).astype(np.uint8))


def by_file(path: Path, table: Table, files: list[str]) -> np.ndarray:
    """The rows of ``table`` for ``files``, in their order (FormatError naming a file it lacks or repeats)."""
    row_of = {name: k for k, name in enumerate(table.files)}
    if len(row_of) != len(table.files):
        repeated = next(name for k, name in enumerate(table.files) if row_of[name] != k)
        raise FormatError(f"{path}: {repeated} is listed twice")
    missing = next((name for name in files if name not in row_of), None)
    if missing is not None:
        raise FormatError(f"{path}: no line for the image {missing}")
    return table.values[[row_of[name] for name in files]]
