"""Annotated images drawn for ``datamaestro show``: boxes with class names, class masks blended in colour.

Each image is resized to the tile size (the most common size of those shown,
shrunk to at most ``MAX_TILE`` pixels on its longer side), then its boxes are
drawn (scaled alike) as one-pixel outlines in their class colour with the class
name in the top-left corner, or its class mask (resized by nearest neighbour)
blended in with the class colours. Class ``k`` is drawn in ``colours[k]``, by
default Pascal VOC's colour of index ``k + 1`` for boxes and of ``k`` for masks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from datamaestro.data.detection import ObjectDetection
from datamaestro.data.segmentation import Segmentation
from datamaestro.formats.annotations import Colour, voc_palette
from datamaestro.viz.grid import pillow_modules

#: the longer side of a tile is at most this many pixels
MAX_TILE = 256
#: how much of a class colour goes into a masked pixel
ALPHA = 0.5
PALETTE = voc_palette(256)


def tile_size(sizes: np.ndarray) -> tuple[int, int]:
    """(height, width) of the tiles: the most common size, shrunk to ``MAX_TILE`` at most."""
    values, counts = np.unique(np.asarray(sizes).reshape(-1, 2), axis=0, return_counts=True)
    height, width = (int(v) for v in values[int(np.argmax(counts))])
    shrink = min(1.0, MAX_TILE / max(height, width, 1))
    return max(1, round(height * shrink)), max(1, round(width * shrink))


def resized(pixels: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    """``pixels`` resized to ``size`` ((height, width)) by Pillow (bilinear, or nearest)."""
    if pixels.shape[:2] == size:
        return pixels
    Image = pillow_modules()[0]
    method = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(pixels).resize((size[1], size[0]), method))


def box_colour(label: int, colours: Optional[Sequence[Colour]]) -> Colour:
    """The colour of the boxes of class ``label``."""
    if colours is not None and 0 <= label < len(colours):
        return tuple(colours[label])  # type: ignore[return-value]
    return PALETTE[(label + 1) % len(PALETTE)]


def draw_boxes(
    image: np.ndarray, boxes: np.ndarray, labels: Sequence[int], categories: Optional[Sequence[str]] = None,
    colours: Optional[Sequence[Colour]] = None,
) -> np.ndarray:
    """``image`` ((H, W, 3) uint8) with ``boxes`` ((K, 4) corner form, pixels) outlined and named."""
    Image, ImageDraw, ImageFont = pillow_modules()
    canvas = Image.fromarray(np.ascontiguousarray(image), "RGB")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for box, label in zip(np.asarray(boxes).tolist(), labels):
        colour = box_colour(int(label), colours)
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        draw.rectangle([x0, y0, max(x0, x1 - 1), max(y0, y1 - 1)], outline=colour, width=1)
        name = str(categories[label]) if categories and 0 <= label < len(categories) else str(label)
        draw.text((x0 + 2, y0 + 1), name, fill=colour, font=font)
    return np.asarray(canvas)


def blend_mask(
    image: np.ndarray, mask: np.ndarray, colours: Optional[Sequence[Colour]] = None, ignore_index: Optional[int] = None,
) -> np.ndarray:
    """``image`` with each pixel of class ``k`` in ``mask`` blended with ``colours[k]`` (black
    colours, VOC's background, and ``ignore_index`` pixels are left as they are)."""
    table = np.array(PALETTE if colours is None else list(colours) + PALETTE[len(colours):], dtype=np.float32)
    classes = np.asarray(mask, dtype=np.int64) % len(table)
    tinted = table[classes]
    keep = (tinted.sum(axis=-1) == 0) | (classes == ignore_index if ignore_index is not None else False)
    out = image.astype(np.float32) * (1 - ALPHA) + tinted * ALPHA
    out[keep] = image[keep]
    return np.rint(out).astype(np.uint8)


def detection_tiles(split: ObjectDetection, indices: Sequence[int], categories: Optional[Sequence[str]] = None) -> np.ndarray:
    """The images of ``split`` at ``indices`` with their boxes drawn, as (N, H, W, 3) uint8 tiles."""
    sizes = np.array([split.image_size(i) for i in indices], dtype=np.int64)
    size = tile_size(sizes)
    tiles = []
    for i, (height, width) in zip(indices, sizes.tolist()):
        targets = split.targets(int(i))
        scale = np.array([size[1] / width, size[0] / height] * 2, dtype=np.float32)
        tile = resized(split.image(int(i)), size)
        tiles.append(draw_boxes(tile, targets["boxes"] * scale, targets["labels"].tolist(), categories or split.categories))
    return np.stack(tiles) if tiles else np.zeros((0, *size, 3), dtype=np.uint8)


def segmentation_tiles(split: Segmentation, indices: Sequence[int]) -> np.ndarray:
    """The images of ``split`` at ``indices`` with their class masks blended in, as (N, H, W, 3) uint8 tiles."""
    sizes = np.array([split.image_size(i) for i in indices], dtype=np.int64)
    size = tile_size(sizes)
    colours: Optional[list[Any]] = None if split.colours is None else [tuple(c) for c in split.colours]
    tiles = [
        blend_mask(resized(split.image(int(i)), size), resized(split.mask(int(i)), size, nearest=True), colours, split.ignore_index)
        for i in indices
    ]
    return np.stack(tiles) if tiles else np.zeros((0, *size, 3), dtype=np.uint8)
