"""Images drawn in a terminal with Unicode upper half blocks: one character, two pixels."""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from datamaestro.errors import UsageError
from datamaestro.formats.dataset import luma
from datamaestro.paths import printable
from datamaestro.viz.arrays import as_images, label_texts

UPPER_HALF = "\u2580"
RESET = "\x1b[0m"
#: spaces between two images
GAP = 2
#: larger images are subsampled until their longer side is at most this many pixels
MAX_SIZE = 64
COLOURS = ("truecolor", "grey")


def terminal_colour() -> str:
    """``"truecolor"`` when the terminal says it has 24-bit colour (``COLORTERM``), else ``"grey"``."""
    return "truecolor" if os.environ.get("COLORTERM", "").lower() in ("truecolor", "24bit") else "grey"


def render_terminal(
    images: Any,
    labels: Optional[Sequence[Any]] = None,
    ncols: int = 8,
    *,
    colour: Optional[str] = None,
    width: Optional[int] = None,
    categories: Optional[Sequence[str]] = None,
    layout: Optional[str] = None,
) -> str:
    """``images`` as lines of half blocks with ANSI colours, titled with ``labels``.

    ``colour`` is ``"truecolor"`` (24-bit, colour images keep their colours)
    or ``"grey"`` (the 256-colour palette's greys); by default it follows
    ``terminal_colour()``. At most ``ncols`` images go side by side, fewer if
    they would not fit in ``width`` columns (default: the terminal's width).
    """
    colour = colour or terminal_colour()
    if colour not in COLOURS:
        raise UsageError(f"unknown colour mode '{colour}': use {' or '.join(COLOURS)}")
    pixels = as_images(images, layout)
    count, height, width_px = pixels.shape[:3]
    texts = label_texts(labels, count, categories)
    columns = width or shutil.get_terminal_size().columns
    step = max(math.ceil(max(height, width_px) / MAX_SIZE), math.ceil(width_px / max(columns, 1)), 1)
    pixels = pixels[:, ::step, ::step]
    tile_width = pixels.shape[2]
    per_row = max(1, min(ncols, (columns + GAP) // (tile_width + GAP)))
    codes = _truecolor_codes if colour == "truecolor" else _grey_codes
    lines: list[str] = []
    for start in range(0, count, per_row):
        chunk = range(start, min(start + per_row, count))
        if texts is not None:
            lines.append((" " * GAP).join(_title(texts[i], tile_width) for i in chunk).rstrip())
        pictures = [_picture(pixels[i], codes) for i in chunk]
        for row in zip(*pictures):
            lines.append((" " * GAP).join(row))
    return "\n".join(lines) + "\n"


def _title(text: str, width: int) -> str:
    text = printable(text)  # a label name comes from data
    if len(text) > width:
        text = text[: max(width - 1, 0)] + "\u2026"
    return text.center(width)


def _picture(image: np.ndarray, codes: Any) -> list[str]:
    """One image as text lines; each line ends with a colour reset."""
    lines = []
    for top in range(0, image.shape[0], 2):
        upper = image[top]
        lower = image[top + 1] if top + 1 < image.shape[0] else None
        parts = []
        previous = None
        for x in range(image.shape[1]):
            code = codes(upper[x], None if lower is None else lower[x])
            parts.append(UPPER_HALF if code == previous else f"\x1b[{code}m{UPPER_HALF}")
            previous = code
        lines.append("".join(parts) + RESET)
    return lines


def _rgb(pixel: Any) -> tuple[int, int, int]:
    if np.ndim(pixel) == 0:
        value = int(pixel)
        return value, value, value
    return int(pixel[0]), int(pixel[1]), int(pixel[2])


def _truecolor_codes(upper: Any, lower: Any) -> str:
    fg = "38;2;{};{};{}".format(*_rgb(upper))
    bg = "49" if lower is None else "48;2;{};{};{}".format(*_rgb(lower))
    return f"{fg};{bg}"


def _grey_levels() -> np.ndarray:
    """For each grey value 0..255, the nearest grey of the 256-colour palette."""
    palette = [(0, 16)] + [(8 + 10 * k, 232 + k) for k in range(24)] + [(255, 231)]
    values = np.array([v for v, _ in palette])
    indices = np.array([i for _, i in palette])
    nearest = np.abs(np.arange(256)[:, None] - values[None, :]).argmin(axis=1)
    return indices[nearest]


GREY_INDEX = _grey_levels()


def _grey(pixel: Any) -> int:
    r, g, b = _rgb(pixel)
    return int(GREY_INDEX[luma(r, g, b)])


def _grey_codes(upper: Any, lower: Any) -> str:
    bg = "49" if lower is None else f"48;5;{_grey(lower)}"
    return f"38;5;{_grey(upper)};{bg}"
