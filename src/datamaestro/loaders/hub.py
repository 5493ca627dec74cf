"""The loaders of ``HubImages``: its index written at prepare time, batches, views and export.

Images are the bytes of a Parquet column (``datamaestro.formats.parquet``),
decoded by the image loaders' decoder (``datamaestro.loaders.decoding``) when
asked for, a batch at a time by a pool of threads. Each image is opened by
``datamaestro.formats.images`` (bounded by its pixels), named in errors by
its file and row.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional, cast

import numpy as np

from datamaestro.data.base import Base
from datamaestro.data.hub import HubDataset, HubImages
from datamaestro.data.loading import Transform, register
from datamaestro.errors import FormatError, UsageError
from datamaestro.formats import parquet
from datamaestro.formats.dataset import Dataset, Subset
from datamaestro.formats.images import open_header
from datamaestro.loaders import folder
from datamaestro.loaders.decoding import Decoder, default_workers
from datamaestro.loaders.folder import ChannelFirstImages, FolderLoader, Gather, Positions, exported
from datamaestro.loaders.passes import IndexBatches, counted_epoch
from datamaestro.loaders.torch import dataset_class

#: the file of the index folder that describes each split
SPLITS_FILE = "splits.json"


class ImageBytes(io.BytesIO):
    """The bytes of one image, named by its Parquet file and row (what errors show)."""

    def __init__(self, data: bytes, where: str):
        super().__init__(data)
        self.where = where

    def __str__(self) -> str:
        return self.where


class ImageSource:
    """The image bytes of a split's Parquet files, read once (memory-mapped) and indexed by row."""

    def __init__(self, files: Sequence[Path], column: str):
        self.files = list(files)
        self.chunks: list[Any] = []
        self.owners: list[int] = []
        for k, path in enumerate(self.files):
            found = parquet.image_bytes([path], column)
            self.chunks += found
            self.owners += [k] * len(found)
        self.ends = np.cumsum([len(c) for c in self.chunks], dtype=np.int64)

    def __len__(self) -> int:
        return int(self.ends[-1]) if len(self.ends) else 0

    def __getitem__(self, i: int) -> ImageBytes:
        k = int(np.searchsorted(self.ends, i, side="right"))
        row = i - (int(self.ends[k - 1]) if k else 0)
        value = self.chunks[k][row].as_py()
        where = f"{self.files[self.owners[k]]}, image {i}"
        if value is None:
            raise FormatError(f"{where}: the image has no bytes")
        return ImageBytes(value, where)


def source_of(split: HubImages) -> ImageSource:
    """The image bytes of a split (read once per split object)."""
    cached = split.__dict__.get("_source")
    if cached is None:
        cached = split.__dict__["_source"] = ImageSource(split.files, split.column)
    return cast(ImageSource, cached)


# -- the index, written at prepare time ----------------------------------------------------------


def header_facts(image: ImageBytes) -> tuple[int, int, str]:
    """Height, width and Pillow mode of an image, from its header."""
    with open_header(cast(Path, image)) as im:
        width, height = im.size
        return height, width, im.mode


def write_image_index(folder: Path, split: str, files: Sequence[Path], layout: parquet.Layout) -> dict[str, Any]:
    """Write ``SPLIT_labels.npy`` and ``SPLIT_sizes.npy`` of an image split; what ``splits.json`` says of it."""
    assert layout.image is not None
    source = ImageSource(files, layout.image)
    with ThreadPoolExecutor(default_workers()) as pool:
        facts = list(pool.map(lambda i: header_facts(source[i]), range(len(source))))
    if layout.label is not None:
        labels = parquet.column_arrays(files, [layout.label])[layout.label].astype(np.int64)
    else:
        labels = np.full(len(source), -1, dtype=np.int64)
    if len(labels) != len(source):
        raise FormatError(f"{files[0]}: {len(source)} images but {len(labels)} labels")
    np.save(folder / f"{split}_labels.npy", labels)
    np.save(folder / f"{split}_sizes.npy", np.array([f[:2] for f in facts], dtype=np.int32).reshape(-1, 2))
    grey = bool(facts) and all(f[2] in ("L", "1", "I;16", "I") for f in facts)
    return {"kind": "images", "column": layout.image, "label": layout.label, "categories": layout.categories,
            "mode": "L" if grey else "RGB"}


def write_table(folder: Path, split: str, files: Sequence[Path], layout: parquet.Layout) -> dict[str, Any]:
    """Write ``SPLIT.npy``, the split's plain columns (and its label column) as a structured array."""
    names = parquet.plain_columns(files[0], layout.columns)
    names += [layout.label] if layout.label else []
    np.save(folder / f"{split}.npy", parquet.structured(parquet.column_arrays(files, names)), allow_pickle=False)
    return {"kind": "table", "label": layout.label, "categories": layout.categories}


def write_index(folder: Path, splits: dict[str, list[Path]], card_features: Any = None) -> dict[str, Any]:
    """Write the index of every split into ``folder`` (and ``splits.json``); what it says of each split."""
    described = {}
    for split, files in splits.items():
        layout = parquet.layout_of(files[0], card_features)
        write = write_image_index if layout.image else write_table
        described[split] = {**write(folder, split, files, layout), "files": [f.name for f in files]}
    (folder / SPLITS_FILE).write_text(json.dumps(described, indent=1), encoding="utf-8")
    return described


def read_splits(folder: Path) -> dict[str, Any]:
    """What ``write_index`` said of each split."""
    path = folder / SPLITS_FILE
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise FormatError(f"{path}: cannot read the index of the splits ({e}); prepare the dataset again") from None
    if not isinstance(value, dict):
        raise FormatError(f"{path}: not an index of splits; prepare the dataset again")
    return value


# -- whole splits and batches --------------------------------------------------------------------


def hub_loader(split: HubImages, **options: Any) -> FolderLoader:
    """The loader of an image folder, over the images of a ``HubImages`` split (``source_of``)."""
    where = str(split.files[0]) if split.files else "the split"
    return FolderLoader(split, sources=source_of(split), where=where, **options)  # type: ignore[arg-type]


# -- lazy views for show, info and export --------------------------------------------------------


class LazyImages(folder.LazyImages):
    """The images of a ``HubImages`` split as a read-only, array-like view decoded on access:
    ``shape`` has the most common image size, to which indexing resizes every image."""

    def sources(self) -> Any:
        """What the decoder opens for each image: the image bytes in the Parquet files."""
        return source_of(self.split)


# -- PyTorch, export, and the loaders registered for Hub splits ----------------------------------


def export_splits(splits: dict[str, Base], categories: Optional[list[str]]) -> Dataset:
    """The image splits as a ``datamaestro.formats`` dataset (ids: the row numbers)."""
    subsets = {}
    for name, split in splits.items():
        if not isinstance(split, HubImages):
            raise UsageError(f"cannot export split '{name}': it holds no images")
        subsets[name] = Subset(ChannelFirstImages(split), np.asarray(split.labels.data(), dtype=np.int64))  # type: ignore[arg-type]
        categories = categories or split.categories
    return exported(subsets, categories)


class HubImagesLoaders:
    """What the loaders of a ``HubImages`` split give (``arrays()``, ``batches()``...)."""

    def __init__(self, split: HubImages):
        self.split = split

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` decoded."""
        return Decoder(self.split.mode).one(cast(Path, source_of(self.split)[i]))

    def lazy_images(self) -> LazyImages:
        """The images as an array-like view decoded on access."""
        return LazyImages(self.split)

    def arrays(self, **options: Any) -> tuple[np.ndarray, np.ndarray]:
        """The whole split decoded (options of ``FolderLoader``)."""
        loader = hub_loader(self.split, **options)
        try:
            return loader(slice(None))
        finally:
            loader.decoder.close()

    def batches(
        self, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None, drop_last: bool = False, *,
        epoch: Optional[int] = None, rank: Optional[int] = None, world_size: Optional[int] = None,
        distributed: bool = False, **options: Any,
    ) -> IndexBatches[tuple[np.ndarray, np.ndarray]]:
        """The next pass of minibatches of the split (or pass ``epoch``), decoded batch by batch."""
        loader = hub_loader(self.split, **options)
        return IndexBatches(
            len(loader.labels), loader, batch_size=batch_size, shuffle=shuffle, seed=seed,
            epoch=counted_epoch(self.split, epoch), drop_last=drop_last, rank=rank, world_size=world_size,
            distributed=distributed,
        )

    def to_torch(self, *, layout: Optional[str] = "NCHW", transform: Optional[Transform] = None, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of the split: ``dataset[i]`` is ``(image tensor, label)``."""
        loader = hub_loader(self.split, layout=layout, **options)
        return dataset_class()(Positions(len(loader.labels)), loader.labels, Gather(loader), self.split.categories, transform)

    def export_subset(self) -> Subset:
        """The split as a ``datamaestro.formats`` subset."""
        return export_splits({"default": self.split}, self.split.categories).subsets["default"]

    def export_dataset(self) -> Dataset:
        """The split alone as a ``datamaestro.formats`` dataset (its subset is ``default``)."""
        return export_splits({"default": self.split}, self.split.categories)


class HubDatasetLoaders:
    """What a ``HubDataset`` exports: its image splits."""

    def __init__(self, data: HubDataset):
        self.data = data

    def export_dataset(self) -> Dataset:
        """The image splits as a ``datamaestro.formats`` dataset."""
        return export_splits(self.data.splits(), self.data.categories)


register(HubImages, HubImagesLoaders)
register(HubDataset, HubDatasetLoaders)
