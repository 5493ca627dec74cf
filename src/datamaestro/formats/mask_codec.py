"""Instance masks as arrays: COCO run-length encoding decoded, polygons rasterised.

A COCO RLE lists the lengths of alternating runs of 0 and 1, starting with
0, over the pixels in column-major order (down each column, then the next
column). Its ``counts`` are a list of ints, or COCO's compressed string
(each count a signed variable-length number in 5-bit digits, offset by 48;
from the third on, the difference with the count two before).

A polygon covers the pixels whose centre lies inside it (even-odd rule), so
that an axis-aligned rectangle of integer corners ``(x0, y0, x1, y1)`` covers
exactly ``(x1 - x0) * (y1 - y0)`` pixels, its COCO area.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.annotations import Rle
from datamaestro.formats.images import MAX_PIXELS


def rle_counts(rle: Rle) -> list[int]:
    """The run lengths of ``rle`` (its list, or its compressed string decoded)."""
    if isinstance(rle.counts, str):
        return string_counts(rle.counts)
    if not isinstance(rle.counts, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in rle.counts):
        raise FormatError("an RLE mask's counts must be a string or a list of integers")
    return list(rle.counts)


def string_counts(text: str) -> list[int]:
    """COCO's compressed RLE string as run lengths."""
    counts: list[int] = []
    position = 0
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(text):
                raise FormatError("an RLE mask's compressed counts end in the middle of a number")
            digit = ord(text[position]) - 48
            if not 0 <= digit < 64:
                raise FormatError(f"an RLE mask's compressed counts hold {text[position]!r}, not a COCO digit")
            value |= (digit & 0x1F) << shift
            more = bool(digit & 0x20)
            position += 1
            shift += 5
            if not more and digit & 0x10:
                value |= -1 << shift
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    return counts


def counts_string(counts: Sequence[int]) -> str:
    """Run lengths as COCO's compressed RLE string (the inverse of ``string_counts``)."""
    out = []
    for i, count in enumerate(counts):
        value = int(count) - (int(counts[i - 2]) if i > 2 else 0)
        more = True
        while more:
            digit = value & 0x1F
            value >>= 5
            more = value != -1 if digit & 0x10 else value != 0
            out.append(chr(digit + (0x20 if more else 0) + 48))
    return "".join(out)


def checked_size(height: int, width: int) -> None:
    """Refuse a mask size that is not positive or has more pixels than an image may."""
    if height < 1 or width < 1 or height * width > MAX_PIXELS:
        raise FormatError(f"refused mask size {width}x{height}: not between 1 and {MAX_PIXELS:,} pixels")


def decode_rle(rle: Rle) -> np.ndarray:
    """An RLE mask as an (H, W) bool array."""
    checked_size(rle.height, rle.width)
    counts = np.asarray(rle_counts(rle), dtype=np.int64)
    if counts.size and counts.min() < 0:
        raise FormatError("an RLE mask has a negative run length")
    total = rle.height * rle.width
    if int(counts.sum()) != total:
        raise FormatError(f"an RLE mask's runs cover {int(counts.sum())} pixels, not {rle.height}x{rle.width}")
    values = np.arange(counts.size) % 2 == 1
    flat = np.repeat(values, counts)
    return flat.reshape(rle.width, rle.height).T.copy()


def mask_rle(mask: np.ndarray) -> Rle:
    """An (H, W) bool mask as an RLE with a list of counts (the inverse of ``decode_rle``)."""
    flat = np.asarray(mask, dtype=bool).T.reshape(-1)
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate([[0], changes, [flat.size]])
    runs = np.diff(edges).tolist()
    if flat.size and flat[0]:
        runs = [0, *runs]
    return Rle(height=int(mask.shape[0]), width=int(mask.shape[1]), counts=[int(r) for r in runs])


def polygons_mask(polygons: Sequence[Sequence[float]], height: int, width: int) -> np.ndarray:
    """The (H, W) bool mask of the pixels whose centre lies inside one of ``polygons``
    (each a flat ``[x0, y0, x1, y1, ...]`` in pixels)."""
    checked_size(height, width)
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
