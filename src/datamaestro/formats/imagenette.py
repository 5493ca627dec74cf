"""fast.ai's Imagenette and Imagewoof folders, labelled by their CSV (``noisy_<dataset>.csv``).

The CSV's columns are ``path, noisy_labels_0, noisy_labels_1, noisy_labels_5,
noisy_labels_25, noisy_labels_50, is_valid``: ``noisy_labels_0`` is the true
label (a WordNet id) and ``is_valid`` says whether the image is in the
validation split.
"""

from __future__ import annotations

import csv
from collections.abc import Collection
from pathlib import Path

from datamaestro.errors import FormatError

#: the columns read
COLUMNS = ("path", "noisy_labels_0", "is_valid")


def read(table: Path, classes: Collection[str]) -> dict[str, list[tuple[str, int]]]:
    """The (image path, label) pairs of the train and val splits; labels index the sorted ``classes``."""
    wnids = sorted(classes)
    try:
        with open(table, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise FormatError(f"{table}: cannot read the labels ({e})") from None
    if not rows or any(c not in rows[0] for c in COLUMNS):
        raise FormatError(f"{table}: expected the columns {', '.join(COLUMNS)}")
    splits: dict[str, list[tuple[str, int]]] = {"train": [], "val": []}
    for number, row in enumerate(rows, start=2):
        if row["noisy_labels_0"] not in classes or row["is_valid"] not in ("True", "False"):
            raise FormatError(f"{table} line {number}: unknown class or is_valid value")
        split = "val" if row["is_valid"] == "True" else "train"
        splits[split].append((row["path"], wnids.index(row["noisy_labels_0"])))
    return splits
