"""ESC-50: ``audio/<fold>-<clip>-<take>-<target>.wav`` and ``meta/esc50.csv``, 2,000 clips in 5 folds.

The CSV's columns are ``filename, fold, target, category, esc10, src_file,
take``. As no checksum of the archive is published, the published counts are
checked instead: 2,000 clips, 40 of each of the 50 classes, 400 in each of
the 5 folds, and each file name agrees with its fold and target.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

from datamaestro.errors import FormatError
from datamaestro.formats.audio import read_listing

COLUMNS = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
NAME = re.compile(r"([1-5])-([0-9]+)-([A-Z])-([0-9]+)\.wav")
CLASSES, FOLDS, PER_CLASS = 50, 5, 40


def rows(path: Path) -> list[dict[str, str]]:
    """The rows of ``meta/esc50.csv``, its header checked."""
    reader = csv.reader(read_listing(path))
    header = next(reader, [])
    if header != COLUMNS:
        raise FormatError(f"{path}: expected the columns {', '.join(COLUMNS)}")
    return [dict(zip(COLUMNS, row)) for row in reader if row]


def read(root: Path) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """The (clip path, target) pairs of each fold (``fold1``..``fold5``), and the class names by target."""
    path = root / "meta" / "esc50.csv"
    folds: dict[str, list[tuple[str, int]]] = {f"fold{k}": [] for k in range(1, FOLDS + 1)}
    names: dict[int, str] = {}
    for number, row in enumerate(rows(path), start=2):
        match = NAME.fullmatch(row["filename"])
        if match is None or match.group(1) != row["fold"] or match.group(4) != row["target"] or int(row["target"]) >= CLASSES:
            raise FormatError(f"{path} line {number}: the file name {row['filename']!r} does not agree with its fold and target")
        target = int(row["target"])
        if names.setdefault(target, row["category"]) != row["category"]:
            raise FormatError(f"{path} line {number}: target {target} is both {names[target]!r} and {row['category']!r}")
        folds[f"fold{row['fold']}"].append((f"audio/{row['filename']}", target))
    check_counts(path, folds)
    return folds, [names[k] for k in range(CLASSES)]


def check_counts(path: Path, folds: dict[str, list[tuple[str, int]]]) -> None:
    """Refuse a listing that is not ESC-50's published 5 folds of 400 clips, 40 per class."""
    per_class = Counter(target for items in folds.values() for _, target in items)
    sizes = sorted({len(items) for items in folds.values()})
    if sizes != [CLASSES * PER_CLASS // FOLDS] or sorted(per_class) != list(range(CLASSES)) or set(per_class.values()) != {PER_CLASS}:
        raise FormatError(
            f"{path}: expected ESC-50's 2000 clips, 400 per fold and 40 per class, found folds of {sizes} clips "
            f"and {len(per_class)} classes; the archive is not the dataset's"
        )
