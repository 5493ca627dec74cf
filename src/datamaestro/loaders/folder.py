"""Image files as arrays: the index written at prepare time, decoding (in parallel), batches.

An index of one split is three files in a folder: ``<split>.txt`` (the image
paths, relative to the image root, one per line, UTF-8), ``<split>_labels.npy``
(int64) and ``<split>_sizes.npy`` ((N, 2) int32 heights and widths, read from
the image headers when the index is written). Images are decoded with Pillow
(the ``images`` extra) only when asked for, as ``(H, W, 3)`` uint8 (``RGB``)
or ``(H, W)`` (``L``). Batches of images are decoded by a thread pool:
Pillow releases the GIL while decoding, so threads decode in parallel.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from datamaestro.errors import FormatError, UsageError
from datamaestro.loaders.arrays import METHODS, Size, normalized, target_size
from datamaestro.optional import pillow

if TYPE_CHECKING:
    from datamaestro.data.folder import ImageFolder

#: image modes: Pillow mode -> channels (0: no channel axis)
MODES = {"RGB": 3, "L": 0}
#: below this many images a batch is decoded in the calling thread
PARALLEL_MIN = 8


def default_workers() -> int:
    """Decoding threads: one per core, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


# -- the index, written at prepare time ----------------------------------------------------


def index_files(folder: Path, split: str) -> tuple[Path, Path, Path]:
    """The paths, labels and sizes files of ``split``'s index in ``folder``."""
    return folder / f"{split}.txt", folder / f"{split}_labels.npy", folder / f"{split}_sizes.npy"


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
    Image = pillow()

    def size(path: Path) -> tuple[int, int]:
        try:
            with Image.open(path) as im:
                width, height = im.size
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
            raise FormatError(f"{path}: not a readable image ({e})") from None
        return height, width

    with ThreadPoolExecutor(workers or default_workers()) as pool:
        sizes = list(pool.map(size, paths))
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


def read_paths(files: Path) -> list[str]:
    """The relative image paths of an index."""
    try:
        return files.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(f"{files}: cannot read the image index ({e}); prepare the dataset again") from None


# -- decoding -------------------------------------------------------------------------------


def decode(path: Path, mode: str = "RGB", size: Optional[tuple[int, int]] = None, method: str = "bilinear") -> np.ndarray:
    """One image file as ``(H, W, 3)`` (RGB) or ``(H, W)`` (L) uint8, resized to ``size``
    ((height, width)) by Pillow when given."""
    Image = pillow()
    try:
        with Image.open(path) as im:
            if im.mode != mode:
                im = im.convert(mode)
            if size is not None and im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), RESAMPLING[method](Image))
            return np.asarray(im, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise FormatError(f"{path}: not a readable image ({e})") from None


#: resize method -> Pillow filter
RESAMPLING = {
    "bilinear": lambda Image: Image.Resampling.BILINEAR,
    "nearest": lambda Image: Image.Resampling.NEAREST,
}


class Decoder:
    """Decodes (and resizes) lists of image files with a thread pool.

    Resizing is Pillow's, done while decoding: bilinear is antialiased when
    shrinking (as torchvision's ``Resize`` on PIL images), which photos need
    and which costs a few taps per pixel.
    """

    def __init__(
        self,
        mode: str = "RGB",
        size: Optional[tuple[int, int]] = None,
        interpolation: str = "bilinear",
        workers: Optional[int] = None,
    ):
        self._pool: Optional[ThreadPoolExecutor] = None
        if mode not in MODES:
            raise UsageError(f"unknown image mode {mode!r} (use {' or '.join(MODES)})")
        if interpolation not in METHODS:
            raise UsageError(f"unknown interpolation {interpolation!r} (use {' or '.join(METHODS)})")
        self.mode = mode
        self.size = size
        self.interpolation = interpolation
        self.workers = default_workers() if workers is None else int(workers)

    def one(self, path: Path) -> np.ndarray:
        """One image, uint8 (resized to ``size`` when set)."""
        return decode(path, self.mode, self.size, self.interpolation)

    def many(self, paths: Sequence[Path]) -> list[np.ndarray]:
        """The images of ``paths``, in order."""
        if self.workers <= 1 or len(paths) < PARALLEL_MIN:
            return [self.one(p) for p in paths]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="datamaestro-decode")
        return list(self._pool.map(self.one, paths))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    def __del__(self) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:  # a DataLoader worker gets its own pool
        return {**self.__dict__, "_pool": None}


def stack(images: list[np.ndarray], where: str) -> np.ndarray:
    """The images as one array; a one-line error when their sizes differ."""
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        sizes = sorted(f"{s[1]}x{s[0]}" for s in shapes)
        raise UsageError(
            f"{where}: the images differ in size ({', '.join(sizes[:4])}{', ...' if len(sizes) > 4 else ''}); "
            "pass resize=(height, width) to get them as one array"
        )
    return np.stack(images)


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
    """Turns positions of an ``ImageFolder`` into converted ``(images, labels)`` arrays."""

    def __init__(
        self,
        split: ImageFolder,
        *,
        normalize: bool = True,
        resize: Optional[Size] = None,
        interpolation: str = "bilinear",
        layout: Optional[str] = None,
        flatten: bool = False,
        one_hot: bool = False,
        workers: Optional[int] = None,
    ):
        from datamaestro.loaders.batches import Converter

        self.paths = split.paths()
        self.labels = np.asarray(split.labels.data())
        self.where = f"{split.root}"
        self.size = common_size(split.sizes_array(), resize, self.where)
        self.decoder = Decoder(split.mode, self.size, interpolation, workers)
        self.normalize = normalize
        # The converter gets batches already resized and scaled: it sets the layout,
        # flattens and makes one-hot labels. Its prototype has a size that no
        # layout rule can mistake for a channel axis.
        channels = MODES[split.mode]
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
        )

    def __call__(self, where: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        positions = np.arange(len(self.paths))[where]
        if positions.size:
            batch = stack(self.decoder.many([self.paths[i] for i in positions.tolist()]), self.where)
            if self.normalize:
                batch = normalized(batch)
        else:
            batch = self.empty
        return self.convert(batch, self.labels[where])


# -- lazy views for show, info and export ----------------------------------------------------


class LazyImages:
    """The images of an ``ImageFolder`` as a read-only, array-like view decoded on access.

    ``shape`` is ``(N, H, W, 3)`` (or ``(N, H, W)``) where ``H x W`` is the
    most common image size; indexing decodes the chosen images, each resized
    to that size if it differs (as ``datamaestro show`` needs one grid size).
    """

    dtype = np.dtype(np.uint8)

    def __init__(self, split: ImageFolder):
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

    def __getitem__(self, index: Any) -> np.ndarray:
        paths = self.split.paths()
        positions = np.arange(len(paths))[index]
        decoder = Decoder(self.split.mode, self.size)
        if positions.ndim == 0:
            return decoder.one(paths[int(positions)])
        images = decoder.many([paths[i] for i in positions.tolist()])
        decoder.close()
        if not images:
            return np.zeros((0, *self.shape[1:]), dtype=np.uint8)
        return np.stack(images)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[:]
        return out if dtype is None else out.astype(dtype)


class ChannelFirstImages(Sequence[np.ndarray]):
    """The images of an ``ImageFolder`` (or some of them), decoded one at a time on access,
    as ``(3, H, W)`` or ``(H, W)`` uint8: the layout of ``datamaestro.formats.dataset``."""

    def __init__(self, split: ImageFolder, positions: Optional[np.ndarray] = None):
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


# -- PyTorch -----------------------------------------------------------------------------------


def torch_dataset(
    split: ImageFolder,
    *,
    normalize: bool = True,
    layout: Optional[str] = "NCHW",
    resize: Optional[Size] = None,
    interpolation: str = "bilinear",
    one_hot: bool = False,
    workers: Optional[int] = None,
) -> Any:
    """A ``torch.utils.data.Dataset`` over an ``ImageFolder``: ``dataset[i]`` is
    ``(image tensor, label)``, ``dataset[indices]`` a whole batch decoded at once,
    and ``dataset.loader(...)`` a ``DataLoader`` of such batches (as
    ``datamaestro.loaders.torch.TorchDataset`` gives for array splits)."""
    from datamaestro.loaders.torch import _dataset_class

    loader = FolderLoader(
        split, normalize=normalize, resize=resize, interpolation=interpolation, layout=layout,
        flatten=False, one_hot=one_hot, workers=workers,
    )
    return _dataset_class()(_Positions(len(loader.paths)), loader.labels, _Gather(loader), split.categories)


class _Positions:
    """Stands for the images of a split in the torch adapter: indexing gives positions back."""

    def __init__(self, n: int):
        self.shape = (n,)
        self.ndim = 1

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.arange(self.shape[0], dtype=dtype or np.intp)


class _Gather:
    """The torch adapter's converter: gathered positions -> decoded, converted batch."""

    def __init__(self, loader: FolderLoader):
        self.loader = loader

    def __call__(self, positions: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.loader(np.asarray(positions, dtype=np.intp))
