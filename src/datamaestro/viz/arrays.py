"""Turning image arrays of any usual layout into displayable uint8 pixels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from datamaestro.errors import UsageError

#: channel counts recognised when guessing whether an axis holds channels
CHANNELS = (1, 3, 4)


def as_images(images: Any, layout: Optional[str] = None) -> np.ndarray:
    """``images`` as uint8 ``(N, H, W)`` (grey) or ``(N, H, W, 3)`` (RGB).

    Accepts ``(N, H, W)``, ``(N, H, W, C)`` and ``(N, C, H, W)`` (guessed from
    which axis has 1, 3 or 4 entries, or given by ``layout="NHWC"``/``"NCHW"``),
    or a single grey image ``(H, W)`` (a single colour image is ``image[None]``). Floats are taken as values
    in [0, 1] (NaN as 0); other integer ranges are stretched to 0..255. An alpha
    channel is dropped.
    """
    array = np.asarray(images)
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 4:
        if layout is None:
            layout = "NHWC" if array.shape[-1] in CHANNELS else "NCHW"
        if layout.upper() == "NCHW":
            array = array.transpose(0, 2, 3, 1)
        elif layout.upper() != "NHWC":
            raise UsageError(f"unknown image layout '{layout}': use NHWC or NCHW")
        if array.shape[-1] not in CHANNELS:
            raise UsageError(
                f"cannot show images of shape {tuple(np.shape(images))}: "
                "expected 1, 3 or 4 channels"
            )
        if array.shape[-1] == 1:
            array = array[..., 0]
        elif array.shape[-1] == 4:
            array = array[..., :3]
    elif array.ndim != 3:
        raise UsageError(
            f"cannot show an array of shape {tuple(np.shape(images))} as images: "
            "expected (N, H, W), (N, H, W, C) or (N, C, H, W)"
        )
    return _to_uint8(array)


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind == "b":
        return array.astype(np.uint8) * 255
    if array.dtype.kind == "f":  # NaN shows as 0, infinities as 0 and 255 (no numpy warning)
        values = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        return np.rint(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)
    if array.dtype.kind in "iu":
        low, high = (int(array.min()), int(array.max())) if array.size else (0, 0)
        if low >= 0 and high <= 255:
            return array.astype(np.uint8)
        span = max(high - low, 1)
        return ((array.astype(np.float64) - low) * (255.0 / span)).round().astype(np.uint8)
    raise UsageError(f"cannot show images of dtype {array.dtype}")


def label_texts(
    labels: Optional[Sequence[Any]], count: int, categories: Optional[Sequence[str]] = None
) -> Optional[list[str]]:
    """One title per image: ``categories[label]`` for integer labels when given, else ``str``."""
    if labels is None:
        return None
    texts = []
    for label in list(labels)[:count]:
        if isinstance(label, np.generic):
            label = label.item()
        if categories is not None and isinstance(label, int) and 0 <= label < len(categories):
            texts.append(str(categories[label]))
        else:
            texts.append(str(label))
    if len(texts) != count:
        raise UsageError(f"{count} images but {len(texts)} labels")
    return texts
