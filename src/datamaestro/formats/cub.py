"""Caltech-UCSD Birds-200-2011's lists (the ``CUB_200_2011`` folder).

``images.txt`` (``<image id> <class folder>/<file>.jpg``, under ``images/``),
``image_class_labels.txt`` (``<image id> <class 1-200>``),
``train_test_split.txt`` (``<image id> <1: train, 0: test>``) and
``classes.txt`` (``<class id> <NNN>.<Class_Name>``); ids are 1-based.
``bounding_boxes.txt`` (``<image id> <x> <y> <width> <height>``, one bird
per image) is not read here.
"""

from __future__ import annotations

from pathlib import Path

from datamaestro.errors import FormatError
from datamaestro.formats.lists import read_lines


def pairs(path: Path) -> dict[str, str]:
    """The ``<id> <value>`` lines of a list, by id."""
    table = {}
    for number, line in enumerate(read_lines(path), start=1):
        key, _, value = line.partition(" ")
        if not value:
            raise FormatError(f"{path} line {number}: expected '<id> <value>'")
        table[key] = value.strip()
    return table


def read(root: Path) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """The (image path relative to ``root``, label) pairs of the train and test splits, and the class
    names (``Black footed Albatross``: the folder name without its number and underscores)."""
    classes = pairs(root / "classes.txt")
    if sorted(classes) != sorted(str(k) for k in range(1, len(classes) + 1)):
        raise FormatError(f"{root / 'classes.txt'}: expected the class ids 1 to {len(classes)}")
    names = [classes[str(k)].split(".", 1)[-1].replace("_", " ") for k in range(1, len(classes) + 1)]
    images, labels = pairs(root / "images.txt"), pairs(root / "image_class_labels.txt")
    split_of = pairs(root / "train_test_split.txt")
    splits: dict[str, list[tuple[str, int]]] = {"train": [], "test": []}
    for image_id, path in images.items():
        label, flag = labels.get(image_id, ""), split_of.get(image_id)
        if not label.isdigit() or not 1 <= int(label) <= len(names) or flag not in ("0", "1"):
            raise FormatError(f"{root}: image {image_id} has no class from 1 to {len(names)} or no train/test flag")
        splits["train" if flag == "1" else "test"].append((f"images/{path}", int(label) - 1))
    return splits, names
