"""Datasets of the Hugging Face Hub: labelled images read from Parquet files, and their splits.

A split whose Parquet files hold an image column is a ``HubImages``: the same
loaders as image folders (``arrays``, ``batches(resize=...)``, ``to_torch``,
``images`` for ``show``, ``export_dataset``), decoding the image bytes read
from the Parquet files when they are asked for (``datamaestro.loaders.hub``).
Its labels (the ``ClassLabel`` column) and image sizes are arrays written at
prepare time. Other splits are ``datamaestro.data.table.Table``s.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from datamaestro.data.base import Base
from datamaestro.data.images import Batch
from datamaestro.data.loading import Pass, loaders_for
from datamaestro.data.ml import NamedClasses, Supervised, share_categories
from datamaestro.data.table import Table
from datamaestro.data.tensor import Tensor

if TYPE_CHECKING:  # (numpy is imported when data is read, not to describe it)
    import numpy as np

    from datamaestro.formats.dataset import Dataset, Subset


class HubImages(Base, NamedClasses):
    """Images stored as bytes in the column ``column`` of Parquet ``files``, one integer label each.

    ``labels`` and ``sizes`` ((N, 2) heights and widths) are in the files'
    row order; ``categories[k]`` names label ``k``; ``mode`` is the Pillow mode
    images are decoded to (``"RGB"``: (H, W, 3) uint8, ``"L"``: (H, W)).
    """

    files: list[Path]
    column: str
    labels: Tensor
    sizes: Tensor
    categories: Optional[list[str]] = None
    mode: str = "RGB"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.files = [Path(f) for f in self.files]

    def __len__(self) -> int:
        return int(self.sizes.data().shape[0])

    def sizes_array(self) -> np.ndarray:
        """(N, 2) int32: the height and width of every image."""
        return self.sizes.data()

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` decoded: (H, W, 3) uint8 (RGB) or (H, W) (L)."""
        return loaders_for(self).image(i)

    @property
    def images(self) -> Any:
        """An array-like view of the images (for ``show`` and ``info``): ``shape`` gives the
        most common image size, indexing decodes the chosen images."""
        return loaders_for(self).lazy_images()

    def arrays(self, **options: Any) -> Batch:
        """``(images, labels)`` of the whole split, decoded into memory; options as
        ``ImageFolder.arrays`` (``normalize``, ``resize``, ``layout``, ``flatten``, ``one_hot``,
        ``interpolation``, ``workers``, ``max_pixels``)."""
        return loaders_for(self).arrays(**{"normalize": False, **options})

    def batches(self, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None, **options: Any) -> Pass[Batch]:
        """An iterator of ``(images, labels)`` numpy minibatches over one pass, decoded batch by
        batch; options as ``ImageFolder.batches`` (``resize``, ``normalize``, ``epoch``, ``rank``...)."""
        return loaders_for(self).batches(batch_size, shuffle, seed, **options)

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of ``(image, label)`` tensors with a ``loader()`` helper
        (needs ``datamaestro[torch]``); options as ``ImageFolder.to_torch``."""
        return loaders_for(self).to_torch(**options)

    def export_subset(self) -> Subset:
        """The split as a ``datamaestro.formats`` subset (for ``export``/``convert``)."""
        return loaders_for(self).export_subset()

    def export_dataset(self) -> Dataset:
        """This split alone as a ``datamaestro.formats`` dataset (its subset is ``default``)."""
        return loaders_for(self).export_dataset()


class HubDataset(Supervised):
    """The splits of a Hub dataset (``HubImages`` or ``Table``): ``train``, ``test``,
    ``validation``, and any other split by name in ``others``; ``commit`` is the pinned commit."""

    others: Optional[dict[str, Base]] = None
    categories: Optional[list[str]] = None
    commit: Optional[str] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        share_categories(self, self.categories, HubImages)
        share_categories(self, self.categories, Table)

    def splits(self) -> dict[str, Base]:
        """The splits that are present, by name."""
        return {**super().splits(), **(self.others or {})}

    def export_dataset(self) -> Dataset:
        """The image splits as a ``datamaestro.formats`` dataset (for ``export``/``convert``)."""
        return loaders_for(self).export_dataset()
