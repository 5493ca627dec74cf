"""Text classification: texts with one integer label each.

The loaders (``arrays``, ``batches``, ``to_tf``) are those
``datamaestro.loaders.text`` registers for ``LabelledTexts``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from datamaestro.data.base import Base
from datamaestro.data.loading import Pass, loaders_for
from datamaestro.data.ml import NamedClasses, Supervised, label_counts, share_categories
from datamaestro.data.tensor import Tensor
from datamaestro.errors import FormatError

if TYPE_CHECKING:  # (numpy is imported when data is read, not to describe it)
    import numpy as np

TextBatch = tuple[list[str], "np.ndarray"]


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
        import numpy as np  # (only here: describing data does not need numpy)

        offsets = self.offsets.data()
        positions = np.atleast_1d(np.arange(len(offsets) - 1)[indices])
        data = self.__dict__.get("_blob")
        if data is None:
            data = self.__dict__["_blob"] = blob(self.texts)
        starts, ends = offsets[positions], offsets[positions + 1]
        return [bytes(data[s:e]).decode("utf-8") for s, e in zip(starts.tolist(), ends.tolist())]

    def stats(self, categories: Optional[list[str]] = None) -> dict[str, Any]:
        """What ``info`` says of the split: its count, its count per class, and how many have no label."""
        import numpy as np  # (only here: describing data does not need numpy)

        labels = np.asarray(self.labels.data(), dtype=np.int64)
        return {
            "count": len(self),
            "labels": label_counts(labels, self.categories or categories),
            "unlabelled": int((labels < 0).sum()),
        }

    def arrays(self, one_hot: bool = False) -> TextBatch:
        """``(texts, labels)`` of the whole split; ``one_hot`` gives (N, classes) float32 labels."""
        return loaders_for(self).arrays(one_hot=one_hot)

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
        distributed: bool = False,
    ) -> Pass[TextBatch]:
        """An iterator of ``(texts, labels)`` minibatches (a list of strings, an int64
        array) over one pass; shuffling, seeds, epochs and ranks as ``LabelledImages.batches``."""
        return loaders_for(self).batches(
            batch_size, shuffle, seed, drop_last, one_hot=one_hot, epoch=epoch, rank=rank, world_size=world_size,
            distributed=distributed,
        )

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, **options: Any,
    ) -> Pass[TextBatch]:
        """Pass ``epoch`` of ``batches()`` (options as there), not counted as one of its calls."""
        return loaders_for(self).one_pass(epoch, batch_size, shuffle, seed, drop_last, **options)

    def to_tf(self, **options: Any) -> Any:
        """A ``tf.data.Dataset`` of ``(text, label)``: UTF-8 strings and int64 labels (needs
        ``datamaestro[tf]``); ``options`` go to ``datamaestro.loaders.tf.dataset``."""
        return loaders_for(self).to_tf(**options)


def blob(path: Path) -> np.ndarray:
    """The bytes of a texts file, memory-mapped (an empty array for an empty file)."""
    import numpy as np  # (only here: describing data does not need numpy)

    try:
        if path.stat().st_size == 0:
            return np.zeros(0, dtype=np.uint8)
        return np.memmap(path, dtype=np.uint8, mode="r")
    except OSError as e:
        raise FormatError(f"{path}: cannot read the texts ({e.strerror}); prepare the dataset again") from None


class TextClassification(Supervised):
    """Text classification splits (``LabelledTexts``); ``categories[k]`` names label ``k``."""

    categories: Optional[list[str]] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        share_categories(self, self.categories, LabelledTexts)
