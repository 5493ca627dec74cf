"""The loaders of an ``ImageFolder``: its index written at prepare time, batches, views and export.

The index (``datamaestro.data.folder``) lists the image files of a split with
their labels and sizes, read from the image headers when it is written.
Images are decoded (``datamaestro.loaders.decoding``) only when asked for,
a batch at a time by a pool of threads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any, Optional

import numpy as np

from datamaestro.data.base import Base
from datamaestro.data.folder import ImageFolder, ImageFolderClassification, index_files
from datamaestro.data.images import LabelledImages
from datamaestro.data.loading import Normalize, Transform, register
from datamaestro.errors import FormatError, UsageError
from datamaestro.formats.dataset import Dataset, Subset
from datamaestro.formats.images import image_size
from datamaestro.loaders.arrays import Size, mean_std, standardized, target_size
from datamaestro.loaders.batches import Converter
from datamaestro.loaders.buffers import Recycled, recycled
from datamaestro.loaders.cache import cached
from datamaestro.loaders.decoding import MODES, Decoder, decode, default_workers
from datamaestro.loaders.passes import IndexBatches, counted_epoch
from datamaestro.loaders.tf import dataset
from datamaestro.loaders.torch import dataset_class
from datamaestro.optional import pillow

# -- the index, written at prepare time ----------------------------------------------------


def write_index(
    folder: Path,
    split: str,
    root: Path,
    items: Iterable[tuple[str, int]],
    *,
    workers: Optional[int] = None,
) -> int:
    """Write the index of ``split`` into ``folder``: ``items`` are (path relative to ``root``, label).

    Every path must name a regular file inside ``root`` (no absolute path, no
    ``..``, no link leading out); its header gives the image size. Returns the
    number of images.
    """
    items = list(items)
    real_root = root.resolve()
    paths = [checked_path(root, real_root, rel) for rel, _ in items]
    pillow()  # (a one-line error without it)
    with ThreadPoolExecutor(workers or default_workers()) as pool:
        sizes = list(pool.map(image_size, paths))
    files, labels_file, sizes_file = index_files(folder, split)
    files.write_text("".join(f"{rel}\n" for rel, _ in items), encoding="utf-8")
    np.save(labels_file, np.array([label for _, label in items], dtype=np.int64))
    np.save(sizes_file, np.array(sizes, dtype=np.int32).reshape(-1, 2))
    return len(items)


def checked_path(root: Path, real_root: Path, rel: str) -> Path:
    """``root / rel`` after checking that it is a file inside ``root``."""
    pure = PurePosixPath(rel)
    if not rel or pure.is_absolute() or "\\" in rel or any(part in ("..", "") for part in rel.split("/")):
        raise FormatError(f"{root}: refused image path {rel!r}: not a plain path inside the dataset folder")
    path = root.joinpath(*pure.parts)
    real = path.resolve()
    if real_root not in real.parents:
        raise FormatError(f"{root}: refused image path {rel!r}: it leads outside the dataset folder")
    if not real.is_file():
        raise FormatError(f"{root}: the image {rel!r} listed by the dataset is missing")
    return path


CATEGORIES_FILE = "categories.json"


def write_categories(folder: Path, names: Sequence[str]) -> None:
    """Record the class names found at prepare time (``categories.json`` in the index folder)."""
    (folder / CATEGORIES_FILE).write_text(json.dumps(list(names), ensure_ascii=False), encoding="utf-8")


def read_categories(folder: Path) -> list[str]:
    """The class names that ``write_categories`` recorded."""
    path = folder / CATEGORIES_FILE
    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise FormatError(f"{path}: cannot read the class names ({e}); prepare the dataset again") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FormatError(f"{path}: expected a JSON list of class names; prepare the dataset again")
    return names


def common_size(
    sizes: np.ndarray, resize: Optional[Size], where: str
) -> Optional[tuple[int, int]]:
    """The (height, width) every image is resized to (None: keep them as they are)."""
    if resize is None or not len(sizes):
        return None
    if isinstance(resize, (int, np.integer)) and not isinstance(resize, bool):
        targets = {target_size(resize, int(h), int(w)) for h, w in np.unique(sizes, axis=0)}
        if len(targets) > 1:
            raise UsageError(
                f"{where}: resize={resize} keeps each image's aspect ratio, and the images have "
                "several; pass resize=(height, width) to get them as one array"
            )
        return targets.pop()
    return target_size(resize, 1, 1)


# -- whole splits and batches ----------------------------------------------------------------


class FolderLoader:
    """Turns positions of an ``ImageFolder`` into converted ``(images, labels)`` arrays.

    Its images are the split's files, or ``sources`` (what ``decode`` opens: paths or
    images in memory, as a Hub split's) named ``where`` in errors.
    """

    def __init__(
        self,
        split: ImageFolder,
        *,
        normalize: Normalize = True,
        resize: Optional[Size] = None,
        interpolation: str = "bilinear",
        layout: Optional[str] = None,
        flatten: bool = False,
        one_hot: bool = False,
        workers: Optional[int] = None,
        transform: Optional[Transform] = None,
        max_pixels: Optional[int] = None,
        draft: bool = True,
        buffers: Optional[Recycled] = None,
        sources: Optional[Sequence[Any]] = None,
        where: Optional[str] = None,
    ):
        self.paths = split.paths() if sources is None else sources
        self.labels = np.asarray(split.labels.data())
        self.where = f"{split.root}" if where is None else where
        self.size = common_size(split.sizes_array(), resize, self.where)
        self.decoder = Decoder(split.mode, self.size, interpolation, workers, max_pixels, draft, buffers)
        self.normalize = bool(normalize)
        self.stats = mean_std(normalize)
        # The converter gets batches already resized, scaled and standardised: it sets
        # the layout, flattens, transforms and makes one-hot labels. Its prototype has
        # a size that no layout rule can mistake for a channel axis.
        channels = MODES[split.mode]
        self.stored_layout = "NHWC" if channels else None
        dtype = np.float32 if normalize else np.uint8
        self.empty = np.zeros((0, *(self.size or (8, 8)), *([channels] if channels else [])), dtype=dtype)
        self.convert = Converter(
            np.zeros((0, 8, 8, *([channels] if channels else [])), dtype=dtype),
            self.labels[:0],
            normalize=False,
            layout=layout,
            flatten=flatten,
            one_hot=one_hot,
            categories=split.categories,
            transform=transform,
        )

    def __call__(self, where: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.start(where)()

    def start(self, where: slice | np.ndarray) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
        """Start decoding the images at ``where``; the returned call waits and gives the converted batch."""
        positions = np.arange(len(self.paths))[where]
        labels = self.labels[where]
        if not positions.size:
            return lambda: self.convert(self.empty, labels)
        decoded = self.decoder.start_batch([self.paths[i] for i in positions.tolist()], self.normalize, self.where)

        def converted() -> tuple[np.ndarray, np.ndarray]:
            batch = decoded()
            if self.stats is not None:
                batch = standardized(batch, self.stats, self.stored_layout)
            return self.convert(batch, labels)

        return converted


# -- lazy views for show, info and export ----------------------------------------------------


class LazyImages:
    """The images of an ``ImageFolder`` as a read-only, array-like view decoded on access.

    ``shape`` is ``(N, H, W, 3)`` (or ``(N, H, W)``) where ``H x W`` is the
    most common image size; indexing decodes the chosen images, each resized
    to that size if it differs (as ``datamaestro show`` needs one grid size).
    """

    dtype = np.dtype(np.uint8)

    def __init__(self, split: Any):
        self.split = split
        sizes = split.sizes_array()
        if len(sizes):
            values, counts = np.unique(sizes, axis=0, return_counts=True)
            height, width = (int(v) for v in values[int(np.argmax(counts))])
        else:
            height, width = 0, 0
        channels = MODES[split.mode]
        self.size = (height, width)
        self.shape = (len(sizes), height, width, *([channels] if channels else []))
        self.ndim = len(self.shape)

    def data(self) -> LazyImages:
        return self

    def __len__(self) -> int:
        return self.shape[0]

    def sources(self) -> Any:
        """What the decoder opens for each image: the image files."""
        return self.split.paths()

    def __getitem__(self, index: Any) -> np.ndarray:
        sources = self.sources()
        positions = np.arange(len(self))[index]
        decoder = Decoder(self.split.mode, self.size)
        if positions.ndim == 0:
            return decoder.one(sources[int(positions)])
        images = decoder.many([sources[i] for i in positions.tolist()])
        decoder.close()
        if not images:
            return np.zeros((0, *self.shape[1:]), dtype=np.uint8)
        return np.stack(images)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[:]
        return out if dtype is None else out.astype(dtype)


class ChannelFirstImages(Sequence[np.ndarray]):
    """The images of a split (an ``ImageFolder``, or any with ``image(i)``), or some of them, decoded one at a time on access,
    as ``(3, H, W)`` or ``(H, W)`` uint8: the layout of ``datamaestro.formats.dataset``."""

    def __init__(self, split: Any, positions: Optional[np.ndarray] = None):
        self.split = split
        self.positions = np.arange(len(split)) if positions is None else np.asarray(positions, dtype=np.intp)

    def __len__(self) -> int:
        return int(self.positions.shape[0])

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, np.integer)):
            image = self.split.image(int(self.positions[index]))
            return image if image.ndim == 2 else np.ascontiguousarray(image.transpose(2, 0, 1))
        return ChannelFirstImages(self.split, self.positions[index])

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self[i]


# -- PyTorch, export, and the loaders registered for image folders ----------------------------


def torch_dataset(
    split: ImageFolder,
    *,
    normalize: Normalize = True,
    layout: Optional[str] = "NCHW",
    resize: Optional[Size] = None,
    interpolation: str = "bilinear",
    one_hot: bool = False,
    workers: Optional[int] = None,
    transform: Optional[Transform] = None,
    max_pixels: Optional[int] = None,
    draft: bool = True,
) -> Any:
    """A ``torch.utils.data.Dataset`` over an ``ImageFolder``: ``dataset[i]`` is
    ``(image tensor, label)``, ``dataset[indices]`` a whole batch decoded at once,
    and ``dataset.loader(...)`` a ``DataLoader`` of such batches (as
    ``datamaestro.loaders.torch.TorchDataset`` gives for array splits, ``transform`` too)."""
    loader = FolderLoader(
        split, normalize=normalize, resize=resize, interpolation=interpolation, layout=layout,
        flatten=False, one_hot=one_hot, workers=workers, max_pixels=max_pixels, draft=draft,
    )
    return dataset_class()(Positions(len(loader.paths)), loader.labels, Gather(loader), split.categories, transform)


class Positions:
    """Stands for the images of a split in the torch adapter: indexing gives positions back."""

    def __init__(self, n: int):
        self.shape = (n,)
        self.ndim = 1

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.arange(self.shape[0], dtype=dtype or np.intp)


class Gather:
    """The torch adapter's converter: gathered positions -> decoded, converted batch."""

    def __init__(self, loader: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]):
        self.loader = loader

    def __call__(self, positions: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.loader(np.asarray(positions, dtype=np.intp))


def export_subset(split: ImageFolder) -> Subset:
    """The split as a ``datamaestro.formats`` subset: images decoded one at a time when
    written, ids the file names without extension (with their class folder when two are alike)."""
    stems = [p.stem for p in split.paths()]
    if len(set(stems)) != len(stems):  # same name in two class folders
        stems = [f"{p.parent.name}_{p.stem}" for p in split.paths()]
    return Subset(ChannelFirstImages(split), np.asarray(split.labels.data(), dtype=np.int64), stems)  # type: ignore[arg-type]


def export_splits(splits: dict[str, Base], categories: Optional[list[str]]) -> Dataset:
    """Image folder splits as a ``datamaestro.formats`` dataset (for ``export``/``convert``)."""
    subsets = {}
    for name, split in splits.items():
        if not isinstance(split, ImageFolder):
            raise UsageError(f"cannot export split '{name}': it is not an image folder")
        subsets[name] = export_subset(split)
        categories = categories or split.categories
    return exported(subsets, categories)


def exported(subsets: dict[str, Subset], categories: Optional[list[str]]) -> Dataset:
    """The dataset of exported image subsets, checked; without class names, the label numbers
    up to the largest one."""
    if categories is None:
        top = max((int(s.labels.max()) for s in subsets.values() if len(s)), default=-1)
        categories = [str(i) for i in range(top + 1)]
    data = Dataset(subsets, list(categories))
    data.check_labels("the prepared dataset")
    return data


class FolderLoaders:
    """What the loaders of an ``ImageFolder`` give (``ImageFolder.arrays()``, ``batches()``...)."""

    def __init__(self, split: ImageFolder):
        self.split = split

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` decoded."""
        return decode(self.split.paths()[i], self.split.mode)

    def lazy_images(self) -> LazyImages:
        """The images as an array-like view decoded on access."""
        return LazyImages(self.split)

    def arrays(self, **options: Any) -> tuple[np.ndarray, np.ndarray]:
        """The whole split decoded (options of ``FolderLoader``)."""
        loader = FolderLoader(self.split, **options)
        try:
            return loader(slice(None))
        finally:
            loader.decoder.close()

    def batches(self, *args: Any, epoch: Optional[int] = None, **options: Any) -> IndexBatches[tuple[np.ndarray, np.ndarray]]:
        """The next pass of ``batches()`` on this split (or pass ``epoch``)."""
        return self.one_pass(counted_epoch(self.split, epoch), *args, **options)

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, *, rank: Optional[int] = None, world_size: Optional[int] = None, distributed: bool = False,
        **options: Any,
    ) -> IndexBatches[tuple[np.ndarray, np.ndarray]]:
        """Pass ``epoch`` of the split's minibatches, decoded batch by batch (the next while the
        current one is in use, into arrays of earlier batches let go of: ``loaders.buffers``)."""
        loader = FolderLoader(self.split, buffers=recycled(self.split), **options)
        return IndexBatches(
            len(loader.paths), loader, batch_size=batch_size, shuffle=shuffle, seed=seed, epoch=epoch,
            drop_last=drop_last, rank=rank, world_size=world_size, distributed=distributed, start=loader.start,
        )

    def cached(self, resize: Size, **options: Any) -> LabelledImages:
        """The split decoded once at ``resize`` into a memory-mapped array (``datamaestro.loaders.cache``)."""
        size = common_size(self.split.sizes_array(), resize, f"{self.split.root}")
        if size is None:
            raise UsageError(f"{self.split.root}: cached() needs resize=(height, width)")
        return cached(self.split, size, **options)

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of the split (``torch_dataset``)."""
        return torch_dataset(self.split, **options)

    def to_tf(self, **options: Any) -> Any:
        """A ``tf.data.Dataset`` of the split (``datamaestro.loaders.tf.dataset``)."""
        return dataset(self.split, **options)

    def export_subset(self) -> Subset:
        """The split as a ``datamaestro.formats`` subset."""
        return export_subset(self.split)

    def export_dataset(self) -> Dataset:
        """The split alone as a ``datamaestro.formats`` dataset (its subset is ``default``)."""
        return export_splits({"default": self.split}, self.split.categories)


class ClassificationLoaders:
    """What an ``ImageFolderClassification`` exports."""

    def __init__(self, data: ImageFolderClassification):
        self.data = data

    def export_dataset(self) -> Dataset:
        """The splits as a ``datamaestro.formats`` dataset."""
        return export_splits(self.data.splits(), self.data.categories)


register(ImageFolder, FolderLoaders)
register(ImageFolderClassification, ClassificationLoaders)
