"""Image files decoded with Pillow (the ``images`` extra), one at a time or by a pool of threads.

Images come out as ``(H, W, 3)`` uint8 (``RGB``) or ``(H, W)`` (``L``).
Pillow releases the GIL while it decodes, converts and resizes, so threads
decode at once; a batch is decoded straight into its array (each thread
writes its images' rows, scaled to float32 there when asked), so that
nothing but Pillow's Python glue (about 60 us an image) runs one thread at a
time. A batch is cut into a few runs of images per thread, and a pass starts
decoding its next batch before it hands over the current one (``start_batch``).

A JPEG image that is shrunk is decoded at a reduced size first (``draft``:
libjpeg's DCT scaling by 1/2, 1/4 or 1/8) when that still leaves a factor of
``DRAFT_GAP`` for the antialiased resize to the target (as Pillow's
``thumbnail``). Its pixels may differ slightly from a full decode followed by
the same resize (docs/performance.md gives the measured differences).

Decoding is bounded by the pixels of each image (``datamaestro.formats.images``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional, TypeVar

import numpy as np

from datamaestro.errors import FormatError, UsageError
from datamaestro.formats import jpeg
from datamaestro.formats.images import check_pixels, open_image, read_small
from datamaestro.loaders.arrays import METHODS, normalized
from datamaestro.loaders.buffers import Recycled
from datamaestro.optional import pillow

T = TypeVar("T")

#: image modes: Pillow mode -> channels (0: no channel axis)
MODES = {"RGB": 3, "L": 0}
#: below this many images a batch is decoded in the calling thread
PARALLEL_MIN = 8
#: tasks per thread a batch is cut into (one task an image spent more time handing out work than decoding)
TASKS_PER_THREAD = 4
#: JPEG draft decoding is used only when it leaves at least this factor for the antialiased resize
DRAFT_GAP = 2


def default_workers() -> int:
    """Decoding threads: one per core, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


def decode(
    path: Path, mode: str = "RGB", size: Optional[tuple[int, int]] = None, method: str = "bilinear",
    max_pixels: Optional[int] = None, draft: bool = True,
) -> np.ndarray:
    """One image file as ``(H, W, 3)`` (RGB) or ``(H, W)`` (L) uint8, resized to ``size``
    ((height, width)) by Pillow when given (a JPEG drafted first when ``draft`` and ``draft_scale``
    allow); refused beyond ``max_pixels`` (``check_pixels``). A JPEG file decoded to RGB without
    draft is decoded by libjpeg-turbo directly when it can be (``datamaestro.formats.jpeg``)."""
    Image = pillow()
    data = read_small(path)
    pixels = jpeg_pixels(path, data, size, method, max_pixels, draft) if data is not None and mode == "RGB" else None
    if pixels is not None:
        return pixels if size is None else resized(Image.fromarray(pixels), size, method)
    with open_image(path, max_pixels, data) as opened:
        try:
            if draft and size is not None and draft_scale(opened, size, method) > 1:
                width, height = size[1] * DRAFT_GAP, size[0] * DRAFT_GAP
                opened.draft(opened.mode, (width, height))  # (its own mode: only the size changes)
            im = opened if opened.mode == mode else opened.convert(mode)
            return np.asarray(im, dtype=np.uint8) if size is None else resized(im, size, method)
        except (OSError, ValueError, SyntaxError) as e:
            raise FormatError(f"{path}: not a readable image ({e})") from None


def jpeg_pixels(
    path: Path, data: bytes, size: Optional[tuple[int, int]], method: str, max_pixels: Optional[int], draft: bool,
) -> Optional[np.ndarray]:
    """The RGB pixels of the JPEG file ``path`` (its bytes ``data``) decoded by libjpeg-turbo directly,
    after the pixel bound; None when Pillow decodes it (not such a JPEG, or drafted)."""
    announced = jpeg.size(data)
    if announced is None:
        return None
    height, width = announced
    check_pixels(path, width, height, max_pixels)
    if draft and size is not None and draft_factor(width, height, size, method) > 1:
        return None
    return jpeg.rgb(data)


def resized(im: Any, size: tuple[int, int], method: str) -> np.ndarray:
    """The Pillow image ``im`` resized to ``size`` ((height, width)) unless it has it, as an array."""
    if im.size != (size[1], size[0]):
        im = im.resize((size[1], size[0]), RESAMPLING[method](pillow()))
    return np.asarray(im, dtype=np.uint8)


def draft_scale(im: Any, size: tuple[int, int], method: str) -> int:
    """The DCT scaling (1, 2, 4 or 8) a JPEG ``im`` can be decoded at before its antialiased resize to
    ``size`` ((height, width)): ``draft_factor``; 1 for other images."""
    return draft_factor(im.width, im.height, size, method) if im.format == "JPEG" else 1


def draft_factor(width: int, height: int, size: tuple[int, int], method: str) -> int:
    """The DCT scaling (1, 2, 4 or 8) a JPEG of ``width`` x ``height`` can be decoded at while leaving
    its antialiased resize to ``size`` a factor of ``DRAFT_GAP``; 1 for other methods, and whenever the
    image is not shrunk at least that much in both directions."""
    if method != "bilinear":
        return 1
    room = min(width // (size[1] * DRAFT_GAP), height // (size[0] * DRAFT_GAP))
    return next((scale for scale in (8, 4, 2) if room >= scale), 1)


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
        draft: bool = True,
        buffers: Optional[Recycled] = None,
    ):
        self.pool: Optional[ThreadPoolExecutor] = None
        #: the process the threads of ``pool`` run in
        self.pool_process = 0
        if mode not in MODES:
            raise UsageError(f"unknown image mode {mode!r} (use {' or '.join(MODES)})")
        if interpolation not in METHODS:
            raise UsageError(f"unknown interpolation {interpolation!r} (use {' or '.join(METHODS)})")
        self.mode = mode
        self.size = size
        self.interpolation = interpolation
        self.workers = default_workers() if workers is None else int(workers)
        self.max_pixels = max_pixels
        self.draft = bool(draft)
        self.buffers = buffers or Recycled()

    def one(self, path: Path) -> np.ndarray:
        """One image, uint8 (resized to ``size`` when set)."""
        return decode(path, self.mode, self.size, self.interpolation, self.max_pixels, self.draft)

    def many(self, paths: Sequence[Path]) -> list[np.ndarray]:
        """The images of ``paths``, in order."""
        return self.each(self.one, paths)

    def batch(self, paths: Sequence[Path], scale: bool = False, where: str = "") -> np.ndarray:
        """The images of ``paths`` as one array: uint8, or float32 divided by 255 with ``scale``
        (as ``arrays.normalized``)."""
        return self.start_batch(paths, scale, where)()

    def start_batch(self, paths: Sequence[Path], scale: bool = False, where: str = "") -> Callable[[], np.ndarray]:
        """Start decoding the images of ``paths`` as one array (``batch``); the returned call waits for
        it. With a ``size``, each thread writes its images into the array, one the caller has let go of
        when there is one (``datamaestro.loaders.buffers``)."""
        if self.size is None:
            decoded = self.start(self.one, paths)

            def stacked() -> np.ndarray:
                images = stack(decoded(), where)
                return normalized(images) if scale else images

            return stacked
        channels = MODES[self.mode]
        shape = (len(paths), *self.size, *([channels] if channels else []))
        out = self.buffers.empty(shape, np.float32 if scale else np.uint8)

        def fill(i: int) -> None:
            if scale:
                np.divide(self.one(paths[i]), np.float32(255), out=out[i], dtype=np.float32)
            else:
                out[i] = self.one(paths[i])

        filled = self.start(fill, range(len(paths)))

        def written() -> np.ndarray:
            filled()
            return out

        return written

    def each(self, action: Callable[[Any], T], items: Sequence[Any]) -> list[T]:
        """``action`` of each item, in order (``start``)."""
        return self.start(action, items)()

    def start(self, action: Callable[[Any], T], items: Sequence[Any]) -> Callable[[], list[T]]:
        """Start ``action`` on each item: by the pool of threads, a run of items per task, unless
        there are few (then in the calling thread, when the result is asked for). The returned call
        waits and gives the results in order."""
        if self.workers <= 1 or len(items) < PARALLEL_MIN:
            return lambda: [action(item) for item in items]
        if self.pool is None or self.pool_process != os.getpid():  # (a fork has none of its parent's threads)
            self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="datamaestro-decode")
            self.pool_process = os.getpid()
        step = -(-len(items) // (TASKS_PER_THREAD * self.workers))
        tasks = [self.pool.submit(run, action, items[i : i + step]) for i in range(0, len(items), step)]
        return lambda: [result for task in tasks for result in task.result()]

    def close(self) -> None:
        """Stop the decoding threads (a later call starts new ones)."""
        if self.pool is not None:
            self.pool.shutdown(wait=False)
            self.pool = None

    def __del__(self) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:  # a DataLoader worker gets its own pool (and arrays)
        return {**self.__dict__, "pool": None}


def run(action: Callable[[Any], T], items: Sequence[Any]) -> list[T]:
    """``action`` of each item, in order: one task of a pool."""
    return [action(item) for item in items]


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
