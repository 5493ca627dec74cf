"""FGVC-Aircraft's lists (``fgvc-aircraft-2013b/data``), at three levels of labels.

``variants.txt``, ``families.txt`` and ``manufacturers.txt`` name the classes
of each level (100, 70 and 30) in label order;
``images_<level>_<split>.txt`` (split: ``train``, ``val``, ``trainval``,
``test``) has one line per image, ``<7-digit id> <class name>`` (the name
may hold spaces), the image being ``images/<id>.jpg``. Each image has a
20-pixel copyright banner at its bottom, left in place here.
"""

from __future__ import annotations

from pathlib import Path

from datamaestro.errors import FormatError
from datamaestro.formats.lists import read_lines

#: level -> the file naming its classes
LEVELS = {"variant": "variants.txt", "family": "families.txt", "manufacturer": "manufacturers.txt"}
SPLITS = ("train", "val", "test")


def read(data: Path, level: str) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """The (image path relative to ``data``, label) pairs of the train, val and test splits at
    ``level`` (``variant``, ``family`` or ``manufacturer``), and its class names."""
    names = read_lines(data / LEVELS[level])
    label = {name: k for k, name in enumerate(names)}
    splits = {}
    for split in SPLITS:
        path = data / f"images_{level}_{split}.txt"
        items = []
        for number, line in enumerate(read_lines(path), start=1):
            image, _, name = line.partition(" ")
            if name not in label:
                raise FormatError(f"{path} line {number}: expected '<image id> <{level}>' with a class of {LEVELS[level]}")
            items.append((f"images/{image}.jpg", label[name]))
        splits[split] = items
    return splits, names


def check_counts(data: Path, splits: dict[str, list[tuple[str, int]]], names: list[str], published: dict[str, int]) -> None:
    """Refuse lists whose image and class counts differ from the ``published`` ones (key ``classes``: the class count)."""
    counts = {"classes": len(names), **{split: len(items) for split, items in splits.items()}}
    for key, expected in published.items():
        if counts.get(key) != expected:
            raise FormatError(
                f"{data}: {counts.get(key)} {key} where the published archive has {expected}; "
                "the archive is not FGVC-Aircraft 2013b (which has no published checksum): prepare it again with --force"
            )
