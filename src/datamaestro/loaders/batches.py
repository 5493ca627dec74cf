"""Minibatches of a split, gathered one batch at a time from the (memory-mapped) arrays.

Shuffling: the order of a pass is ``np.random.default_rng([seed, epoch]).permutation(N)``
when a seed is given (reproducible: the same seed and epoch give the same
order), and fresh operating-system entropy otherwise. With ``rank`` and
``world_size`` (or ``distributed=True``: RANK and WORLD_SIZE), a pass is this rank's share of that
order (``datamaestro.loaders.sharding``). Only the batch being
returned is copied and converted, so memory stays bounded by one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from datamaestro.data.loading import Normalize, Transform
from datamaestro.errors import UsageError
from datamaestro.loaders.arrays import (
    METHODS,
    Size,
    check_layout,
    check_pair,
    image_layout,
    mean_std,
    native,
    normalized,
    num_classes,
    one_hot_rows,
    spatial_axes,
    standardized,
    target_size,
    to_layout,
)
from datamaestro.loaders.arrays import (
    resize as resize_batch,
)
from datamaestro.loaders.buffers import Recycled
from datamaestro.loaders.passes import IndexBatches


class Converter:
    """Turns gathered rows of a split into batches as asked: layout, resize, scale, flatten, one-hot.

    ``images`` and ``labels`` are the whole split (only their shape and type are
    read here); one-hot labels have ``num_classes(labels, categories)`` columns.
    ``normalize=(mean, std)`` scales to [0, 1], then standardises each channel;
    ``transform`` is called last on each batch of images, and gives the batch.
    Batches scaled to float32 are written into arrays of ``buffers`` (``loaders.buffers``).
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        *,
        normalize: Normalize = True,
        resize: Optional[Size] = None,
        interpolation: str = "bilinear",
        layout: Optional[str] = None,
        flatten: bool = False,
        one_hot: bool = False,
        categories: Optional[Sequence[str]] = None,
        transform: Optional[Transform] = None,
        buffers: Optional[Recycled] = None,
    ):
        if interpolation not in METHODS:
            raise UsageError(
                f"unknown interpolation {interpolation!r} (use {' or '.join(METHODS)})"
            )
        check_pair(images, labels)
        self.source = image_layout(images)
        self.layout = check_layout(layout) or self.source
        self.size: Optional[tuple[int, int]] = None
        if resize is not None:
            h_axis, w_axis = spatial_axes(self.source)
            self.size = target_size(resize, images.shape[h_axis], images.shape[w_axis])
        self.interpolation = interpolation
        self.normalize = bool(normalize)
        self.stats = mean_std(normalize)
        self.flatten = flatten
        self.classes = num_classes(labels, categories) if one_hot else None
        self.transform = transform
        self.buffers = buffers or Recycled()

    def __call__(self, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One gathered batch, converted."""
        images = native(images)
        images = to_layout(images, self.source, self.layout)
        if self.size is not None:
            stored = images.dtype
            images = resize_batch(images, self.size, self.layout, self.interpolation)
            if self.normalize:
                if stored.kind in "ui":
                    top = 255 if stored == np.uint8 else np.iinfo(stored).max
                    np.divide(images, np.float32(top), out=images)
            elif stored.kind in "ui":
                info = np.iinfo(stored)
                images = np.clip(np.rint(images), info.min, info.max).astype(stored)
        elif self.normalize:
            images = normalized(images, self.buffers.empty(images.shape, np.float32))
        if self.layout != self.source:
            images = np.ascontiguousarray(images)
        if self.stats is not None:
            images = standardized(images, self.stats, self.layout)
        if self.flatten:
            images = images.reshape(images.shape[0], -1)
        if self.transform is not None:
            images = self.transform(images)
        labels = native(labels)
        if self.classes is not None:
            labels = one_hot_rows(labels, self.classes)
        return images, labels


class Batches(IndexBatches[tuple[np.ndarray, np.ndarray]]):
    """An iterator over the ``(images, labels)`` minibatches of one pass over a split.

    ``len()`` is the number of batches in the pass. Images come out float32 in
    [0, 1] with ``normalize`` (the default), else with their stored type (an
    unshuffled, unconverted batch may be a read-only view of the stored data).
    Conversion options are those of ``Converter``; the pass (shuffling, epochs,
    ranks) is ``IndexBatches``'.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        *,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: Optional[int] = None,
        epoch: int = 0,
        drop_last: bool = False,
        rank: Optional[int] = None,
        world_size: Optional[int] = None,
        distributed: bool = False,
        **conversion: Any,
    ):
        self._images = np.asarray(images)
        self._labels = np.asarray(labels)
        self.convert = Converter(self._images, self._labels, **conversion)
        super().__init__(
            self._images.shape[0], self._gather, batch_size=batch_size, shuffle=shuffle, seed=seed,
            epoch=epoch, drop_last=drop_last, rank=rank, world_size=world_size, distributed=distributed,
        )

    def _gather(self, where: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.convert(self._images[where], self._labels[where])
