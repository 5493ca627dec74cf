"""An in-memory annotated image dataset: what the detection and segmentation layouts read and write.

The counterpart of ``datamaestro.formats.dataset`` (labelled images) for the
layouts whose items carry objects: Pascal VOC, COCO and YOLO. Each item is
one image (a file, or pixels in memory) with its objects (a box, a label,
flags, and optionally an instance mask as polygons or COCO run-length
encoding), its image-level labels, and optionally a semantic class mask.

Coordinates are pixels, floats, in corner form ``(x0, y0, x1, y1)`` with the
origin at the top-left corner of the image (COCO's ``[x, y, w, h]`` and
YOLO's normalised centres are converted on reading and writing). Labels are
indexes into ``AnnotatedDataset.categories``; -1 means "no label".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

#: a box in corner form, in pixels: (x0, y0, x1, y1)
Box = tuple[float, float, float, float]
#: an RGB colour
Colour = tuple[int, int, int]


@dataclass
class Rle:
    """A COCO run-length encoded mask: ``counts`` as COCO's compressed string or a list of runs."""

    height: int
    width: int
    counts: str | list[int]


@dataclass
class Object:
    """One object of an image: its class, its box, its flags, and optionally its instance mask."""

    label: int
    #: corner form, pixels; None for an object known only by its mask
    box: Optional[Box] = None
    difficult: bool = False
    truncated: bool = False
    occluded: bool = False
    #: COCO's ``iscrowd``: a group of objects, its mask usually in RLE
    crowd: bool = False
    #: instance mask as polygons, each a flat list ``[x0, y0, x1, y1, ...]`` in pixels
    polygons: list[list[float]] = field(default_factory=list)
    #: instance mask as run-length encoding (COCO), instead of polygons
    rle: Optional[Rle] = None
    #: the source's own id of the object (COCO annotation id, instance index of a VOC mask)
    id: Optional[int] = None
    #: other per-object values the source has (VOC pose, COCO area, ...), JSON-ready
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Item:
    """One image with its annotations.

    The image is a file (``image``) or pixels in memory (``pixels``: (H, W)
    or (H, W, 3) uint8); ``size`` is its ``(height, width)`` when known
    without decoding (from an annotation file or the image header).
    """

    id: str
    image: Optional[Path] = None
    pixels: Optional[np.ndarray] = None
    size: Optional[tuple[int, int]] = None
    objects: list[Object] = field(default_factory=list)
    #: image-level labels (VOC's ImageSets/Main class lists; a classification label)
    labels: list[int] = field(default_factory=list)
    #: semantic segmentation: a file of class indexes (PNG palette or grey), or the (H, W) array
    mask: Optional[Path | np.ndarray] = None
    #: instance segmentation image (VOC's SegmentationObject): a file or an (H, W) array
    instance_mask: Optional[Path | np.ndarray] = None
    #: other per-image values the source has (COCO's license, flickr_url...), JSON-ready
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class AnnotatedDataset:
    """Subsets of annotated items, the class names, and their mask colours where the layout has them."""

    subsets: dict[str, list[Item]]
    categories: list[str]
    #: the colour of each category in class masks (VOC's palette); None when the layout has none
    colours: Optional[list[Colour]] = None

    def __iter__(self) -> Iterator[tuple[str, list[Item]]]:
        return iter(self.subsets.items())

    def __len__(self) -> int:
        return sum(len(items) for items in self.subsets.values())


def voc_palette(count: int = 256) -> list[Colour]:
    """Pascal VOC's colour map: the colour of class index ``k`` in its segmentation PNGs."""
    colours = []
    for k in range(count):
        r = g = b = 0
        c = k
        for bit in range(8):
            r |= ((c >> 0) & 1) << (7 - bit)
            g |= ((c >> 1) & 1) << (7 - bit)
            b |= ((c >> 2) & 1) << (7 - bit)
            c >>= 3
        colours.append((r, g, b))
    return colours
