"""Text classification: texts with one integer label each."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from datamaestro.data.base import Base
from datamaestro.data.ml import NamedClasses, Supervised, share_categories
from datamaestro.data.tensor import Tensor

if TYPE_CHECKING:
    from typing import Any, Optional

    import numpy as np

    from datamaestro.loaders.passes import IndexBatches


class LabelledTexts(Base, NamedClasses):
    """Texts with one integer label each (``categories[k]`` names label ``k``).

    ``texts`` holds them all, UTF-8, one after the other; ``offsets`` (N + 1
    int64) where each starts; ``labels`` their labels
    (``datamaestro.loaders.text.write_texts`` writes the three).
    """

    texts: Path
    offsets: Tensor
    labels: Tensor
    categories: Optional[list[str]] = None

    def __len__(self) -> int:
        return int(self.offsets.data().shape[0]) - 1

    def text(self, i: int) -> str:
        """Text ``i``."""
        return self.texts_at([i])[0]

    def texts_at(self, indices: Any) -> list[str]:
        """The texts at ``indices`` (a position, a slice, or a sequence of positions)."""
        import numpy as np

        from datamaestro.loaders.text import blob

        offsets = self.offsets.data()
        positions = np.atleast_1d(np.arange(len(offsets) - 1)[indices])
        data = self.__dict__.get("_blob")
        if data is None:
            data = self.__dict__["_blob"] = blob(self.texts)
        starts, ends = offsets[positions], offsets[positions + 1]
        return [bytes(data[s:e]).decode("utf-8") for s, e in zip(starts.tolist(), ends.tolist())]

    def arrays(self, one_hot: bool = False) -> tuple[list[str], np.ndarray]:
        """``(texts, labels)`` of the whole split; ``one_hot`` gives (N, classes) float32 labels."""
        return self._gather(slice(None), one_hot)

    def batches(
        self,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: Optional[int] = None,
        drop_last: bool = False,
        *,
        one_hot: bool = False,
        epoch: Optional[int] = None,
        rank: Optional[int] = None,
        world_size: Optional[int] = None,
    ) -> IndexBatches[tuple[list[str], np.ndarray]]:
        """An iterator of ``(texts, labels)`` minibatches (a list of strings, an int64
        array) over one pass; shuffling, seeds, epochs and ranks as ``LabelledImages.batches``."""
        from datamaestro.loaders.passes import counted_epoch

        return self.one_pass(
            counted_epoch(self, epoch), batch_size, shuffle, seed, drop_last, one_hot=one_hot, rank=rank,
            world_size=world_size,
        )

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, *, one_hot: bool = False, rank: Optional[int] = None,
        world_size: Optional[int] = None,
    ) -> IndexBatches[tuple[list[str], np.ndarray]]:
        """Pass ``epoch`` of ``batches()`` (options as there), not counted as one of its calls."""
        from datamaestro.loaders.passes import IndexBatches

        return IndexBatches(
            len(self), lambda where: self._gather(where, one_hot), batch_size=batch_size, shuffle=shuffle,
            seed=seed, epoch=epoch, drop_last=drop_last, rank=rank, world_size=world_size,
        )

    def to_tf(self, **options: Any) -> Any:
        """A ``tf.data.Dataset`` of ``(text, label)``: UTF-8 strings and int64 labels (needs
        ``datamaestro[tf]``); ``options`` go to ``datamaestro.loaders.tf.dataset``."""
        from datamaestro.loaders.tf import dataset

        return dataset(self, **options)

    def _gather(self, where: Any, one_hot: bool) -> tuple[list[str], np.ndarray]:
        import numpy as np

        from datamaestro.loaders.arrays import native, num_classes, one_hot_rows

        all_labels = native(self.labels.data())
        labels = np.asarray(all_labels[where], dtype=np.int64)
        if one_hot:
            labels = one_hot_rows(labels, num_classes(all_labels, self.categories))
        return self.texts_at(where), labels


class TextClassification(Supervised):
    """Text classification splits (``LabelledTexts``); ``categories[k]`` names label ``k``."""

    categories: Optional[list[str]] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        share_categories(self, self.categories, LabelledTexts)
