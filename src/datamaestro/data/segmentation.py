"""Semantic segmentation: images under a root, each with a mask of class indexes, read from an index.

A ``Segmentation`` split is the index that a definition wrote at prepare time
(``datamaestro.formats.objects_index.write_segmentation_index``): image and
mask paths relative to ``root``, the image sizes, and the classes present in
each mask with their pixel counts. Masks are palette PNGs (VOC), grey images,
or colour images read by ``colours``; pixels of ``ignore_index`` (VOC: 255,
the object borders) belong to no class. The reading calls are those
``datamaestro.loaders.segmentation`` registers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from datamaestro.data.base import Base
from datamaestro.data.loading import Normalize, Pass, loaders_for
from datamaestro.data.ml import NamedClasses, Supervised, share_categories

if TYPE_CHECKING:  # (numpy is imported when data is read, not to describe it)
    import numpy as np

    from datamaestro.formats.annotations import AnnotatedDataset


class SegmentationBatch(NamedTuple):
    """A minibatch of semantic segmentation: images and their class masks, of one size."""

    #: (N, H, W, 3) uint8, or float32 when normalised (NCHW with ``layout="NCHW"``)
    images: np.ndarray
    #: (N, H, W) int64 class indexes (``ignore_index`` where no class)
    masks: np.ndarray


class Segmentation(Base, NamedClasses):
    """The images of one split under ``root`` with their class masks, from the index files
    ``<split>_*`` in the folder ``index``; ``categories[k]`` names class ``k``, drawn in
    ``colours[k]``; mask pixels of ``ignore_index`` belong to no class."""

    root: Path
    index: Path
    split: str
    categories: Optional[list[str]] = None
    colours: Optional[list[list[int]]] = None
    ignore_index: Optional[int] = None

    @classmethod
    def from_index(
        cls, root: Path, index: Path, split: str, categories: Optional[list[str]] = None,
        colours: Optional[list[list[int]]] = None, ignore_index: Optional[int] = None,
    ) -> Segmentation:
        """The split ``split`` of the images under ``root``, indexed in the folder ``index``."""
        return cls(root=root, index=index, split=split, categories=categories, colours=colours, ignore_index=ignore_index)

    def __len__(self) -> int:
        return int(loaders_for(self).count())

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` decoded: (H, W, 3) uint8."""
        return loaders_for(self).image(i)

    def image_size(self, i: int) -> tuple[int, int]:
        """The (height, width) of image ``i``, from the index (nothing is decoded)."""
        return loaders_for(self).image_size(i)

    def mask(self, i: int) -> np.ndarray:
        """The class mask of image ``i``: (H, W) uint8 class indexes."""
        return loaders_for(self).mask(i)

    def batches(
        self,
        batch_size: int = 16,
        shuffle: bool = True,
        seed: Optional[int] = None,
        drop_last: bool = False,
        normalize: Normalize = True,
        resize: Optional[tuple[int, int]] = None,
        *,
        layout: Optional[str] = None,
        interpolation: str = "bilinear",
        epoch: Optional[int] = None,
        workers: Optional[int] = None,
        rank: Optional[int] = None,
        world_size: Optional[int] = None,
        distributed: bool = False,
        max_pixels: Optional[int] = None,
    ) -> Pass[SegmentationBatch]:
        """An iterator of ``SegmentationBatch``es over one pass, decoded batch by batch.

        ``resize=(height, width)`` resizes images (``interpolation``, bilinear by
        default) and masks (always nearest, so that they keep class indexes)
        together; options otherwise as ``ImageFolder.batches``.
        """
        return loaders_for(self).batches(
            batch_size, shuffle, seed, drop_last, normalize=normalize, resize=resize, layout=layout,
            interpolation=interpolation, epoch=epoch, workers=workers, rank=rank, world_size=world_size,
            distributed=distributed, max_pixels=max_pixels,
        )

    def one_pass(
        self, epoch: int, batch_size: int = 16, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, **options: Any,
    ) -> Pass[SegmentationBatch]:
        """Pass ``epoch`` of ``batches()`` (``options`` as there), not counted as one of its calls."""
        return loaders_for(self).one_pass(epoch, batch_size, shuffle, seed, drop_last, **options)

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of ``(image, mask)``: a float32 (3, H, W) tensor and an
        int64 (H, W) tensor, with ``loader()`` (needs ``datamaestro[torch]``); ``options`` go to
        ``datamaestro.loaders.segmentation.torch_dataset``."""
        return loaders_for(self).to_torch(**options)

    def stats(self, categories: Optional[list[str]] = None) -> dict[str, Any]:
        """What ``info`` says of the split: images, images and pixels per class."""
        return loaders_for(self).stats(categories or self.categories)

    def positions_with(self, label: int) -> np.ndarray:
        """The positions of the images whose mask has class ``label``."""
        return loaders_for(self).positions_with(label)

    def export_dataset(self) -> AnnotatedDataset:
        """This split alone as an annotated dataset (its subset is ``default``), for ``export``."""
        return loaders_for(self).export_dataset()


class SemanticSegmentation(Supervised):
    """Semantic segmentation splits (``Segmentation``) with their class names and colours."""

    categories: Optional[list[str]] = None
    colours: Optional[list[list[int]]] = None
    ignore_index: Optional[int] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        share_categories(self, self.categories, Segmentation)
        for split in self.splits().values():
            if isinstance(split, Segmentation):
                split.colours = split.colours or (None if self.colours is None else [list(c) for c in self.colours])
                split.ignore_index = split.ignore_index if split.ignore_index is not None else self.ignore_index

    def export_dataset(self) -> AnnotatedDataset:
        """The splits as an annotated dataset (for ``export``/``convert``)."""
        return loaders_for(self).export_dataset()
