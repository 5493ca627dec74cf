"""Instance masks: COCO's run-length encoding (compressed string or counts) and polygons, to and from arrays.

COCO's RLE runs over the mask in column-major order (down the first
column, then the next), starting with a run of zeros. Its compressed form
(``maskApi.c``'s ``rleToString``) stores each count as 5-bit groups in
characters from ``0`` (48), the counts after the second as differences from
the count two places before. Decoding is exact; counts that do not cover
``height * width`` pixels, or a size over ``images.MAX_PIXELS``, are refused
before anything is allocated.

A polygon covers the pixels whose centre lies inside it (even-odd rule), so
that an axis-aligned rectangle of integer corners ``(x0, y0, x1, y1)`` covers
exactly ``(x1 - x0) * (y1 - y0)`` pixels, its COCO area.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.annotations import Colour, Rle
from datamaestro.formats.images import MAX_PIXELS, open_image
from datamaestro.optional import pillow
from datamaestro.paths import printable

#: at most this many characters encode one count (7 x 5 bits: more than any image's pixel count)
MAX_CHARS_PER_COUNT = 7


def check_size(height: int, width: int, where: str) -> None:
    """Refuse a mask size that is not at least 1 x 1 or has more than ``MAX_PIXELS`` pixels."""
    if not (isinstance(height, int) and isinstance(width, int)) or height < 1 or width < 1:
        raise FormatError(f"{where}: invalid mask size {height!r} x {width!r}")
    if height * width > MAX_PIXELS:
        raise FormatError(
            f"{where}: refused: a mask of {width}x{height} is {width * height:,} pixels, more than the "
            f"{MAX_PIXELS:,} an image may have"
        )


def counts_from_string(text: str, where: str = "RLE", most: Optional[int] = None) -> list[int]:
    """The run lengths of COCO's compressed RLE string (refused past ``most`` runs)."""
    counts: list[int] = []
    pos = 0
    while pos < len(text):
        if most is not None and len(counts) >= most:
            raise FormatError(f"{where}: refused: the compressed RLE has more than {most} runs, more than its pixels")
        value, shift, more = 0, 0, True
        while more:
            if pos >= len(text) or shift >= 5 * MAX_CHARS_PER_COUNT:
                raise FormatError(f"{where}: malformed compressed RLE counts at character {pos}")
            c = ord(text[pos]) - 48
            if not 0 <= c < 64:
                raise FormatError(f"{where}: malformed compressed RLE counts: character {text[pos]!r}")
            value |= (c & 0x1F) << shift
            more = bool(c & 0x20)
            pos += 1
            shift += 5
            if not more and c & 0x10:
                value |= -1 << shift
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    return counts


def counts_to_string(counts: Sequence[int]) -> str:
    """COCO's compressed RLE string of the run lengths ``counts``."""
    out = []
    for i, count in enumerate(counts):
        x = int(count) - (int(counts[i - 2]) if i > 2 else 0)
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def rle_counts(rle: Rle, where: str = "RLE") -> list[int]:
    """The run lengths of ``rle``, checked to be non-negative and to cover exactly height x width pixels."""
    check_size(rle.height, rle.width, where)
    most = rle.height * rle.width + 1  # (a run of zeros first, then runs of at least one pixel)
    counts = counts_from_string(rle.counts, where, most) if isinstance(rle.counts, str) else list(rle.counts)
    if len(counts) > most:
        raise FormatError(f"{where}: refused: the RLE has {len(counts)} runs, more than its {most - 1} pixels")
    if not all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
        raise FormatError(f"{where}: RLE counts must be whole numbers")
    if any(c < 0 for c in counts):
        raise FormatError(f"{where}: refused: a negative RLE count")
    if sum(counts) != rle.height * rle.width:
        raise FormatError(
            f"{where}: refused: the RLE counts sum to {sum(counts)}, not height x width = "
            f"{rle.height} x {rle.width} = {rle.height * rle.width}"
        )
    return counts


def decode_rle(rle: Rle, where: str = "RLE") -> np.ndarray:
    """The (height, width) bool mask of ``rle``."""
    counts = rle_counts(rle, where)
    values = np.arange(len(counts), dtype=np.int64) % 2 == 1
    flat = np.repeat(values, counts)
    return np.ascontiguousarray(flat.reshape(rle.width, rle.height).T)


def encode_rle(mask: np.ndarray, compressed: bool = True) -> Rle:
    """The COCO RLE of an (H, W) mask (non-zero pixels are in it); ``compressed``: as a string."""
    height, width = mask.shape
    flat = (np.asarray(mask).T.reshape(-1) != 0).astype(np.int8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    counts = [int(c) for c in counts]
    return Rle(height, width, counts_to_string(counts) if compressed else counts)


def rle_area(rle: Rle) -> int:
    """The number of pixels in ``rle``'s mask."""
    return sum(rle_counts(rle)[1::2])


def polygons_mask(polygons: Sequence[Sequence[float]], height: int, width: int) -> np.ndarray:
    """The (H, W) bool mask of the pixels whose centre lies inside one of ``polygons``
    (each a flat ``[x0, y0, x1, y1, ...]`` in pixels)."""
    check_size(height, width, "polygon mask")
    mask = np.zeros((height, width), dtype=bool)
    for polygon in polygons:
        points = np.asarray(polygon, dtype=np.float64)
        if points.ndim != 1 or points.size % 2 or points.size < 6 or not np.isfinite(points).all():
            raise FormatError("a polygon must be a flat list of at least 3 finite (x, y) points")
        mask ^= polygon_mask(points.reshape(-1, 2), height, width)
    return mask


def polygon_mask(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """One polygon's pixels (centres inside, even-odd rule), scanned row by row."""
    mask = np.zeros((height, width), dtype=bool)
    x0, y0 = points[:, 0], points[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    top = max(0, int(np.floor(points[:, 1].min())))
    bottom = min(height, int(np.ceil(points[:, 1].max())) + 1)
    columns = np.arange(width) + 0.5
    for row in range(top, bottom):
        y = row + 0.5
        crossing = (y0 <= y) != (y1 <= y)
        if not crossing.any():
            continue
        xs = x0[crossing] + (y - y0[crossing]) * (x1[crossing] - x0[crossing]) / (y1[crossing] - y0[crossing])
        inside = (columns[None, :] < xs[:, None]).sum(axis=0) % 2 == 1
        mask[row] = inside
    return mask


def polygon_area(polygon: Sequence[float]) -> float:
    """The area of a flat ``[x0, y0, x1, y1, ...]`` polygon (shoelace formula)."""
    xs = np.asarray(polygon[0::2], dtype=np.float64)
    ys = np.asarray(polygon[1::2], dtype=np.float64)
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2)


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    """The corner box ``(x0, y0, x1, y1)`` around a mask's pixels (None for an empty mask)."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def mask_array(mask: Path | np.ndarray) -> np.ndarray:
    """The (H, W) index array of an item's mask: the array itself, or the pixel values of a grey or palette PNG."""
    if isinstance(mask, np.ndarray):
        return mask
    with open_image(mask) as im:
        if im.mode not in ("L", "P", "I", "I;16"):
            raise FormatError(f"{printable(str(mask))}: a mask file must be a grey or palette image, not {im.mode}")
        return np.asarray(im)


def indexes_are_pixels(path: Path, colours: Sequence[Colour]) -> bool:
    """Whether the mask file's pixel values are already the indexes (grey, or a palette agreeing with ``colours``)."""
    with open_image(path) as im:
        if im.mode == "L":
            return True
        if im.mode != "P":
            return False
        flat = im.getpalette() or []
    palette = [tuple(flat[i : i + 3]) for i in range(0, len(flat) - 2, 3)]
    return all(palette[k] == tuple(c) for k, c in enumerate(colours) if k < len(palette))


def load_colour_mask(path: Path, colours: Sequence[Colour]) -> np.ndarray:
    """The (H, W) index array of a mask file whose colours are ``colours[index]`` (grey files: the values)."""
    with open_image(path) as im:
        if im.mode in ("L", "I", "I;16"):
            return np.asarray(im)
        rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
    keys = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    table = {(r << 16) | (g << 8) | b: i for i, (r, g, b) in reversed(list(enumerate(colours)))}
    found, inverse = np.unique(keys, return_inverse=True)
    unknown = [int(k) for k in found if int(k) not in table]
    if unknown:
        k = unknown[0]
        raise FormatError(
            f"{printable(str(path))}: the colour {(k >> 16, (k >> 8) & 255, k & 255)} is no class's colour "
            "(see labelmap.txt)"
        )
    dtype = np.uint8 if len(colours) <= 256 else np.int32
    return np.array([table[int(k)] for k in found], dtype=dtype)[inverse].reshape(keys.shape)


def save_palette_png(path: Path, mask: np.ndarray, colours: Sequence[Colour]) -> None:
    """Write an (H, W) index mask as a palette PNG whose colour ``k`` is ``colours[k]``."""
    Image = pillow("mask files")
    array = np.asarray(mask)
    if array.size and (array.min() < 0 or array.max() > 255):
        raise FormatError(f"{printable(str(path))}: mask values must be 0..255 to be a palette PNG")
    height, width = array.shape
    image = Image.frombytes("P", (width, height), np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    palette = [int(v) for c in list(colours)[:256] for v in c]
    image.putpalette(palette + [0] * (768 - len(palette)))
    image.save(path)
