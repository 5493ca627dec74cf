"""The Describable Textures Dataset's folder (``dtd``): images by class and ten partitions.

``images/<class>/<class>_<n>.jpg`` holds the 5,640 images of 47 classes;
``labels/{train,val,test}{1..10}.txt`` list the images (``<class>/<file>``)
of each split of the ten published partitions. Classes are the image
folders in sorted order.
"""

from __future__ import annotations

from pathlib import Path

from datamaestro.errors import FormatError
from datamaestro.formats.lists import read_lines

FOLDS = range(1, 11)
SPLITS = ("train", "val", "test")


def read_split(path: Path, label: dict[str, int]) -> list[tuple[str, int]]:
    """The (image path relative to the ``dtd`` folder, label) pairs of one list."""
    items = []
    for number, line in enumerate(read_lines(path), start=1):
        name = line.split("/", 1)[0]
        if name not in label:
            raise FormatError(f"{path} line {number}: expected '<class>/<file>' with a class folder of images/")
        items.append((f"images/{line}", label[name]))
    return items


def read(root: Path) -> tuple[dict[int, dict[str, list[tuple[str, int]]]], list[str]]:
    """Each partition's train, val and test (image path, label) pairs, and the class names."""
    images = root / "images"
    if not images.is_dir():
        raise FormatError(f"{images}: missing: the archive is not DTD's")
    names = sorted(p.name for p in images.iterdir() if p.is_dir())
    label = {name: k for k, name in enumerate(names)}
    folds = {k: {s: read_split(root / "labels" / f"{s}{k}.txt", label) for s in SPLITS} for k in FOLDS}
    return folds, names
