"""Class masks of semantic segmentation: image files whose pixels are class indexes.

A mask is a palette PNG (VOC: the pixel values are the palette indexes,
whatever the colours), a grey image (the values are the classes), or an RGB
image whose colours are those of the classes (``colours``; a colour of no
class is refused). Every mask file is opened by ``datamaestro.formats.images``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.annotations import Colour
from datamaestro.formats.images import open_image
from datamaestro.optional import pillow

#: Pillow modes read as class indexes as they are
INDEX_MODES = ("P", "L")


def read_class_mask(
    path: Path, colours: Optional[Sequence[Colour]] = None, size: Optional[tuple[int, int]] = None,
    max_pixels: Optional[int] = None,
) -> np.ndarray:
    """The class mask of ``path`` as (H, W) uint8 class indexes, resized (nearest) to ``size`` ((height, width))."""
    Image = pillow()
    with open_image(path, max_pixels) as opened:
        try:
            im = opened
            if im.mode not in INDEX_MODES and im.mode != "RGB":
                im = im.convert("RGB") if im.mode in ("RGBA", "CMYK", "LA") else im.convert("L")
            if size is not None and im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), Image.Resampling.NEAREST)
            pixels = np.asarray(im)
        except (OSError, ValueError, SyntaxError) as e:
            raise FormatError(f"{path}: not a readable mask ({e})") from None
    if pixels.ndim == 2:
        return np.asarray(pixels, dtype=np.uint8)
    return colour_indexes(path, pixels, colours)


def colour_indexes(path: Path, pixels: np.ndarray, colours: Optional[Sequence[Colour]]) -> np.ndarray:
    """An (H, W, 3) colour mask as (H, W) uint8 class indexes, by the class colours."""
    if not colours:
        raise FormatError(f"{path}: a colour mask, and the dataset gives no class colours to read it")
    if len(colours) > 256:
        raise FormatError(f"{path}: more than 256 class colours")
    codes = (pixels[..., 0].astype(np.int64) << 16) | (pixels[..., 1].astype(np.int64) << 8) | pixels[..., 2]
    table = np.array([(r << 16) | (g << 8) | b for r, g, b in colours], dtype=np.int64)
    order = np.argsort(table, kind="stable")
    where = np.clip(np.searchsorted(table[order], codes), 0, len(table) - 1)
    found = table[order][where] == codes
    if not found.all():
        y, x = (int(v[0]) for v in np.nonzero(~found))
        raise FormatError(f"{path}: the colour {tuple(int(c) for c in pixels[y, x])} at ({x}, {y}) is no class's")
    return order[where].astype(np.uint8)
