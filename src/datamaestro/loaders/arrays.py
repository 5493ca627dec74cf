"""Whole-split arrays: layout, scaling to [0, 1], flattening, one-hot labels, resizing.

Image arrays come in three layouts, told apart by their shape alone:
``(N, H, W)`` (grey-scale, no channel axis, MNIST-like), ``(N, C, H, W)``
(``"NCHW"``, channels first, CIFAR) and ``(N, H, W, C)`` (``"NHWC"``). A 4-d
array whose axis 1 has 1, 3 or 4 entries is taken as NCHW, else one whose
last axis has 1, 3 or 4 entries as NHWC.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import Optional, Union

import numpy as np

from datamaestro.data.loading import Normalize
from datamaestro.errors import FormatError, UsageError

LAYOUTS = ("NCHW", "NHWC")
CHANNELS = (1, 3, 4)
#: ``resize`` methods
METHODS = ("bilinear", "nearest")

Size = Union[int, Sequence[int]]


def image_layout(images: np.ndarray) -> Optional[str]:
    """``None`` for (N, H, W) images, else ``"NCHW"`` or ``"NHWC"``, from the shape."""
    if images.ndim == 3:
        return None
    if images.ndim == 4:
        if images.shape[1] in CHANNELS:
            return "NCHW"
        if images.shape[3] in CHANNELS:
            return "NHWC"
    raise FormatError(
        f"images of shape {tuple(images.shape)} are not (N, H, W), (N, C, H, W) or "
        "(N, H, W, C) with 1, 3 or 4 channels"
    )


def check_layout(layout: Optional[str]) -> Optional[str]:
    """``layout`` upper-cased, after checking it is None, NCHW or NHWC."""
    if layout is None:
        return None
    if not isinstance(layout, str) or layout.upper() not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r} (use 'NCHW', 'NHWC' or None)")
    return layout.upper()


def to_layout(images: np.ndarray, source: Optional[str], target: Optional[str]) -> np.ndarray:
    """``images`` (in layout ``source``) in layout ``target``: a view, never a copy.

    ``target=None`` keeps the source layout; a grey-scale (N, H, W) array gets
    a channel axis of size 1.
    """
    target = check_layout(target)
    if target is None or target == source:
        return images
    if source is None:
        return images[:, None] if target == "NCHW" else images[..., None]
    if target == "NHWC":
        return images.transpose(0, 2, 3, 1)
    return images.transpose(0, 3, 1, 2)


def spatial_axes(layout: Optional[str]) -> tuple[int, int]:
    """The (height, width) axes of a batch in ``layout``."""
    return (1, 2) if layout == "NHWC" else (-2, -1)


#: a batch of at least this many values is scaled by two threads (numpy lets go of the GIL):
#: at array speed (the decoded cache), scaling is most of the time of a pass
SPLIT_AT = 1 << 20


def normalized(images: np.ndarray, out: Optional[np.ndarray] = None) -> np.ndarray:
    """A float32 copy scaled to [0, 1]: integers divided by their type's maximum
    (255 for uint8, as torchvision's ``ToTensor`` does); floats only converted.
    Written into ``out`` (float32, of the same shape) when given."""
    if out is None:
        out = np.empty(images.shape, dtype=np.float32)
    if images.dtype.kind not in "ui":
        out[...] = images
        return out
    top = np.float32(255 if images.dtype == np.uint8 else np.iinfo(images.dtype).max)
    if images.ndim == 0 or images.size < SPLIT_AT or len(images) < 2:
        np.divide(images, top, out=out, dtype=np.float32)
        return out
    half = len(images) // 2
    other = threading.Thread(target=np.divide, args=(images[half:], top), kwargs={"out": out[half:], "dtype": np.float32})
    other.start()
    np.divide(images[:half], top, out=out[:half], dtype=np.float32)
    other.join()
    return out


def mean_std(normalize: Normalize) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """The float32 ``(mean, std)`` of ``normalize=(mean, std)``, each one value per channel
    (or one for all); None for ``normalize=True`` or ``False``."""
    if isinstance(normalize, (bool, np.bool_)):
        return None
    try:
        mean, std = (np.atleast_1d(np.asarray(v, dtype=np.float32)) for v in normalize)
    except (TypeError, ValueError):
        raise UsageError(f"normalize must be True, False or (mean, std), not {normalize!r}") from None
    if mean.ndim != 1 or mean.shape != std.shape:
        raise UsageError(f"normalize=(mean, std) needs as many means as stds, one per channel, not {normalize!r}")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
        raise UsageError(f"normalize=(mean, std) needs finite means and positive stds, not {normalize!r}")
    return mean, std


def standardized(images: np.ndarray, stats: tuple[np.ndarray, np.ndarray], layout: Optional[str]) -> np.ndarray:
    """Float32 ``images`` (in ``layout``) minus the mean, divided by the std, channel by channel,
    as torchvision's ``Normalize`` after ``ToTensor``; changed in place and returned."""
    mean, std = stats
    axis = 1 if layout == "NCHW" else images.ndim - 1
    channels = 1 if layout is None else images.shape[axis]
    if len(mean) not in (1, channels):
        raise UsageError(f"normalize=(mean, std) gives {len(mean)} values for images of {channels} channels")
    shape = [1] * images.ndim
    if len(mean) > 1:
        shape[axis] = len(mean)
    images -= mean.reshape(shape)
    images /= std.reshape(shape)
    return images


def native(array: np.ndarray) -> np.ndarray:
    """``array`` as a plain ndarray in native byte order (a view when it already is)."""
    array = np.asarray(array)
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def num_classes(labels: np.ndarray, categories: Optional[Sequence[str]]) -> int:
    """The number of classes: ``len(categories)`` when known, else the largest label + 1."""
    if categories:
        return len(categories)
    return int(labels.max()) + 1 if labels.size else 0


def one_hot_rows(labels: np.ndarray, classes: int) -> np.ndarray:
    """(N, classes) float32 rows with a 1 in column ``labels[i]``, zeros elsewhere."""
    labels = np.asarray(labels)
    if labels.size:
        bad = np.flatnonzero((labels < 0) | (labels >= classes))
        if bad.size:
            row = int(bad[0])
            raise FormatError(
                f"label {labels[row]} at row {row} is outside the {classes} classes "
                f"(0 to {classes - 1})"
            )
    out = np.zeros((labels.shape[0], classes), dtype=np.float32)
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def target_size(size: Size, height: int, width: int) -> tuple[int, int]:
    """(height, width) after resizing: a pair as is; an int sets the shorter edge
    and keeps the aspect ratio (torchvision's ``Resize(int)``)."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = int(size)
        if size < 1:
            raise UsageError(f"resize size must be positive, not {size}")
        if height <= width:
            return size, max(1, int(size * width / height))
        return max(1, int(size * height / width)), size
    try:
        h, w = (int(v) for v in size)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise UsageError(f"resize expects an int or a (height, width) pair, not {size!r}") from None
    if h < 1 or w < 1:
        raise UsageError(f"resize size must be positive, not {(h, w)}")
    return h, w


@functools.lru_cache(maxsize=64)
def _bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) float32 weights: each output position mixes its two nearest
    inputs, with half-pixel centres (``align_corners=False``), clamped at the edges."""
    src = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0, n_in - 1)
    low = np.floor(src).astype(np.intp)
    high = np.minimum(low + 1, n_in - 1)
    weight = src - low
    matrix = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(matrix, (rows, low), 1 - weight)
    np.add.at(matrix, (rows, high), weight)
    matrix = matrix.astype(np.float32)
    matrix.flags.writeable = False
    return matrix


def _nearest_index(n_in: int, n_out: int) -> np.ndarray:
    """Source index of each output position, the pixel under its centre:
    ``floor((i + 0.5) * n_in / n_out)`` (PIL's NEAREST, torch's "nearest-exact")."""
    return np.minimum(((2 * np.arange(n_out) + 1) * n_in) // (2 * n_out), n_in - 1).astype(np.intp)


def resize(
    images: np.ndarray,
    size: Size,
    layout: Optional[str] = None,
    method: str = "bilinear",
) -> np.ndarray:
    """A batch of images resized to ``size``, as float32 (values keep their scale).

    ``layout`` is the batch's layout (None for (N, H, W)). ``"bilinear"`` uses
    half-pixel centres, the convention of PIL and of torchvision's ``Resize``
    (for enlarging, as d2l's ``Resize(32)`` of 28x28 images, PIL gives the same
    weights, up to its 8-bit rounding); ``"nearest"`` takes the pixel under
    each output pixel's centre, ``floor((i + 0.5) * in / out)``. Computed separably, vectorised over the batch.
    """
    if method not in METHODS:
        raise UsageError(f"unknown resize method {method!r} (use {' or '.join(METHODS)})")
    channels_last = layout == "NHWC"
    out = np.asarray(images)
    if channels_last:
        out = out.transpose(0, 3, 1, 2)
    height, width = out.shape[-2], out.shape[-1]
    out_h, out_w = target_size(size, height, width)
    if method == "nearest":
        out = out.take(_nearest_index(height, out_h), axis=-2)
        out = out.take(_nearest_index(width, out_w), axis=-1).astype(np.float32)
    else:
        out = out.astype(np.float32)
        if out_w != width:
            out = np.matmul(out, _bilinear_matrix(width, out_w).T)
        if out_h != height:
            out = np.matmul(_bilinear_matrix(height, out_h), out)
    if channels_last:
        out = np.ascontiguousarray(out.transpose(0, 2, 3, 1))
    return out


def arrays(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    normalize: Normalize = False,
    flatten: bool = False,
    one_hot: bool = False,
    layout: Optional[str] = None,
    categories: Optional[Sequence[str]] = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of a whole split, converted as asked.

    Without ``normalize`` and ``flatten`` the images stay a (memory-mapped)
    view of the stored array; ``normalize`` makes a float32 copy in [0, 1]
    (``normalize=(mean, std)``: then standardised per channel).
    ``one_hot`` gives (N, classes) float32 labels (``num_classes``: one per
    category, else the largest label + 1); otherwise labels keep their stored
    integer type.
    """
    check_pair(images, labels)
    images = native(images)
    source = image_layout(images)
    images = to_layout(images, source, layout)
    stats = mean_std(normalize)
    if normalize:
        images = normalized(images)
    if stats is not None:
        images = standardized(images, stats, check_layout(layout) or source)
    if flatten:
        images = images.reshape(images.shape[0], -1)
    labels = native(labels)
    if one_hot:
        labels = one_hot_rows(labels, num_classes(labels, categories))
    return images, labels


def check_pair(images: np.ndarray, labels: np.ndarray) -> None:
    """Raise a one-line error unless ``labels`` are 1-d integers, one per image."""
    if labels.ndim != 1 or labels.dtype.kind not in "ui":
        raise FormatError(
            f"labels must be a 1-d integer array, not {labels.ndim}-d {labels.dtype}"
        )
    if images.shape[0] != labels.shape[0]:
        raise FormatError(
            f"{images.shape[0]} images but {labels.shape[0]} labels; the split is inconsistent"
        )
