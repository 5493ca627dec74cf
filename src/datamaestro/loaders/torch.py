"""PyTorch adapter: a split as a ``torch.utils.data.Dataset`` of tensors (extra ``datamaestro[torch]``).

``dataset[i]`` is ``(image, label)`` as torchvision's datasets with ``ToTensor``
give it: a float32 (C, H, W) tensor in [0, 1] and an int. ``dataset[indices]``
(a list, array or tensor of indices) gathers a whole batch at once:
``(images, labels)`` with labels int64. ``dataset.loader(...)`` is a
``DataLoader`` fetching whole batches that way, which is far faster than
collating samples one by one. Tensors share memory with the converted numpy
batch (``torch.from_numpy``, no copy). torch is imported when a dataset is
first made, so that the class deriving from ``torch.utils.data.Dataset`` is
made then too (``dataset_class``).
"""

from __future__ import annotations

import functools
from typing import Any, Optional

import numpy as np

from datamaestro.data.images import LabelledImages
from datamaestro.data.loading import Normalize, Transform
from datamaestro.loaders.arrays import Size
from datamaestro.loaders.batches import Converter
from datamaestro.loaders.sharding import ShardBatchSampler, resolve
from datamaestro.optional import require


def import_torch() -> Any:
    """The ``torch`` module, or a one-line error saying which extra to install."""
    return require("torch", "PyTorch datasets (to_torch)", "torch", "torch")


def TorchDataset(
    split: LabelledImages,
    *,
    normalize: Normalize = True,
    layout: Optional[str] = "NCHW",
    resize: Optional[Size] = None,
    interpolation: str = "bilinear",
    one_hot: bool = False,
    transform: Optional[Transform] = None,
) -> Any:
    """A ``torch.utils.data.Dataset`` over a labelled split (anything with
    ``images.data()``, ``labels.data()`` and ``categories``). ``transform`` is called
    on each batch of images as a tensor (dataset[i]: a batch of one) and gives the batch."""
    images, labels = split.images.data(), split.labels.data()
    converter = Converter(
        images, labels, normalize=normalize, layout=layout, resize=resize, interpolation=interpolation,
        one_hot=one_hot, categories=split.categories,
    )
    return dataset_class()(images, labels, converter, split.categories, transform)


def rebuild(*args: Any) -> Any:
    """An ``ArrayDataset`` again, after pickling (DataLoader workers started by spawn)."""
    return dataset_class()(*args)


def as_tensors(x: np.ndarray, y: np.ndarray, single: bool, transform: Optional[Transform]) -> tuple[Any, Any]:
    """A converted batch as tensors, images transformed (``single``: its one sample, with an
    int label unless one-hot)."""
    torch = import_torch()
    images = torch.from_numpy(x) if transform is None else transform(torch.from_numpy(x))
    if single:
        return images[0], torch.from_numpy(y[0]) if y.ndim == 2 else int(y[0])
    return images, torch.from_numpy(y.astype(np.int64) if y.ndim == 1 else y)


def batch_loader(
    dataset: Any, batch_size: int = 1, shuffle: bool = False, seed: Optional[int] = None, drop_last: bool = False,
    rank: Optional[int] = None, world_size: Optional[int] = None, distributed: bool = False, **options: Any,
) -> Any:
    """A ``DataLoader`` of ``(images, labels)`` batches of ``dataset``, gathered whole
    (``options`` go to ``DataLoader``: ``num_workers``, ``pin_memory``...).
    ``batch_size``, ``shuffle`` and ``drop_last`` are ``DataLoader``'s, with its defaults
    (1, no shuffling, keep the last batch). With a seed, shuffled passes are reproducible
    and each pass reshuffles. ``rank``/``world_size``, or ``distributed=True`` (RANK and
    WORLD_SIZE): this rank's share of each pass, as with ``DistributedSampler`` (seed 0
    unless given; ``loader.sampler.set_epoch(k)`` picks the pass)."""
    data = import_torch().utils.data
    if distributed or rank is not None or world_size is not None:
        rank, world_size = resolve(rank, world_size, distributed)
        shares = ShardBatchSampler(len(dataset), batch_size, shuffle, seed, drop_last, rank, world_size)
        return data.DataLoader(dataset, sampler=shares, batch_size=None, **options)
    if shuffle:
        generator = None if seed is None else import_torch().Generator().manual_seed(seed)
        sampler: Any = data.RandomSampler(dataset, generator=generator)
    else:
        sampler = data.SequentialSampler(dataset)
    batches = data.BatchSampler(sampler, batch_size=batch_size, drop_last=drop_last)
    return data.DataLoader(dataset, sampler=batches, batch_size=None, **options)


@functools.cache
def dataset_class() -> type:
    """``ArrayDataset``, a ``torch.utils.data.Dataset`` of the converted batches of a split."""
    torch = import_torch()

    class ArrayDataset(torch.utils.data.Dataset):  # type: ignore[name-defined]
        """Images and labels of a split, converted to tensors batch by batch."""

        def __init__(self, images: np.ndarray, labels: np.ndarray, converter: Any, categories: Any, transform: Any):
            self.images = np.asarray(images)
            self.labels = np.asarray(labels)
            self.convert = converter
            self.categories = categories
            self.transform = transform

        def __len__(self) -> int:
            return int(self.images.shape[0])

        def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
            # The class is made at run time; rebuild it by name in other processes.
            return rebuild, (self.images, self.labels, self.convert, self.categories, self.transform)

        def __getitem__(self, index: Any) -> tuple[Any, Any]:
            single = isinstance(index, (int, np.integer))
            if single and not -len(self) <= index < len(self):
                raise IndexError(f"index {index} is out of range for {len(self)} images")
            if isinstance(index, torch.Tensor):
                index = index.numpy()
            where = np.atleast_1d(np.asarray(index, dtype=np.intp))
            x, y = self.convert(self.images[where], self.labels[where])
            return as_tensors(x, y, single, self.transform)

        loader = batch_loader

    return ArrayDataset
