"""A PNG-ready grid of images, each scaled up and titled with its label."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from datamaestro.errors import UsageError
from datamaestro.optional import require
from datamaestro.viz.arrays import as_images, label_texts

if TYPE_CHECKING:  # (Pillow is optional: the images extra)
    from PIL import Image

#: tiles are scaled up (by a whole factor) until their longer side is at least this many pixels
MIN_TILE = 84
#: space around each tile, in pixels
PAD = 4
BACKGROUND = 255
TEXT = 0


@dataclass(frozen=True)
class GridLayout:
    """Where everything goes in a grid of ``count`` tiles of ``tile_height`` x ``tile_width``."""

    count: int
    ncols: int
    tile_height: int
    tile_width: int
    title_height: int
    pad: int = PAD

    @property
    def nrows(self) -> int:
        return math.ceil(self.count / self.ncols)

    @property
    def cell_width(self) -> int:
        return self.tile_width + 2 * self.pad

    @property
    def cell_height(self) -> int:
        return self.title_height + self.tile_height + 2 * self.pad

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the whole grid."""
        return self.ncols * self.cell_width, self.nrows * self.cell_height

    def tile_box(self, i: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of tile ``i`` (right and bottom excluded)."""
        row, col = divmod(i, self.ncols)
        left = col * self.cell_width + self.pad
        top = row * self.cell_height + self.pad + self.title_height
        return left, top, left + self.tile_width, top + self.tile_height

    def title_box(self, i: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of the title band above tile ``i``."""
        left, top, right, _ = self.tile_box(i)
        return left, top - self.title_height, right, top


def default_scale(height: int, width: int) -> int:
    """The whole factor that makes a ``height`` x ``width`` image legible (28x28 -> 3)."""
    return max(1, math.ceil(MIN_TILE / max(height, width, 1)))


def grid_layout(
    count: int, height: int, width: int, ncols: int = 8, scale: int = 1, title_height: int = 0
) -> GridLayout:
    """The layout of ``count`` images of ``height`` x ``width`` scaled by ``scale``."""
    if count < 1:
        raise UsageError("no images to show")
    if ncols < 1 or scale < 1:
        raise UsageError("the number of columns and the scale must be at least 1")
    return GridLayout(
        count=count,
        ncols=min(ncols, count),
        tile_height=height * scale,
        tile_width=width * scale,
        title_height=title_height,
    )


def show_images(
    images: Any,
    labels: Optional[Sequence[Any]] = None,
    ncols: int = 8,
    *,
    scale: Optional[int] = None,
    categories: Optional[Sequence[str]] = None,
    layout: Optional[str] = None,
) -> Image.Image:
    """A grid of ``images`` (scaled up by ``scale``) titled with ``labels``, as a PIL image.

    ``images`` is a batch in any layout ``as_images`` accepts (grey stays
    grey, mode ``L``; colour stays colour, mode ``RGB``). ``labels`` are shown
    as text, as ``categories[label]`` when ``categories`` is given. ``scale``
    defaults to the smallest whole factor making tiles at least 84 pixels.
    """
    Image, ImageDraw, ImageFont = pillow_modules()
    pixels = as_images(images, layout)
    count, height, width = pixels.shape[:3]
    texts = label_texts(labels, count, categories)
    scale = default_scale(height, width) if scale is None else scale
    font = ImageFont.load_default()
    title_height = _text_height(font) + 2 * PAD if texts is not None else 0
    grid = grid_layout(count, height, width, ncols, scale, title_height)
    mode = "RGB" if pixels.ndim == 4 else "L"
    background = (BACKGROUND,) * 3 if mode == "RGB" else BACKGROUND
    canvas = Image.new(mode, grid.size, background)
    for i in range(count):
        tile = pixels[i].repeat(scale, axis=0).repeat(scale, axis=1)
        canvas.paste(Image.fromarray(np.ascontiguousarray(tile), mode), grid.tile_box(i)[:2])
    if texts is not None:
        draw = ImageDraw.Draw(canvas)
        fill = (TEXT,) * 3 if mode == "RGB" else TEXT
        for i, text in enumerate(texts):
            left, top, right, bottom = grid.title_box(i)
            text = _fit(text, font, right - left)
            x = left + (right - left - font.getlength(text)) / 2
            draw.text((x, (top + bottom) / 2), text, fill=fill, font=font, anchor="lm")
    return canvas


def pillow_modules() -> tuple[Any, Any, Any]:
    """Pillow's ``Image``, ``ImageDraw`` and ``ImageFont``, or an error naming the extra to install."""
    return tuple(require(f"PIL.{name}", "drawing images", "Pillow", "images") for name in ("Image", "ImageDraw", "ImageFont"))  # type: ignore[return-value]


def _text_height(font: Any) -> int:
    left, top, right, bottom = font.getbbox("Ag|jy")
    return int(bottom - min(top, 0))


def _fit(text: str, font: Any, width: int) -> str:
    """``text`` shortened with '..' until it fits in ``width`` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "..") > width:
        text = text[:-1]
    return text + ".."
