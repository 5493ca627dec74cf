"""The loaders of a ``LabelledImages`` split: its arrays, passes of minibatches, PyTorch and TensorFlow."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from datamaestro.data.images import LabelledImages
from datamaestro.data.loading import register
from datamaestro.loaders.arrays import arrays
from datamaestro.loaders.batches import Batches
from datamaestro.loaders.buffers import recycled
from datamaestro.loaders.passes import counted_epoch
from datamaestro.loaders.tf import dataset
from datamaestro.loaders.torch import TorchDataset


class ImageLoaders:
    """What ``LabelledImages.arrays()``, ``batches()``, ``to_torch()`` and ``to_tf()`` give."""

    def __init__(self, split: LabelledImages):
        self.split = split

    def arrays(self, **options: Any) -> tuple[np.ndarray, np.ndarray]:
        """The whole split (options of ``datamaestro.loaders.arrays.arrays``)."""
        split = self.split
        return arrays(split.images.data(), split.labels.data(), categories=split.categories, **options)

    def batches(self, *args: Any, epoch: Optional[int] = None, **options: Any) -> Batches:
        """The next pass of ``batches()`` on this split (or pass ``epoch``)."""
        return self.one_pass(counted_epoch(self.split, epoch), *args, **options)

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, **options: Any,
    ) -> Batches:
        """Pass ``epoch`` of the split's minibatches."""
        split = self.split
        return Batches(
            split.images.data(), split.labels.data(), batch_size=batch_size, shuffle=shuffle, seed=seed,
            epoch=epoch, drop_last=drop_last, categories=split.categories, buffers=recycled(split), **options,
        )

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of the split (``datamaestro.loaders.torch.TorchDataset``)."""
        return TorchDataset(self.split, **options)

    def to_tf(self, **options: Any) -> Any:
        """A ``tf.data.Dataset`` of the split (``datamaestro.loaders.tf.dataset``)."""
        return dataset(self.split, **options)


register(LabelledImages, ImageLoaders)
