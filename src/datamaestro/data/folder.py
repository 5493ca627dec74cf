"""Folders of image files (JPEG, PNG...) with one integer label per image, decoded when read.

The same loaders as ``LabelledImages`` (``arrays``, ``batches``, ``to_torch``,
``text_labels``), reading the image files with Pillow (the ``images`` extra):
those ``datamaestro.loaders.folder`` registers. Images may differ in size:
then ``arrays`` and ``batches`` need ``resize=(height, width)``.
``export_dataset()`` gives the in-memory dataset that ``datamaestro.formats``
writes in Datumaro's layouts. ``cached(resize)`` decodes a split once into a
memory-mapped array kept in its dataset's folder (``datamaestro.loaders.cache``;
docs/performance.md).

An index of one split is three files in a folder: ``<split>.txt`` (the image
paths, relative to the image root, one per line, UTF-8), ``<split>_labels.npy``
(int64) and ``<split>_sizes.npy`` ((N, 2) int32 heights and widths), written
at prepare time by ``datamaestro.loaders.folder.write_index``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from datamaestro.data.base import Base
from datamaestro.data.images import Batch, ImageClassification, LabelledImages
from datamaestro.data.loading import Normalize, Pass, Transform, loaders_for
from datamaestro.data.ml import NamedClasses, share_categories
from datamaestro.data.npy import NPY
from datamaestro.data.tensor import Tensor
from datamaestro.errors import FormatError

if TYPE_CHECKING:  # (numpy is imported when data is read, not to describe it)
    import numpy as np

    from datamaestro.formats.dataset import Dataset, Subset


def index_files(folder: Path, split: str) -> tuple[Path, Path, Path]:
    """The paths, labels and sizes files of ``split``'s index in ``folder``."""
    return folder / f"{split}.txt", folder / f"{split}_labels.npy", folder / f"{split}_sizes.npy"


def read_paths(files: Path) -> list[str]:
    """The relative image paths of an index."""
    try:
        return files.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(f"{files}: cannot read the image index ({e}); prepare the dataset again") from None


class ImageFolder(Base, NamedClasses):
    """Image files under ``root`` with one integer label each (``categories[k]`` names label ``k``).

    ``files`` lists the image paths relative to ``root`` (one per line),
    ``labels`` and ``sizes`` ((N, 2) heights and widths) are arrays in the
    same order: together the index written at prepare time. ``mode`` is the
    Pillow mode images are decoded to: ``"RGB"`` gives (H, W, 3) uint8, ``"L"`` (H, W).
    """

    root: Path
    files: Path
    labels: Tensor
    sizes: Tensor
    categories: Optional[list[str]] = None
    mode: str = "RGB"

    @classmethod
    def from_index(
        cls, root: Path, index: Path, split: str, categories: Optional[list[str]] = None, mode: str = "RGB"
    ) -> ImageFolder:
        """The split ``split`` of the images under ``root``, from the index that
        ``datamaestro.loaders.folder.write_index`` wrote into the folder ``index``."""
        files, labels, sizes = index_files(index, split)
        return cls(
            root=root, files=files, labels=NPY(path=labels), sizes=NPY(path=sizes), categories=categories, mode=mode
        )

    def __len__(self) -> int:
        return len(self.paths())

    def paths(self) -> list[Path]:
        """The image files, in label order (read once from the index)."""
        cached = self.__dict__.get("_paths")
        if cached is None:
            cached = [self.root.joinpath(*rel.split("/")) for rel in read_paths(self.files)]
            self.__dict__["_paths"] = cached
        return cached

    def sizes_array(self) -> np.ndarray:
        """(N, 2) int32: the height and width of every image."""
        return self.sizes.data()

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` decoded: (H, W, 3) uint8 (RGB) or (H, W) (L)."""
        return loaders_for(self).image(i)

    @property
    def images(self) -> Any:
        """An array-like view of the images (for ``datamaestro show`` and ``info``): its
        ``shape`` gives the most common image size, indexing decodes the chosen images."""
        return loaders_for(self).lazy_images()

    def arrays(
        self,
        normalize: Normalize = False,
        flatten: bool = False,
        one_hot: bool = False,
        layout: Optional[str] = None,
        resize: Optional[int | tuple[int, int]] = None,
        *,
        interpolation: str = "bilinear",
        workers: Optional[int] = None,
        max_pixels: Optional[int] = None,
        draft: bool = True,
    ) -> Batch:
        """``(images, labels)`` of the whole split, decoded into memory.

        Options as ``LabelledImages.arrays``; the stored layout is NHWC ((N, H, W)
        for grey images). ``resize=(height, width)`` is needed when the images
        differ in size (an int sets the shorter edge, as in ``batches``); images
        are resized by Pillow as they are decoded (bilinear: antialiased when
        shrinking). ``workers``: decoding threads (default: one per core, at most 8).
        An image of more than ``max_pixels`` pixels (default:
        ``datamaestro.formats.images.MAX_PIXELS``) is refused before it is decoded.
        ``draft``: a JPEG at least ``2 * DRAFT_GAP`` (4) times larger than ``resize``
        in both directions is decoded at 1/2, 1/4 or 1/8 of its size first
        (libjpeg's DCT scaling), then resized: faster, pixels within a few levels
        of a full decode (``datamaestro.loaders.decoding``; False: full decode).
        """
        return loaders_for(self).arrays(
            normalize=normalize, resize=resize, interpolation=interpolation, layout=layout, flatten=flatten,
            one_hot=one_hot, workers=workers, max_pixels=max_pixels, draft=draft,
        )

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
        workers: Optional[int] = None,
        rank: Optional[int] = None,
        world_size: Optional[int] = None,
        distributed: bool = False,
        transform: Optional[Transform] = None,
        max_pixels: Optional[int] = None,
        draft: bool = True,
    ) -> Pass[Batch]:
        """An iterator of ``(images, labels)`` numpy minibatches over one pass, each batch
        decoded when it is reached (by ``workers`` threads; ``max_pixels`` and ``draft`` as in ``arrays``).

        Shuffling, seeds, epochs and ranks as ``LabelledImages.batches``: with a
        seed, the k-th call shuffles with ``np.random.default_rng([seed, k])``;
        ``rank``/``world_size`` or ``distributed=True`` give this rank's share.
        """
        return loaders_for(self).batches(
            batch_size, shuffle, seed, drop_last, normalize=normalize, resize=resize, interpolation=interpolation,
            layout=layout, flatten=flatten, one_hot=one_hot, workers=workers, epoch=epoch, rank=rank,
            world_size=world_size, distributed=distributed, transform=transform,
            max_pixels=max_pixels, draft=draft,
        )

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, **options: Any,
    ) -> Pass[Batch]:
        """Pass ``epoch`` of ``batches()`` (``options`` as there), not counted as one of its calls."""
        return loaders_for(self).one_pass(epoch, batch_size, shuffle, seed, drop_last, **options)

    def cached(
        self,
        resize: int | tuple[int, int],
        *,
        interpolation: str = "bilinear",
        draft: bool = True,
        workers: Optional[int] = None,
        max_pixels: Optional[int] = None,
    ) -> LabelledImages:
        """The split decoded once at ``resize`` into a memory-mapped uint8 array kept in its dataset's
        folder, as ``LabelledImages`` (whose ``batches``, ``arrays`` and ``to_torch`` read the array).

        The first call decodes every image (as ``batches(resize=...)`` does:
        the same pixels); later calls, in this process or another, open the
        file. It is recorded in the dataset's manifest: ``datamaestro verify``
        hashes it, ``datamaestro rm`` removes it. A file of the wrong size
        (truncated) is decoded again, never used. Only for a split of a
        prepared dataset (its index in the data folder).
        """
        return loaders_for(self).cached(
            resize, interpolation=interpolation, draft=draft, workers=workers, max_pixels=max_pixels
        )

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of ``(image, label)`` tensors with a ``loader()``
        helper (needs ``datamaestro[torch]``); ``options`` (normalize, layout, resize,
        interpolation, one_hot, workers, transform, max_pixels, draft) go to
        ``datamaestro.loaders.folder.torch_dataset``."""
        return loaders_for(self).to_torch(**options)

    def to_tf(self, **options: Any) -> Any:
        """A ``tf.data.Dataset`` of ``(image, label)`` (needs ``datamaestro[tf]``), images decoded
        as the passes reach them, channels last unless ``layout`` says otherwise; ``options``
        (and ``workers``) go to ``datamaestro.loaders.tf.dataset``."""
        return loaders_for(self).to_tf(**options)

    def export_subset(self) -> Subset:
        """The split as a ``datamaestro.formats`` subset (for ``export``/``convert``):
        images decoded one at a time when written, ids the file names without extension."""
        return loaders_for(self).export_subset()

    def export_dataset(self) -> Dataset:
        """This split alone as a ``datamaestro.formats`` dataset (its subset is ``default``)."""
        return loaders_for(self).export_dataset()


class ImageFolderClassification(ImageClassification):
    """Image classification whose splits are ``ImageFolder``s; ``categories[k]`` names label ``k``."""

    def __post_init__(self) -> None:
        super().__post_init__()
        share_categories(self, self.categories, ImageFolder)

    def export_dataset(self) -> Dataset:
        """The splits as a ``datamaestro.formats`` dataset (for ``export``/``convert``)."""
        return loaders_for(self).export_dataset()
