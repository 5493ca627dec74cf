"""The Penn-Fudan pedestrian database: ``PNGImages/<stem>.png`` and ``PedMasks/<stem>_mask.png``.

Each mask holds 0 for the background and a distinct value (1, 2, ...) for
each pedestrian: an instance mask, not classes. Each pedestrian becomes an
object of label 1 (``pedestrian``; 0 is the background, as in torchvision's
tutorial) with its mask run-length encoded and its instance value as id;
its box is the bounds of its mask (pixel edges, ``x1 = last column + 1``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.annotations import Item, Object
from datamaestro.formats.class_masks import read_class_mask
from datamaestro.formats.images import image_size
from datamaestro.formats.layout_files import inside_folder
from datamaestro.formats.masks import encode_rle, mask_box
from datamaestro.paths import printable

CLASSES = ["background", "pedestrian"]
PEDESTRIAN = 1


def read(folder: Path) -> list[Item]:
    """The images of ``folder`` (the ``PennFudanPed`` folder) in name order, each with its pedestrians."""
    images = folder / "PNGImages"
    if not images.is_dir():
        raise FormatError(f"{printable(str(folder))}: no PNGImages folder; the archive is not PennFudanPed.zip")
    items = []
    for image in sorted(p for p in images.iterdir() if p.suffix == ".png"):
        mask_path = inside_folder(folder / "PedMasks", f"{image.stem}_mask.png", f"the image {image.name}")
        if not mask_path.is_file():
            raise FormatError(f"{printable(str(mask_path))}: missing, the mask of {printable(image.name)}")
        items.append(Item(image.stem, image=image, objects=pedestrians(mask_path, image_size(image))))
    return items


def pedestrians(path: Path, size: tuple[int, int]) -> list[Object]:
    """The pedestrians of one instance mask, in the order of their values."""
    mask = read_class_mask(path)
    if mask.shape != size:
        raise FormatError(f"{printable(str(path))}: the mask is {mask.shape[1]}x{mask.shape[0]}, its image {size[1]}x{size[0]}")
    objects = []
    for value in np.unique(mask)[np.unique(mask) != 0]:
        instance = mask == value
        objects.append(Object(PEDESTRIAN, box=mask_box(instance), rle=encode_rle(instance), id=int(value)))
    return objects


def check_counts(folder: Path, items: list[Item], images: int, pedestrians: int) -> None:
    """Refuse a folder whose image or pedestrian count is not the published one."""
    found = (len(items), sum(len(item.objects) for item in items))
    if found != (images, pedestrians):
        raise FormatError(
            f"{printable(str(folder))}: {found[0]} images and {found[1]} pedestrians where the published archive has "
            f"{images} and {pedestrians}; the archive is not PennFudanPed.zip (which has no published checksum): "
            "prepare it again with --force"
        )
