"""Image files decoded with Pillow (the ``images`` extra), one at a time or by a pool of threads.

Images come out as ``(H, W, 3)`` uint8 (``RGB``) or ``(H, W)`` (``L``).
Pillow releases the GIL while decoding, so threads decode in parallel.

Decoding is bounded by the pixels of each image (``datamaestro.formats.images``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

import numpy as np

from datamaestro.errors import FormatError, UsageError
from datamaestro.formats.images import open_image
from datamaestro.loaders.arrays import METHODS
from datamaestro.optional import pillow

#: image modes: Pillow mode -> channels (0: no channel axis)
MODES = {"RGB": 3, "L": 0}
#: below this many images a batch is decoded in the calling thread
PARALLEL_MIN = 8


def default_workers() -> int:
    """Decoding threads: one per core, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


def decode(
    path: Path, mode: str = "RGB", size: Optional[tuple[int, int]] = None, method: str = "bilinear",
    max_pixels: Optional[int] = None,
) -> np.ndarray:
    """One image file as ``(H, W, 3)`` (RGB) or ``(H, W)`` (L) uint8, resized to ``size``
    ((height, width)) by Pillow when given; refused beyond ``max_pixels`` (``open_image``)."""
    Image = pillow()
    with open_image(path, max_pixels) as opened:
        try:
            im = opened if opened.mode == mode else opened.convert(mode)
            if size is not None and im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), RESAMPLING[method](Image))
            return np.asarray(im, dtype=np.uint8)
        except (OSError, ValueError, SyntaxError) as e:
            raise FormatError(f"{path}: not a readable image ({e})") from None


#: resize method -> Pillow filter
RESAMPLING = {
    "bilinear": lambda Image: Image.Resampling.BILINEAR,
    "nearest": lambda Image: Image.Resampling.NEAREST,
}


class Decoder:
    """Decodes (and resizes) lists of image files with a thread pool.

    Resizing is Pillow's, done while decoding: bilinear is antialiased when
    shrinking (as torchvision's ``Resize`` on PIL images), which photos need
    and which costs a few taps per pixel.
    """

    def __init__(
        self,
        mode: str = "RGB",
        size: Optional[tuple[int, int]] = None,
        interpolation: str = "bilinear",
        workers: Optional[int] = None,
        max_pixels: Optional[int] = None,
    ):
        self.pool: Optional[ThreadPoolExecutor] = None
        if mode not in MODES:
            raise UsageError(f"unknown image mode {mode!r} (use {' or '.join(MODES)})")
        if interpolation not in METHODS:
            raise UsageError(f"unknown interpolation {interpolation!r} (use {' or '.join(METHODS)})")
        self.mode = mode
        self.size = size
        self.interpolation = interpolation
        self.workers = default_workers() if workers is None else int(workers)
        self.max_pixels = max_pixels

    def one(self, path: Path) -> np.ndarray:
        """One image, uint8 (resized to ``size`` when set)."""
        return decode(path, self.mode, self.size, self.interpolation, self.max_pixels)

    def many(self, paths: Sequence[Path]) -> list[np.ndarray]:
        """The images of ``paths``, in order."""
        if self.workers <= 1 or len(paths) < PARALLEL_MIN:
            return [self.one(p) for p in paths]
        if self.pool is None:
            self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="datamaestro-decode")
        return list(self.pool.map(self.one, paths))

    def close(self) -> None:
        """Stop the decoding threads (a later call starts new ones)."""
        if self.pool is not None:
            self.pool.shutdown(wait=False)
            self.pool = None

    def __del__(self) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:  # a DataLoader worker gets its own pool
        return {**self.__dict__, "pool": None}


def stack(images: list[np.ndarray], where: str) -> np.ndarray:
    """The images as one array; a one-line error when their sizes differ."""
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        sizes = sorted(f"{s[1]}x{s[0]}" for s in shapes)
        raise UsageError(
            f"{where}: the images differ in size ({', '.join(sizes[:4])}{', ...' if len(sizes) > 4 else ''}); "
            "pass resize=(height, width) to get them as one array"
        )
    return np.stack(images)
