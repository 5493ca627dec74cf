"""Text pairs stored for fast access (one UTF-8 file of all texts, their byte offsets, their labels),
and their loaders.

A split ``<split>`` is ``<split>_pairs.txt`` (first and second text of each
pair in turn, UTF-8, nothing between them), ``<split>_pair_offsets.npy``
(int64, 2N + 1 byte offsets) and ``<split>_pair_labels.npy`` (int64, -1 for
no gold label). Written at prepare time, read memory-mapped.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Optional

import numpy as np

from datamaestro.data.base import from_json_value
from datamaestro.data.loading import register
from datamaestro.data.npy import NPY
from datamaestro.data.pairs import PairBatch, TextPairs
from datamaestro.loaders.passes import IndexBatches, counted_epoch
from datamaestro.loaders.tf import CHUNK, import_tf
from datamaestro.loaders.torch import batch_loader, import_torch


def pair_files(folder: Path, split: str) -> tuple[Path, Path, Path]:
    """The texts, offsets and labels files of ``split`` in ``folder``."""
    return folder / f"{split}_pairs.txt", folder / f"{split}_pair_offsets.npy", folder / f"{split}_pair_labels.npy"


def write_pairs(folder: Path, split: str, items: Iterable[tuple[str, str, int]]) -> int:
    """Write the (first, second, label) triples of ``split`` into ``folder``; returns their number."""
    texts, offsets_file, labels_file = pair_files(folder, split)
    offsets = [0]
    labels = []
    with open(texts, "wb") as out:
        for first, second, label in items:
            for text in (first, second):
                data = text.encode("utf-8")
                out.write(data)
                offsets.append(offsets[-1] + len(data))
            labels.append(label)
    np.save(offsets_file, np.array(offsets, dtype=np.int64))
    np.save(labels_file, np.array(labels, dtype=np.int64))
    return len(labels)


def pairs_split(folder: Path, split: str) -> TextPairs:
    """The ``TextPairs`` that ``write_pairs`` wrote for ``split`` in ``folder``."""
    texts, offsets, labels = pair_files(folder, split)
    return TextPairs(texts=texts, offsets=NPY(path=offsets), labels=NPY(path=labels))


class PairLoaders:
    """What ``TextPairs.arrays()``, ``batches()``, ``to_torch()`` and ``to_tf()`` give."""

    def __init__(self, split: TextPairs):
        self.split = split

    def arrays(self) -> PairBatch:
        """``(firsts, seconds, labels)`` of the whole split."""
        return self.split.pairs_at(slice(None))

    def batches(self, *args: Any, epoch: Optional[int] = None, **options: Any) -> IndexBatches[PairBatch]:
        """The next pass of ``batches()`` on this split (or pass ``epoch``)."""
        return self.one_pass(counted_epoch(self.split, epoch), *args, **options)

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, *, rank: Optional[int] = None, world_size: Optional[int] = None,
        distributed: bool = False,
    ) -> IndexBatches[PairBatch]:
        """Pass ``epoch`` of the split's minibatches."""
        return IndexBatches(
            len(self.split), self.split.pairs_at, batch_size=batch_size, shuffle=shuffle, seed=seed,
            epoch=epoch, drop_last=drop_last, rank=rank, world_size=world_size, distributed=distributed,
        )

    def to_torch(self) -> Any:
        """A ``torch.utils.data.Dataset`` of the split's pairs."""
        return pair_dataset_class()(self.split)

    def to_tf(
        self, *, batch_size: Optional[int] = None, shuffle: bool = False, seed: Optional[int] = None,
        drop_last: bool = False,
    ) -> Any:
        """A ``tf.data.Dataset`` of ``((first, second), label)``, or of batches when ``batch_size`` is
        given; each pass reshuffles (with a seed, pass k uses epoch k, as ``batches()`` does)."""
        tf = import_tf()
        passes = itertools.count()

        def generate() -> Iterator[tuple[tuple[Any, Any], Any]]:
            drop = drop_last and batch_size is not None
            for firsts, seconds, labels in self.one_pass(next(passes), batch_size or CHUNK, shuffle, seed, drop):
                yield (np.array(firsts, dtype=object), np.array(seconds, dtype=object)), labels

        text = tf.TensorSpec(shape=(None,), dtype=tf.string)
        signature = ((text, text), tf.TensorSpec(shape=(None,), dtype=tf.int64))
        data = tf.data.Dataset.from_generator(generate, output_signature=signature)
        return data if batch_size else data.unbatch()


def rebuild(description: dict[str, Any]) -> Any:
    """A pair dataset again, after pickling (DataLoader workers started by spawn)."""
    return pair_dataset_class()(from_json_value(description))


@functools.cache
def pair_dataset_class() -> type:
    """``PairDataset``, a ``torch.utils.data.Dataset`` of the pairs of a split."""
    torch = import_torch()

    class PairDataset(torch.utils.data.Dataset):  # type: ignore[name-defined]
        """``dataset[i]``: ``(first, second, label)``; ``dataset[indices]``: ``(firsts, seconds, labels)``
        with labels an int64 tensor (-1: no gold label)."""

        def __init__(self, split: TextPairs):
            self.split = split
            self.categories = split.categories

        def __len__(self) -> int:
            return len(self.split)

        def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
            # The class is made at run time (and the split holds a memory map): rebuild it from its description.
            return rebuild, (self.split.to_json(),)

        def __getitem__(self, index: Any) -> tuple[Any, Any, Any]:
            if isinstance(index, (int, np.integer)):
                if not -len(self) <= index < len(self):
                    raise IndexError(f"index {index} is out of range for {len(self)} pairs")
                return self.split.pair(int(index))
            if isinstance(index, torch.Tensor):
                index = index.numpy()
            firsts, seconds, labels = self.split.pairs_at(np.asarray(index, dtype=np.intp))
            return firsts, seconds, torch.from_numpy(labels)

        loader = batch_loader

    return PairDataset


register(TextPairs, PairLoaders)
