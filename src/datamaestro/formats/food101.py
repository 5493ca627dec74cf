"""Food-101's lists (``food-101/meta``): ``classes.txt``, ``train.txt`` and ``test.txt``.

``classes.txt`` names the 101 classes (``apple_pie``...) in label order; each
line of ``train.txt`` and ``test.txt`` is ``<class>/<image id>``, the image
being ``images/<class>/<image id>.jpg``.
"""

from __future__ import annotations

from pathlib import Path

from datamaestro.errors import FormatError
from datamaestro.formats.lists import read_lines

SPLITS = ("train", "test")


def read(root: Path) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """The (image path relative to ``root``, label) pairs of the train and test splits, and the class names."""
    names = read_lines(root / "meta" / "classes.txt")
    label = {name: k for k, name in enumerate(names)}
    splits = {}
    for split in SPLITS:
        path = root / "meta" / f"{split}.txt"
        items = []
        for number, line in enumerate(read_lines(path), start=1):
            name = line.split("/", 1)[0]
            if name not in label:
                raise FormatError(f"{path} line {number}: expected '<class>/<image id>' with a class of classes.txt")
            items.append((f"images/{line}.jpg", label[name]))
        splits[split] = items
    return splits, names
