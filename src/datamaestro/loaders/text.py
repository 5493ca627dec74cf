"""Texts stored for fast access (one UTF-8 file of all texts, their byte offsets, their labels), and their loaders.

A split ``<split>`` is ``<split>_texts.txt`` (the texts one after the other,
UTF-8, nothing between them), ``<split>_offsets.npy`` (int64, N + 1 byte
offsets: text ``i`` is bytes ``offsets[i]:offsets[i+1]``) and
``<split>_labels.npy`` (int64). Written at prepare time, read memory-mapped.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

import numpy as np

from datamaestro.data.loading import register
from datamaestro.data.text import LabelledTexts, TextBatch
from datamaestro.loaders.arrays import native, num_classes, one_hot_rows
from datamaestro.loaders.passes import IndexBatches, counted_epoch
from datamaestro.loaders.tf import dataset


def text_files(folder: Path, split: str) -> tuple[Path, Path, Path]:
    """The texts, offsets and labels files of ``split`` in ``folder``."""
    return folder / f"{split}_texts.txt", folder / f"{split}_offsets.npy", folder / f"{split}_labels.npy"


def write_texts(folder: Path, split: str, items: Iterable[tuple[str, int]]) -> int:
    """Write the (text, label) pairs of ``split`` into ``folder``; returns their number."""
    texts, offsets_file, labels_file = text_files(folder, split)
    offsets = [0]
    labels = []
    with open(texts, "wb") as out:
        for text, label in items:
            data = text.encode("utf-8")
            out.write(data)
            offsets.append(offsets[-1] + len(data))
            labels.append(label)
    np.save(offsets_file, np.array(offsets, dtype=np.int64))
    np.save(labels_file, np.array(labels, dtype=np.int64))
    return len(labels)


class TextLoaders:
    """What ``LabelledTexts.arrays()``, ``batches()`` and ``to_tf()`` give."""

    def __init__(self, split: LabelledTexts):
        self.split = split

    def arrays(self, one_hot: bool = False) -> TextBatch:
        """``(texts, labels)`` of the whole split."""
        return self.gather(slice(None), one_hot)

    def batches(self, *args: Any, epoch: Optional[int] = None, **options: Any) -> IndexBatches[TextBatch]:
        """The next pass of ``batches()`` on this split (or pass ``epoch``)."""
        return self.one_pass(counted_epoch(self.split, epoch), *args, **options)

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, *, one_hot: bool = False, rank: Optional[int] = None,
        world_size: Optional[int] = None, distributed: bool = False,
    ) -> IndexBatches[TextBatch]:
        """Pass ``epoch`` of the split's minibatches."""
        return IndexBatches(
            len(self.split), lambda where: self.gather(where, one_hot), batch_size=batch_size, shuffle=shuffle,
            seed=seed, epoch=epoch, drop_last=drop_last, rank=rank, world_size=world_size, distributed=distributed,
        )

    def to_tf(self, **options: Any) -> Any:
        """A ``tf.data.Dataset`` of the split (``datamaestro.loaders.tf.dataset``)."""
        return dataset(self.split, **options)

    def gather(self, where: Any, one_hot: bool) -> TextBatch:
        """The texts and labels at ``where`` (a slice or positions)."""
        all_labels = native(self.split.labels.data())
        labels = np.asarray(all_labels[where], dtype=np.int64)
        if one_hot:
            labels = one_hot_rows(labels, num_classes(all_labels, self.split.categories))
        return self.split.texts_at(where), labels


register(LabelledTexts, TextLoaders)
