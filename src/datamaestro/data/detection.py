"""Object detection: images under a root with boxes, labels and flags per object, read from an index.

An ``ObjectDetection`` split is the index that a definition wrote at prepare
time (``datamaestro.formats.objects_index.write_detection_index``): image paths
relative to ``root``, their sizes, and the objects of each image in flat arrays.
Images are decoded when read; boxes are pixels in corner form ``(x0, y0, x1,
y1)``. The reading calls are those ``datamaestro.loaders.detection`` registers.

``batches()`` gives fixed-shape numpy arrays: the images of a batch share one
size (``resize=(height, width)`` when the images differ), and the objects are
padded to the most objects of an image of the batch: ``boxes`` (N, K, 4),
``labels`` (N, K) with -1 where there is no object, ``counts`` (N,) the number
of objects of each image. ``to_torch()`` gives what torchvision's detection
models take: lists of images of any size and of target dicts.
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


class DetectionBatch(NamedTuple):
    """A minibatch of detection: images, and their objects padded to the most objects of an image."""

    #: (N, H, W, 3) uint8, or float32 when normalised (NCHW with ``layout="NCHW"``)
    images: np.ndarray
    #: (N, K, 4) float32 corner-form boxes in the pixels of the (resized) images; 0 where padded
    boxes: np.ndarray
    #: (N, K) int64, -1 where padded
    labels: np.ndarray
    #: (N,) int64: how many of the K entries of each image are objects
    counts: np.ndarray
    #: (N, K) uint8 flag bits (``datamaestro.formats.objects_index.FLAGS``), 0 where padded
    flags: np.ndarray


class ObjectDetection(Base, NamedClasses):
    """The images of one split under ``root`` with their objects, from the index files
    ``<split>_*`` in the folder ``index``; ``categories[k]`` names label ``k``."""

    root: Path
    index: Path
    split: str
    categories: Optional[list[str]] = None

    @classmethod
    def from_index(cls, root: Path, index: Path, split: str, categories: Optional[list[str]] = None) -> ObjectDetection:
        """The split ``split`` of the images under ``root``, indexed in the folder ``index``."""
        return cls(root=root, index=index, split=split, categories=categories)

    def __len__(self) -> int:
        return int(loaders_for(self).count())

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` decoded: (H, W, 3) uint8."""
        return loaders_for(self).image(i)

    def image_size(self, i: int) -> tuple[int, int]:
        """The (height, width) of image ``i``, from the index (nothing is decoded)."""
        return loaders_for(self).image_size(i)

    def targets(self, i: int) -> dict[str, np.ndarray]:
        """The objects of image ``i``: ``boxes`` (K, 4) float32, ``labels`` (K,) int64, and
        ``difficult``, ``truncated``, ``occluded``, ``crowd`` (K,) bool."""
        return loaders_for(self).targets(i)

    def masks(self, i: int) -> np.ndarray:
        """The instance masks of the objects of image ``i``: (K, H, W) bool (all False for an
        object without a mask)."""
        return loaders_for(self).masks(i)

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
    ) -> Pass[DetectionBatch]:
        """An iterator of ``DetectionBatch``es over one pass, decoded batch by batch.

        ``resize=(height, width)`` resizes every image and scales its boxes alike
        (needed when the images differ in size); ``normalize``, ``layout``,
        shuffling, seeds, epochs and ranks as ``ImageFolder.batches``.
        """
        return loaders_for(self).batches(
            batch_size, shuffle, seed, drop_last, normalize=normalize, resize=resize, layout=layout,
            interpolation=interpolation, epoch=epoch, workers=workers, rank=rank, world_size=world_size,
            distributed=distributed, max_pixels=max_pixels,
        )

    def one_pass(
        self, epoch: int, batch_size: int = 16, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, **options: Any,
    ) -> Pass[DetectionBatch]:
        """Pass ``epoch`` of ``batches()`` (``options`` as there), not counted as one of its calls."""
        return loaders_for(self).one_pass(epoch, batch_size, shuffle, seed, drop_last, **options)

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of ``(image, target)``: a float32 (3, H, W) tensor and
        ``{"boxes": (K, 4) float32, "labels": (K,) int64, ...}``, with ``loader()`` giving lists
        (needs ``datamaestro[torch]``); ``options`` go to ``datamaestro.loaders.detection.torch_dataset``."""
        return loaders_for(self).to_torch(**options)

    def stats(self, categories: Optional[list[str]] = None) -> dict[str, Any]:
        """What ``info`` says of the split: images, objects, objects and images per class."""
        return loaders_for(self).stats(categories or self.categories)

    def positions_with(self, label: int) -> np.ndarray:
        """The positions of the images with an object of class ``label``."""
        return loaders_for(self).positions_with(label)

    def export_dataset(self) -> AnnotatedDataset:
        """This split alone as an annotated dataset (its subset is ``default``), for ``export``."""
        return loaders_for(self).export_dataset()


class Detection(Supervised):
    """Object detection splits (``ObjectDetection``); ``categories[k]`` names label ``k``."""

    categories: Optional[list[str]] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        share_categories(self, self.categories, ObjectDetection)

    def export_dataset(self) -> AnnotatedDataset:
        """The splits as an annotated dataset (for ``export``/``convert``)."""
        return loaders_for(self).export_dataset()
