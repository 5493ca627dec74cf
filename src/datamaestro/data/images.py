"""Image datasets: labelled images stored as arrays, and their classification splits.

The loaders (``arrays``, ``batches``, ``to_torch``, ``to_tf``; docs/loaders.md)
are those ``datamaestro.loaders.images`` registers for ``LabelledImages``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from datamaestro.data.base import Base
from datamaestro.data.loading import Normalize, Pass, Transform, loaders_for
from datamaestro.data.ml import NamedClasses, Supervised, share_categories
from datamaestro.data.tensor import Tensor

if TYPE_CHECKING:  # (numpy is imported when data is read, not to describe it)
    import numpy as np

Batch = tuple["np.ndarray", "np.ndarray"]


class LabelledImages(Base, NamedClasses):
    """Images with one integer label each (``images[i]`` has ``labels[i]``)."""

    images: Tensor
    labels: Tensor
    categories: Optional[list[str]] = None

    def arrays(
        self,
        normalize: Normalize = False,
        flatten: bool = False,
        one_hot: bool = False,
        layout: Optional[str] = None,
    ) -> Batch:
        """``(images, labels)`` of the whole split: memory-mapped unless converted.

        ``normalize``: float32 in [0, 1] (``(mean, std)``: then standardised per
        channel, as ``ToTensor`` and ``Normalize``); ``flatten``: (N, H*W*C); ``one_hot``:
        (N, classes) float32 labels; ``layout``: "NCHW" or "NHWC" adds or moves
        the channel axis (None keeps the stored layout).
        """
        return loaders_for(self).arrays(normalize=normalize, flatten=flatten, one_hot=one_hot, layout=layout)

    def batches(
        self,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: Optional[int] = None,
        drop_last: bool = False,
        normalize: Normalize = True,
        resize: Optional[int | tuple[int, int]] = None,
        *,
        layout: Optional[str] = None,
        flatten: bool = False,
        one_hot: bool = False,
        interpolation: str = "bilinear",
        epoch: Optional[int] = None,
        rank: Optional[int] = None,
        world_size: Optional[int] = None,
        distributed: bool = False,
        transform: Optional[Transform] = None,
    ) -> Pass[Batch]:
        """An iterator of ``(images, labels)`` numpy minibatches over one pass.

        With a seed, the k-th call on this object (k = 0, 1, ...) shuffles with
        ``np.random.default_rng([seed, k])``, so every call reshuffles and a
        run is reproducible; ``epoch=`` sets k explicitly. ``resize=(32, 32)``
        (or an int for the shorter edge) resizes each batch, bilinear by default;
        ``normalize=(mean, std)`` standardises each channel after scaling to [0, 1];
        ``transform`` is called on each batch of images and gives the batch.
        ``rank``/``world_size``, or ``distributed=True`` (RANK/WORLD_SIZE, as
        torchrun sets them), give this rank's equal share of the pass, as
        PyTorch's DistributedSampler (``drop_last`` drops the uneven tail
        instead of padding); without them, the whole pass.
        """
        return loaders_for(self).batches(
            batch_size, shuffle, seed, drop_last, normalize=normalize, resize=resize, layout=layout,
            flatten=flatten, one_hot=one_hot, interpolation=interpolation, epoch=epoch, rank=rank,
            world_size=world_size, distributed=distributed, transform=transform,
        )

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, **options: Any,
    ) -> Pass[Batch]:
        """Pass ``epoch`` of ``batches()`` (``options`` as there), not counted as one of its calls."""
        return loaders_for(self).one_pass(epoch, batch_size, shuffle, seed, drop_last, **options)

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of tensors, with a ``loader()`` helper
        giving a ``DataLoader`` (needs ``datamaestro[torch]``); ``options``
        (normalize, layout, resize, one_hot) go to ``datamaestro.loaders.torch.TorchDataset``."""
        return loaders_for(self).to_torch(**options)

    def to_tf(self, **options: Any) -> Any:
        """A ``tf.data.Dataset`` of ``(image, label)`` (needs ``datamaestro[tf]``), channels
        last unless ``layout`` says otherwise; ``options`` go to ``datamaestro.loaders.tf.dataset``."""
        return loaders_for(self).to_tf(**options)


class ImageClassification(Supervised):
    """Image classification splits; ``categories[k]`` names label ``k``.

    ``descriptions[k]``, when the categories are codes (ImageNet's WordNet ids),
    says what class ``k`` is in words ("tench, Tinca tinca").
    """

    categories: Optional[list[str]] = None
    descriptions: Optional[list[str]] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        share_categories(self, self.categories, LabelledImages)
