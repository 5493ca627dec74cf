"""PyTorch adapter: a split as a ``torch.utils.data.Dataset`` of tensors (extra ``datamaestro[torch]``).

``dataset[i]`` is ``(image, label)`` as torchvision's datasets with ``ToTensor``
give it: a float32 (C, H, W) tensor in [0, 1] and an int. ``dataset[indices]``
(a list, array or tensor of indices) gathers a whole batch at once:
``(images, labels)`` with labels int64. ``dataset.loader(...)`` is a
``DataLoader`` fetching whole batches that way, which is far faster than
collating samples one by one. Tensors share memory with the converted numpy
batch (``torch.from_numpy``, no copy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from datamaestro.loaders.arrays import Size
from datamaestro.optional import require

if TYPE_CHECKING:
    import torch as torch_module

_CLASS: Any = None


def import_torch() -> Any:
    """The ``torch`` module, or a one-line error saying which extra to install."""
    return require("torch", "PyTorch datasets (to_torch)", "torch", "torch")


def TorchDataset(
    split: Any,
    *,
    normalize: bool = True,
    layout: Optional[str] = "NCHW",
    resize: Optional[Size] = None,
    interpolation: str = "bilinear",
    one_hot: bool = False,
) -> torch_module.utils.data.Dataset:
    """A ``torch.utils.data.Dataset`` over a labelled split (anything with
    ``images.data()``, ``labels.data()`` and ``categories``)."""
    from datamaestro.loaders.batches import Converter

    images, labels = split.images.data(), split.labels.data()
    converter = Converter(
        images,
        labels,
        normalize=normalize,
        layout=layout,
        resize=resize,
        interpolation=interpolation,
        one_hot=one_hot,
        categories=split.categories,
    )
    return _dataset_class()(images, labels, converter, split.categories)


def _rebuild(*args: Any) -> Any:
    """An ``ArrayDataset`` again, after pickling (DataLoader workers started by spawn)."""
    return _dataset_class()(*args)


def _dataset_class() -> type:
    global _CLASS
    if _CLASS is None:
        torch = import_torch()

        class ArrayDataset(torch.utils.data.Dataset):  # type: ignore[name-defined]
            """Images and labels of a split, converted to tensors batch by batch."""

            def __init__(self, images: np.ndarray, labels: np.ndarray, converter: Any, categories: Any):
                self.images = np.asarray(images)
                self.labels = np.asarray(labels)
                self.convert = converter
                self.categories = categories

            def __len__(self) -> int:
                return int(self.images.shape[0])

            def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
                # The class is made at run time; rebuild it by name in other processes.
                return _rebuild, (self.images, self.labels, self.convert, self.categories)

            def __getitem__(self, index: Any) -> tuple[Any, Any]:
                if isinstance(index, (int, np.integer)):
                    n = len(self)
                    if not -n <= index < n:
                        raise IndexError(f"index {index} is out of range for {n} images")
                    one = np.array([index], dtype=np.intp)
                    x, y = self.convert(self.images[one], self.labels[one])
                    label = torch.from_numpy(y[0]) if y.ndim == 2 else int(y[0])
                    return torch.from_numpy(x[0]), label
                if isinstance(index, torch.Tensor):
                    index = index.numpy()
                where = np.asarray(index, dtype=np.intp)
                x, y = self.convert(self.images[where], self.labels[where])
                if y.ndim == 1:
                    y = y.astype(np.int64)
                return torch.from_numpy(x), torch.from_numpy(y)

            def loader(
                self,
                batch_size: int = 64,
                shuffle: bool = True,
                seed: Optional[int] = None,
                drop_last: bool = False,
                rank: Optional[int] = None,
                world_size: Optional[int] = None,
                **options: Any,
            ) -> Any:
                """A ``DataLoader`` of ``(images, labels)`` batches, gathered whole
                (``options`` go to ``DataLoader``: ``num_workers``, ``pin_memory``...).
                With a seed, passes are reproducible and each pass reshuffles.
                ``rank``/``world_size`` (default: RANK/WORLD_SIZE): this rank's share
                of each pass, as with ``DistributedSampler`` (seed 0 unless given)."""
                from datamaestro.loaders.sharding import ShardBatchSampler, resolve

                data = torch.utils.data
                rank, world_size = resolve(rank, world_size)
                if world_size > 1:
                    shares = ShardBatchSampler(len(self), batch_size, shuffle, seed, drop_last, rank, world_size)
                    return data.DataLoader(self, sampler=shares, batch_size=None, **options)
                if shuffle:
                    generator = None if seed is None else torch.Generator().manual_seed(seed)
                    sampler: Any = data.RandomSampler(self, generator=generator)
                else:
                    sampler = data.SequentialSampler(self)
                batches = data.BatchSampler(sampler, batch_size=batch_size, drop_last=drop_last)
                return data.DataLoader(self, sampler=batches, batch_size=None, **options)

        _CLASS = ArrayDataset
    return _CLASS
