"""Image datasets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datamaestro.data.base import Base
from datamaestro.data.ml import NamedClasses, Supervised
from datamaestro.data.tensor import Tensor

if TYPE_CHECKING:
    from typing import Any, Optional

    import numpy as np

    from datamaestro.loaders.batches import Batches


class LabelledImages(Base, NamedClasses):
    """Images with one integer label each (``images[i]`` has ``labels[i]``)."""

    images: Tensor
    labels: Tensor
    categories: Optional[list[str]] = None

    # Loaders (datamaestro.loaders, docs/loaders.md): numpy only; adapters import
    # their framework when called.

    def arrays(
        self,
        normalize: bool = False,
        flatten: bool = False,
        one_hot: bool = False,
        layout: Optional[str] = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(images, labels)`` of the whole split: memory-mapped unless converted.

        ``normalize``: float32 in [0, 1]; ``flatten``: (N, H*W*C); ``one_hot``:
        (N, classes) float32 labels; ``layout``: "NCHW" or "NHWC" adds or moves
        the channel axis (None keeps the stored layout).
        """
        from datamaestro.loaders.arrays import arrays

        return arrays(
            self.images.data(),
            self.labels.data(),
            normalize=normalize,
            flatten=flatten,
            one_hot=one_hot,
            layout=layout,
            categories=self.categories,
        )

    def batches(
        self,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: Optional[int] = None,
        drop_last: bool = False,
        normalize: bool = True,
        resize: Optional[int | tuple[int, int]] = None,
        *,
        layout: Optional[str] = None,
        flatten: bool = False,
        one_hot: bool = False,
        interpolation: str = "bilinear",
        epoch: Optional[int] = None,
        rank: Optional[int] = None,
        world_size: Optional[int] = None,
    ) -> Batches:
        """An iterator of ``(images, labels)`` numpy minibatches over one pass.

        With a seed, the k-th call on this object (k = 0, 1, ...) shuffles with
        ``np.random.default_rng([seed, k])``, so every call reshuffles and a
        run is reproducible; ``epoch=`` sets k explicitly. ``resize=(32, 32)``
        (or an int for the shorter edge) resizes each batch, bilinear by default.
        ``rank``/``world_size`` (default: RANK/WORLD_SIZE) give this rank's equal
        share of the pass, as PyTorch's DistributedSampler (``drop_last`` drops
        the uneven tail instead of padding).
        """
        from datamaestro.loaders.passes import counted_epoch

        return self.one_pass(
            counted_epoch(self, epoch), batch_size, shuffle, seed, drop_last, normalize=normalize, resize=resize,
            interpolation=interpolation, layout=layout, flatten=flatten, one_hot=one_hot, rank=rank,
            world_size=world_size,
        )

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, **options: Any,
    ) -> Batches:
        """Pass ``epoch`` of ``batches()`` (``options`` as there), not counted as one of its calls."""
        from datamaestro.loaders.batches import Batches

        return Batches(
            self.images.data(), self.labels.data(), batch_size=batch_size, shuffle=shuffle, seed=seed,
            epoch=epoch, drop_last=drop_last, categories=self.categories, **options,
        )

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of tensors, with a ``loader()`` helper
        giving a ``DataLoader`` (needs ``datamaestro[torch]``); ``options``
        (normalize, layout, resize, one_hot) go to ``datamaestro.loaders.torch.TorchDataset``."""
        from datamaestro.loaders.torch import TorchDataset

        return TorchDataset(self, **options)

    def to_tf(self, **options: Any) -> Any:
        """A ``tf.data.Dataset`` of ``(image, label)`` (needs ``datamaestro[tf]``), channels
        last unless ``layout`` says otherwise; ``options`` go to ``datamaestro.loaders.tf.dataset``."""
        from datamaestro.loaders.tf import dataset

        return dataset(self, **options)


class ImageClassification(Supervised):
    """Image classification splits; ``categories[k]`` names label ``k``."""

    categories: Optional[list[str]] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        # Each split carries the class names too, so it is usable on its own.
        if self.categories is not None:
            for split in self.splits().values():
                if isinstance(split, LabelledImages) and split.categories is None:
                    split.categories = list(self.categories)
