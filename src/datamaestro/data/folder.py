"""Folders of image files (JPEG, PNG...) with one integer label per image, decoded when read.

The same loaders as ``LabelledImages`` (``arrays``, ``batches``, ``to_torch``,
``text_labels``), reading the image files with Pillow (the ``images`` extra).
Images may differ in size: then ``arrays`` and ``batches`` need
``resize=(height, width)``. ``export_dataset()`` gives the in-memory dataset
that ``datamaestro.formats`` writes in Datumaro's layouts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from datamaestro.data.base import Base
from datamaestro.data.images import ImageClassification
from datamaestro.data.ml import NamedClasses, share_categories
from datamaestro.data.tensor import Tensor

if TYPE_CHECKING:
    from typing import Any, Optional

    import numpy as np

    from datamaestro.formats.dataset import Dataset, Subset
    from datamaestro.loaders.folder import LazyImages
    from datamaestro.loaders.passes import IndexBatches


class ImageFolder(Base, NamedClasses):
    """Image files under ``root`` with one integer label each (``categories[k]`` names label ``k``).

    ``files`` lists the image paths relative to ``root`` (one per line),
    ``labels`` and ``sizes`` ((N, 2) heights and widths) are arrays in the
    same order: together the index written at prepare time
    (``datamaestro.loaders.folder.write_index``). ``mode`` is the Pillow mode
    images are decoded to: ``"RGB"`` gives (H, W, 3) uint8, ``"L"`` (H, W).
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
        from datamaestro.data.npy import NPY
        from datamaestro.loaders.folder import index_files

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
            from datamaestro.loaders.folder import read_paths

            cached = [self.root.joinpath(*rel.split("/")) for rel in read_paths(self.files)]
            self.__dict__["_paths"] = cached
        return cached

    def sizes_array(self) -> np.ndarray:
        """(N, 2) int32: the height and width of every image."""
        return self.sizes.data()

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` decoded: (H, W, 3) uint8 (RGB) or (H, W) (L)."""
        from datamaestro.loaders.folder import decode

        return decode(self.paths()[i], self.mode)

    @property
    def images(self) -> LazyImages:
        """An array-like view of the images (for ``datamaestro show`` and ``info``): its
        ``shape`` gives the most common image size, indexing decodes the chosen images."""
        from datamaestro.loaders.folder import LazyImages

        return LazyImages(self)

    def arrays(
        self,
        normalize: bool = False,
        flatten: bool = False,
        one_hot: bool = False,
        layout: Optional[str] = None,
        resize: Optional[int | tuple[int, int]] = None,
        *,
        interpolation: str = "bilinear",
        workers: Optional[int] = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(images, labels)`` of the whole split, decoded into memory.

        Options as ``LabelledImages.arrays``; the stored layout is NHWC ((N, H, W)
        for grey images). ``resize=(height, width)`` is needed when the images
        differ in size (an int sets the shorter edge, as in ``batches``); images
        are resized by Pillow as they are decoded (bilinear: antialiased when
        shrinking). ``workers``: decoding threads (default: one per core, at most 8).
        """
        from datamaestro.loaders.folder import FolderLoader

        loader = FolderLoader(
            self, normalize=normalize, resize=resize, interpolation=interpolation, layout=layout,
            flatten=flatten, one_hot=one_hot, workers=workers,
        )
        try:
            return loader(slice(None))
        finally:
            loader.decoder.close()

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
        workers: Optional[int] = None,
        rank: Optional[int] = None,
        world_size: Optional[int] = None,
    ) -> IndexBatches[tuple[np.ndarray, np.ndarray]]:
        """An iterator of ``(images, labels)`` numpy minibatches over one pass, each batch
        decoded when it is reached (by ``workers`` threads).

        Shuffling, seeds, epochs and ranks as ``LabelledImages.batches``: with a
        seed, the k-th call shuffles with ``np.random.default_rng([seed, k])``;
        ``rank``/``world_size`` (default: RANK/WORLD_SIZE) give this rank's share.
        """
        from datamaestro.loaders.passes import counted_epoch

        return self.one_pass(
            counted_epoch(self, epoch), batch_size, shuffle, seed, drop_last, normalize=normalize, resize=resize,
            interpolation=interpolation, layout=layout, flatten=flatten, one_hot=one_hot, workers=workers,
            rank=rank, world_size=world_size,
        )

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, *, rank: Optional[int] = None, world_size: Optional[int] = None, **options: Any,
    ) -> IndexBatches[tuple[np.ndarray, np.ndarray]]:
        """Pass ``epoch`` of ``batches()`` (``options`` as there), not counted as one of its calls."""
        from datamaestro.loaders.folder import FolderLoader
        from datamaestro.loaders.passes import IndexBatches

        loader = FolderLoader(self, **options)
        return IndexBatches(
            len(loader.paths), loader, batch_size=batch_size, shuffle=shuffle, seed=seed, epoch=epoch,
            drop_last=drop_last, rank=rank, world_size=world_size,
        )

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of ``(image, label)`` tensors with a ``loader()``
        helper (needs ``datamaestro[torch]``); ``options`` (normalize, layout, resize,
        interpolation, one_hot, workers) go to ``datamaestro.loaders.folder.torch_dataset``."""
        from datamaestro.loaders.folder import torch_dataset

        return torch_dataset(self, **options)

    def to_tf(self, **options: Any) -> Any:
        """A ``tf.data.Dataset`` of ``(image, label)`` (needs ``datamaestro[tf]``), images decoded
        as the passes reach them, channels last unless ``layout`` says otherwise; ``options``
        (and ``workers``) go to ``datamaestro.loaders.tf.dataset``."""
        from datamaestro.loaders.tf import dataset

        return dataset(self, **options)

    def export_subset(self) -> Subset:
        """The split as a ``datamaestro.formats`` subset (for ``export``/``convert``):
        images decoded one at a time when written, ids the file names without extension."""
        import numpy as np

        from datamaestro.formats.dataset import Subset
        from datamaestro.loaders.folder import ChannelFirstImages

        stems = [p.stem for p in self.paths()]
        if len(set(stems)) != len(stems):  # same name in two class folders
            stems = [f"{p.parent.name}_{p.stem}" for p in self.paths()]
        return Subset(ChannelFirstImages(self), np.asarray(self.labels.data(), dtype=np.int64), stems)  # type: ignore[arg-type]

    def export_dataset(self) -> Dataset:
        """This split alone as a ``datamaestro.formats`` dataset (its subset is ``default``)."""
        return _export({"default": self}, self.categories)


class ImageFolderClassification(ImageClassification):
    """Image classification whose splits are ``ImageFolder``s; ``categories[k]`` names label ``k``."""

    def __post_init__(self) -> None:
        super().__post_init__()
        share_categories(self, self.categories, ImageFolder)

    def export_dataset(self) -> Dataset:
        """The splits as a ``datamaestro.formats`` dataset (for ``export``/``convert``)."""
        return _export(self.splits(), self.categories)


def _export(splits: dict[str, Base], categories: Optional[list[str]]) -> Dataset:
    from datamaestro.errors import UsageError
    from datamaestro.formats.dataset import Dataset

    subsets = {}
    for name, split in splits.items():
        if not isinstance(split, ImageFolder):
            raise UsageError(f"cannot export split '{name}': it is not an image folder")
        subsets[name] = split.export_subset()
        categories = categories or split.categories
    if categories is None:
        top = max((int(s.labels.max()) for s in subsets.values() if len(s)), default=-1)
        categories = [str(i) for i in range(top + 1)]
    dataset = Dataset(subsets, list(categories))
    dataset.check_labels("the prepared dataset")
    return dataset
