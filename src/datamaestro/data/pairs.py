"""Text pairs: a first and a second sentence with one integer label (natural language
inference, paraphrase).

The loaders (``arrays``, ``batches``, ``to_torch``, ``to_tf``) are those
``datamaestro.loaders.pairs`` registers for ``TextPairs``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from datamaestro.data.base import Base
from datamaestro.data.loading import Pass, loaders_for
from datamaestro.data.ml import NamedClasses, Supervised, label_counts, share_categories
from datamaestro.data.tensor import Tensor
from datamaestro.data.text import blob

if TYPE_CHECKING:  # (numpy is imported when data is read, not to describe it)
    import numpy as np

#: a batch of pairs: the first sentences, the second sentences, their labels (int64, -1: no gold label)
PairBatch = tuple[list[str], list[str], "np.ndarray"]

#: the label of a pair without a gold label (SNLI's and MultiNLI's ``-``)
NO_LABEL = -1


class TextPairs(Base, NamedClasses):
    """Pairs of texts (premise and hypothesis, or two sentences) with one integer label each.

    ``texts`` holds every text, UTF-8, one after the other: the first text of
    pair ``i``, then its second. ``offsets`` (2N + 1 int64) says where each
    starts: pair ``i`` is bytes ``offsets[2i]:offsets[2i+1]`` and
    ``offsets[2i+1]:offsets[2i+2]``. ``labels`` are int64, ``-1`` where the pair
    has no gold label; ``categories[k]`` names label ``k``
    (``datamaestro.loaders.pairs.write_pairs`` writes the three).
    """

    texts: Path
    offsets: Tensor
    labels: Tensor
    categories: Optional[list[str]] = None

    def __len__(self) -> int:
        return (int(self.offsets.data().shape[0]) - 1) // 2

    def pair(self, i: int) -> tuple[str, str, int]:
        """Pair ``i``: its first text, its second text and its label."""
        firsts, seconds, labels = self.pairs_at([i])
        return firsts[0], seconds[0], int(labels[0])

    def pairs_at(self, indices: Any) -> PairBatch:
        """The pairs at ``indices`` (a position, a slice, or a sequence of positions)."""
        import numpy as np  # (only here: describing data does not need numpy)

        offsets = self.offsets.data()
        positions = np.atleast_1d(np.arange(len(self))[indices])
        data = self.__dict__.get("_blob")
        if data is None:
            data = self.__dict__["_blob"] = blob(self.texts)
        bounds = offsets[np.stack([2 * positions, 2 * positions + 1, 2 * positions + 2], axis=1)].tolist()
        firsts = [bytes(data[a:b]).decode("utf-8") for a, b, _ in bounds]
        seconds = [bytes(data[b:c]).decode("utf-8") for _, b, c in bounds]
        return firsts, seconds, np.asarray(self.labels.data()[positions], dtype=np.int64)

    def arrays(self) -> PairBatch:
        """``(firsts, seconds, labels)`` of the whole split."""
        return loaders_for(self).arrays()

    def batches(
        self,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: Optional[int] = None,
        drop_last: bool = False,
        *,
        epoch: Optional[int] = None,
        rank: Optional[int] = None,
        world_size: Optional[int] = None,
        distributed: bool = False,
    ) -> Pass[PairBatch]:
        """An iterator of ``(firsts, seconds, labels)`` minibatches (two lists of strings, an int64
        array) over one pass; shuffling, seeds, epochs and ranks as ``LabelledImages.batches``."""
        return loaders_for(self).batches(
            batch_size, shuffle, seed, drop_last, epoch=epoch, rank=rank, world_size=world_size,
            distributed=distributed,
        )

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, **options: Any,
    ) -> Pass[PairBatch]:
        """Pass ``epoch`` of ``batches()`` (options as there), not counted as one of its calls."""
        return loaders_for(self).one_pass(epoch, batch_size, shuffle, seed, drop_last, **options)

    def to_torch(self) -> Any:
        """A ``torch.utils.data.Dataset`` of ``(first, second, label)`` (needs ``datamaestro[torch]``);
        ``dataset[indices]`` gathers a whole batch, ``dataset.loader(...)`` is a ``DataLoader`` of them."""
        return loaders_for(self).to_torch()

    def to_tf(self, **options: Any) -> Any:
        """A ``tf.data.Dataset`` of ``((first, second), label)``: UTF-8 strings and int64 labels (needs
        ``datamaestro[tf]``); ``options``: ``batch_size``, ``shuffle``, ``seed``, ``drop_last``."""
        return loaders_for(self).to_tf(**options)

    def stats(self, categories: Optional[list[str]] = None) -> dict[str, Any]:
        """What ``info`` says of the split: its count, its count per class, and how many have no label."""
        import numpy as np  # (only here: describing data does not need numpy)

        labels = np.asarray(self.labels.data(), dtype=np.int64)
        return {
            "count": int(labels.shape[0]),
            "labels": label_counts(labels, self.categories or categories),
            "unlabelled": int((labels < 0).sum()),
        }


class TextPairClassification(Supervised):
    """Text pair splits (``TextPairs``): train, validation, test, and for MultiNLI a second,
    mismatched validation split; ``categories[k]`` names label ``k``."""

    validation_mismatched: Optional[Base] = None
    categories: Optional[list[str]] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        share_categories(self, self.categories, TextPairs)

    def splits(self) -> dict[str, Base]:
        """The splits that are present, by name."""
        found = super().splits()
        if self.validation_mismatched is not None:
            found["validation_mismatched"] = self.validation_mismatched
        return found
