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

from datamaestro.errors import FormatError
from datamaestro.formats.dataset import NO_LABEL, Dataset, Subset
from datamaestro.formats.images import open_image
from datamaestro.paths import printable

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
    #: objects of one item sharing a group belong together (a VOC person and its parts); None: no group
    group: Optional[int] = None


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
    #: VOC's body parts: a category name -> the names of its parts' categories (person: head, hand, foot)
    parts: dict[str, list[str]] = field(default_factory=dict)
    #: VOC's actions: a category name -> the action names its objects carry as boolean attributes
    actions: dict[str, list[str]] = field(default_factory=dict)

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


def item_pixels(item: Item) -> Optional[np.ndarray]:
    """The pixels of ``item``, (H, W) or (H, W, 3) uint8: in memory, or decoded from its file (None without either)."""
    if item.pixels is not None:
        return np.asarray(item.pixels, dtype=np.uint8)
    if item.image is None:
        return None
    with open_image(item.image) as im:
        if im.mode not in ("L", "RGB"):
            im = im.convert("L" if im.mode in ("1", "LA", "I", "I;16", "F") else "RGB")
        return np.asarray(im, dtype=np.uint8)


def to_classification(dataset: AnnotatedDataset) -> Dataset:
    """The labelled images of ``dataset``: each item's first image-level label (-1 without one); objects are dropped."""
    subsets = {}
    for name, items in dataset:
        labels = [item.labels[0] if item.labels else NO_LABEL for item in items]
        with_media = [item.pixels is not None or item.image is not None for item in items]
        images: Optional[list[np.ndarray]] = None
        if any(with_media):
            if not all(with_media):
                missing = items[with_media.index(False)].id
                raise FormatError(
                    f"item {printable(repr(missing))} of subset '{printable(name)}' has no image while others have; "
                    "write without media (--no-save-media) or drop it with a filter"
                )
            images = [channel_first_image(item_pixels(item)) for item in items]
        subsets[name] = Subset(images, np.asarray(labels, dtype=np.int64), [item.id for item in items])
    result = Dataset(subsets, list(dataset.categories))
    result.check_labels("the annotated dataset")
    return result


def channel_first_image(pixels: Optional[np.ndarray]) -> np.ndarray:
    """An (H, W) or (H, W, 3) image as (H, W) or (3, H, W)."""
    assert pixels is not None
    return pixels if pixels.ndim == 2 else np.ascontiguousarray(pixels[:, :, :3].transpose(2, 0, 1))


def from_classification(dataset: Dataset) -> AnnotatedDataset:
    """``dataset``'s labelled images as items with one image-level label each (none for -1) and no objects."""
    subsets: dict[str, list[Item]] = {}
    for name, subset in dataset:
        items = []
        images = subset.images
        for i, (item_id, label) in enumerate(zip(subset.item_ids(), subset.labels.tolist())):
            pixels = None
            if images is not None:
                image = np.asarray(images[i])
                pixels = image if image.ndim == 2 else np.ascontiguousarray(image.transpose(1, 2, 0))
                pixels = pixels[:, :, 0] if pixels.ndim == 3 and pixels.shape[2] == 1 else pixels
            size = None if pixels is None else (int(pixels.shape[0]), int(pixels.shape[1]))
            items.append(Item(item_id, pixels=pixels, size=size, labels=[] if label == NO_LABEL else [int(label)]))
        subsets[name] = items
    return AnnotatedDataset(subsets, list(dataset.categories))
