"""JPEG files decoded by libjpeg-turbo through simplejpeg (in the ``images`` extra), when installed.

Pillow decodes JPEG with the same library and the same settings (accurate
DCT, smooth chroma upsampling), so the pixels are the same: the tests
compare them. What is saved is Pillow's Python around the library (the
header parsed marker by marker, the loading loop), which runs one thread at
a time under the GIL, so that threads decoding side by side scale better
(``docs/performance.md``). Only JPEG files in YCbCr or grey go this way;
anything else (CMYK or YCCK files, a file simplejpeg refuses) is left to
Pillow, which then also words the error of a file that neither can read.
Without simplejpeg, Pillow decodes every image.

Two known differences. A file that libjpeg-turbo reads but Pillow's own
header parser refuses (a TEM marker, a JFIF or ICC segment cut short) is
decoded here, and refused without simplejpeg (the index, written with Pillow,
refuses it first). A file that makes libjpeg-turbo warn (extraneous bytes,
repeated scans, a cut file) is decoded twice: simplejpeg decodes it, then
refuses it for the warning, and Pillow decodes it (at most twice Pillow's time).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

try:
    import simplejpeg
except ImportError:  # (Pillow decodes every image then)
    simplejpeg = None

#: how a JPEG file starts (start of image, then a marker)
JPEG_START = b"\xff\xd8\xff"
#: colour spaces decoded here as Pillow decodes them
COLORSPACES = ("YCbCr", "Gray")


def size(data: bytes) -> Optional[tuple[int, int]]:
    """The (height, width) of the JPEG ``data`` when ``rgb`` decodes it as Pillow would, else None."""
    if simplejpeg is None or not data.startswith(JPEG_START):
        return None
    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None
    return (int(height), int(width)) if colorspace in COLORSPACES else None


def rgb(data: bytes) -> Optional[np.ndarray]:
    """The (H, W, 3) uint8 pixels of the JPEG ``data`` (one ``size`` accepted), or None when
    simplejpeg refuses them (a truncated or damaged file: Pillow then says what is wrong)."""
    try:
        pixels: np.ndarray = simplejpeg.decode_jpeg(data, colorspace="RGB")
    except ValueError:
        return None
    return pixels
