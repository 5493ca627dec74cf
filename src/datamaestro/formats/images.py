"""Image files opened with Pillow (the ``images`` extra), bounded by their pixels before anything is decoded.

An image whose header announces more than ``max_pixels`` (default
``MAX_PIXELS``, 64 million: an 8000 x 8000 photo) is refused with a one-line
error naming the file. Pillow's own bound (``Image.MAX_IMAGE_PIXELS``, about
89 million, an error above twice that) is not enough: a 20 KB PNG of 13000 x
13000 pixels of one bit is under it and takes 170 MB once decoded, and Pillow
only warns. Its warning is not shown: the image is refused instead. Every
image file that datamaestro reads (loaders, ``show``, ``convert``) is opened here.
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from pathlib import Path
from typing import Any, Optional

from datamaestro.errors import FormatError
from datamaestro.optional import pillow

#: the most pixels (width x height, from its header) an image may have to be decoded
MAX_PIXELS = 64_000_000

#: the largest file ``open_header(whole=True)`` reads at once (a larger one is read as it is decoded)
WHOLE_MAX = 16 << 20

# warnings.catch_warnings changes process-wide state: one thread of ours at a time opens a file
_OPENING = threading.Lock()


def open_header(path: Path, whole: bool = False) -> Any:
    """The Pillow image of ``path`` with only its header read (``whole``: the file read at once into
    memory, which threads decoding side by side wait less on); a one-line error when it is not
    an image, or when it has more pixels than Pillow allows (without Pillow's warning)."""
    Image = pillow()
    try:
        source = read_whole(path) if whole else path
        with _OPENING, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(source)
    except Image.DecompressionBombError:
        raise FormatError(
            f"{path}: refused: more than twice Pillow's limit of {Image.MAX_IMAGE_PIXELS:,} pixels per image"
        ) from None
    except Image.UnidentifiedImageError:
        raise FormatError(f"{path}: not a readable image (not a format Pillow knows)") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise FormatError(f"{path}: not a readable image ({e})") from None


def read_whole(path: Any) -> Any:
    """The file ``path`` in memory when it is a file of at most ``WHOLE_MAX`` bytes, else ``path``
    as it is (a larger file, or bytes already in memory)."""
    if isinstance(path, (str, os.PathLike)) and os.stat(path).st_size <= WHOLE_MAX:
        return io.BytesIO(Path(path).read_bytes())
    return path


def image_size(path: Path) -> tuple[int, int]:
    """``(height, width)`` of an image file, from its header (nothing is decoded)."""
    with open_header(path) as im:
        width, height = im.size
    return height, width


def open_image(path: Path, max_pixels: Optional[int] = None, whole: bool = False) -> Any:
    """The Pillow image of ``path``, not decoded yet (``whole``: as ``open_header``); refused (one
    line naming the file) when its header announces more than ``max_pixels`` pixels (None: ``MAX_PIXELS``)."""
    limit = MAX_PIXELS if max_pixels is None else max_pixels
    im = open_header(path, whole)
    width, height = im.size
    if width * height > limit:
        im.close()
        raise FormatError(
            f"{path}: refused: {width}x{height} is {width * height:,} pixels, more than the {limit:,} "
            "an image may have (max_pixels)"
        )
    return im
