"""Image files opened with Pillow (the ``images`` extra), bounded by their pixels before anything is decoded.

An image whose header announces more than ``max_pixels`` (default
``MAX_PIXELS``, 64 million: an 8000 x 8000 photo) is refused with a one-line
error naming the file. Pillow's own bound (``Image.MAX_IMAGE_PIXELS``, about
89 million, an error above twice that) is not enough: a 20 KB PNG of 13000 x
13000 pixels of one bit is under it and takes 170 MB once decoded, and Pillow
only warns. Its warning is not shown: the image is refused instead. Every
image file that datamaestro reads (loaders, ``show``, ``convert``) is opened
here, or, for a JPEG file that libjpeg-turbo decodes directly
(``datamaestro.formats.jpeg``), bounded here (``check_pixels``).
"""

from __future__ import annotations

import io
import os
import stat
import threading
import warnings
from pathlib import Path
from typing import Any, Optional

from datamaestro.errors import FormatError
from datamaestro.optional import pillow

#: the most pixels (width x height, from its header) an image may have to be decoded
MAX_PIXELS = 64_000_000

#: the largest file ``read_small`` reads at once (a larger one is read by Pillow as it is decoded)
SMALL_MAX = 16 << 20
#: how ``read_small`` opens a file: without blocking (a FIFO opens at once, and is then refused)
READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)

# warnings.catch_warnings changes process-wide state: one thread of ours at a time opens a file
_OPENING = threading.Lock()


def open_header(path: Path, data: Optional[bytes] = None) -> Any:
    """The Pillow image of ``path`` (or of its bytes ``data``, already read) with only its header
    read; a one-line error naming ``path`` when it is not an image, or when it has more pixels than
    Pillow allows (without Pillow's warning)."""
    Image = pillow()
    try:
        with _OPENING, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path if data is None else io.BytesIO(data))
    except Image.DecompressionBombError:
        raise beyond_pillow(path) from None
    except Image.UnidentifiedImageError:
        raise FormatError(f"{path}: not a readable image (not a format Pillow knows)") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise FormatError(f"{path}: not a readable image ({e})") from None


def read_small(path: Any) -> Optional[bytes]:
    """The bytes of the image file ``path`` when it has at most ``SMALL_MAX`` of them (read at once:
    threads decoding side by side then wait less on each other than over Pillow's many small
    reads), else None (a larger file, or an image already in memory); refused when ``path`` is not a
    regular file (a FIFO would block the reader, a device never end). What is checked is the file
    opened (without blocking), and no more than ``SMALL_MAX`` bytes are read of it: a FIFO swapped in
    after a check, or a file growing while read, changes nothing."""
    if not isinstance(path, (str, os.PathLike)):
        return None
    try:
        fd = os.open(path, READ_FLAGS)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise FormatError(f"{path}: not a readable image (not a regular file)")
            return None if info.st_size > SMALL_MAX else read_bounded(fd, info.st_size)
        finally:
            os.close(fd)
    except OSError as e:
        raise FormatError(f"{path}: not a readable image ({e})") from None


def read_bounded(fd: int, expected: int) -> Optional[bytes]:
    """The bytes of the open file ``fd`` (``expected`` of them, from its size) when there are at most
    ``SMALL_MAX``, else None."""
    chunks: list[bytes] = []
    total, ask = 0, expected + 1
    while total <= SMALL_MAX:
        chunk = os.read(fd, min(ask, SMALL_MAX + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total, ask = total + len(chunk), 1 << 20
    return None


def image_size(path: Path) -> tuple[int, int]:
    """``(height, width)`` of an image file, from its header (nothing is decoded)."""
    with open_header(path) as im:
        width, height = im.size
    return height, width


def beyond_pillow(path: Path) -> FormatError:
    """The error for an image of more than twice Pillow's limit of pixels, which Pillow refuses to open."""
    return FormatError(f"{path}: refused: more than twice Pillow's limit of {pillow().MAX_IMAGE_PIXELS:,} pixels per image")


def check_pixels(path: Path, width: int, height: int, max_pixels: Optional[int] = None) -> None:
    """Refuse (one line naming the file) an image whose header announces more than ``max_pixels``
    pixels (None: ``MAX_PIXELS``), or more than twice Pillow's limit (as its ``Image.open`` does, first,
    whatever ``max_pixels`` allows: the same refusal whichever library decodes the image)."""
    pillow_limit = pillow().MAX_IMAGE_PIXELS
    if pillow_limit is not None and max(width, 1) * max(height, 1) > 2 * pillow_limit:
        raise beyond_pillow(path)
    limit = MAX_PIXELS if max_pixels is None else max_pixels
    if width * height > limit:
        raise FormatError(
            f"{path}: refused: {width}x{height} is {width * height:,} pixels, more than the {limit:,} "
            "an image may have (max_pixels)"
        )


def open_image(path: Path, max_pixels: Optional[int] = None, data: Optional[bytes] = None) -> Any:
    """The Pillow image of ``path`` (of ``data``: as ``open_header``), not decoded yet; refused when
    its header announces more than ``max_pixels`` pixels (``check_pixels``)."""
    im = open_header(path, data)
    width, height = im.size
    try:
        check_pixels(path, width, height, max_pixels)
    except FormatError:
        im.close()
        raise
    return im
