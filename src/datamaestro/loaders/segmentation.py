"""The loaders of ``Segmentation`` splits: masks, minibatches resized together, PyTorch, stats, export.

Images are resized as asked (bilinear by default), masks always by nearest
neighbour so that they keep class indexes; both by Pillow, so that the
pixel of the mask at a place is the class of the image pixel there.
"""

from __future__ import annotations

import functools
from typing import Any, Optional

import numpy as np

from datamaestro.data.loading import Normalize, register
from datamaestro.data.segmentation import Segmentation, SegmentationBatch, SemanticSegmentation
from datamaestro.errors import UsageError
from datamaestro.formats.annotations import AnnotatedDataset, Colour, Item
from datamaestro.formats.class_masks import read_class_mask
from datamaestro.formats.objects_index import SegmentationIndex, read_segmentation_index
from datamaestro.loaders.annotated import (
    AnnotatedLoaders,
    Pixels,
    check_resize,
    class_names,
    collate,
    file_under,
    most_common_size,
    resized_to,
)
from datamaestro.loaders.arrays import Size
from datamaestro.loaders.decoding import Decoder, stack
from datamaestro.loaders.torch import import_torch


def index_of(split: Segmentation) -> SegmentationIndex:
    """The index of ``split``, read and checked once."""
    index = split.__dict__.get("_index")
    if index is None:
        index = read_segmentation_index(split.index, split.split, split.root)
        split.__dict__["_index"] = index
    return index


def colours_of(split: Segmentation) -> Optional[list[Colour]]:
    """The class colours of ``split`` as tuples."""
    return None if split.colours is None else [(int(r), int(g), int(b)) for r, g, b in split.colours]


class SegmentationReader:
    """Reads images of a split with their class masks, resized together to one size."""

    def __init__(
        self, split: Segmentation, *, normalize: Normalize = True, resize: Optional[Size] = None,
        interpolation: str = "bilinear", layout: Optional[str] = None, workers: Optional[int] = None,
        max_pixels: Optional[int] = None,
    ):
        check_resize(resize)
        self.index = index_of(split)
        self.paths = [file_under(split.root, rel) for rel in self.index.paths]
        self.masks = [file_under(split.root, rel) for rel in self.index.masks]
        self.colours = colours_of(split)
        self.where = str(split.root)
        self.size = resized_to(self.index.sizes, resize, self.where)
        self.decoder = Decoder("RGB", self.size, interpolation, workers, max_pixels)
        self.max_pixels = max_pixels
        self.pixels = Pixels(normalize, layout)

    def mask(self, i: int) -> np.ndarray:
        """The class mask of image ``i`` as int64, resized (nearest) to the common size."""
        return read_class_mask(self.masks[i], self.colours, self.size, self.max_pixels).astype(np.int64)

    def __call__(self, where: slice | np.ndarray) -> SegmentationBatch:
        positions = np.arange(len(self.paths))[where].tolist()
        if not positions:
            height, width = self.size or (0, 0)
            return SegmentationBatch(self.pixels.empty(self.size), np.zeros((0, height, width), dtype=np.int64))
        images = self.decoder.batch([self.paths[i] for i in positions], where=self.where)
        masks = stack([self.mask(i) for i in positions], self.where)
        if masks.shape[1:] != images.shape[1:3]:
            raise UsageError(f"{self.where}: the masks are not the size of their images; pass resize=(height, width)")
        return SegmentationBatch(self.pixels(images), masks)

    def sample(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Image ``i`` (as the batches give it, one image) and its mask."""
        return self.pixels(self.decoder.one(self.paths[i])[None])[0], self.mask(i)


def torch_dataset(split: Segmentation, *, normalize: Normalize = True, resize: Optional[Size] = None,
                  interpolation: str = "bilinear", max_pixels: Optional[int] = None) -> Any:
    """A ``torch.utils.data.Dataset`` of ``(image, mask)``: a float32 (3, H, W) tensor and an int64
    (H, W) tensor; ``loader()`` stacks a batch when its images share a size, else gives lists."""
    reader = SegmentationReader(
        split, normalize=normalize, resize=resize, interpolation=interpolation, layout="NCHW",
        workers=1, max_pixels=max_pixels,
    )
    return torch_class()(reader)


def rebuild(reader: SegmentationReader) -> Any:
    """The torch dataset again, after pickling (DataLoader workers started by spawn)."""
    return torch_class()(reader)


def stacked(samples: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    """A batch of ``(image, mask)`` tensors stacked when they share a size, else two lists."""
    torch = import_torch()
    images, masks = collate(samples)
    if len({tuple(m.shape) for m in masks}) == 1:
        return torch.stack(images), torch.stack(masks)
    return images, masks


@functools.cache
def torch_class() -> type:
    """``SegmentationDataset``, a ``torch.utils.data.Dataset`` over a ``SegmentationReader``."""
    torch = import_torch()

    class SegmentationDataset(torch.utils.data.Dataset):  # type: ignore[name-defined]
        """Images and their class masks, one sample at a time."""

        def __init__(self, reader: SegmentationReader):
            self.reader = reader

        def __len__(self) -> int:
            return len(self.reader.paths)

        def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
            return rebuild, (self.reader,)

        def __getitem__(self, i: int) -> tuple[Any, Any]:
            if not -len(self) <= int(i) < len(self):
                raise IndexError(f"index {i} is out of range for {len(self)} images")
            image, mask = self.reader.sample(int(i) % len(self))
            return torch.from_numpy(image), torch.from_numpy(mask)

        def loader(self, batch_size: int = 2, shuffle: bool = False, seed: Optional[int] = None,
                   drop_last: bool = False, **options: Any) -> Any:
            """A ``DataLoader`` of ``(images, masks)`` (``options`` go to ``DataLoader``)."""
            generator = None if seed is None else torch.Generator().manual_seed(seed)
            return torch.utils.data.DataLoader(
                self, batch_size=batch_size, shuffle=shuffle, generator=generator, drop_last=drop_last,
                collate_fn=stacked, **options,
            )

    return SegmentationDataset


def stats(split: Segmentation, categories: Optional[list[str]]) -> dict[str, Any]:
    """Images, the most common image shape, images and pixels per class, ignored pixels."""
    index = index_of(split)
    classes, pixels = np.asarray(index.classes), np.asarray(index.pixels)
    ignored = classes == split.ignore_index if split.ignore_index is not None else np.zeros(classes.shape, bool)
    kept, kept_pixels = classes[~ignored], pixels[~ignored]
    count = max(len(categories or []), int(kept.max()) + 1 if kept.size else 0)
    names = class_names(categories, count)
    images = np.bincount(kept, minlength=count)
    totals = np.bincount(kept, weights=kept_pixels, minlength=count)
    facts: dict[str, Any] = {
        "count": len(index),
        "image_shape": [*most_common_size(np.asarray(index.sizes)), 3],
        "image_dtype": "uint8",
        "labels": {names[k]: int(c) for k, c in enumerate(images)},
        "pixels_per_class": {names[k]: int(c) for k, c in enumerate(totals)},
    }
    if split.ignore_index is not None:
        facts["ignored_pixels"] = int(pixels[ignored].sum())
    return facts


def items_of(split: Segmentation) -> list[Item]:
    """The images of ``split`` as annotated items (image and class mask files)."""
    index = index_of(split)
    return [
        Item(
            id=index.ids[i], image=file_under(split.root, rel), size=(int(index.sizes[i][0]), int(index.sizes[i][1])),
            mask=file_under(split.root, index.masks[i]),
        )
        for i, rel in enumerate(index.paths)
    ]


def exported(splits: dict[str, Any], categories: Optional[list[str]], colours: Optional[list[Colour]]) -> AnnotatedDataset:
    """Segmentation splits as an annotated dataset (for ``export``/``convert``)."""
    subsets = {}
    for name, split in splits.items():
        if not isinstance(split, Segmentation):
            raise UsageError(f"cannot export split '{name}': it is not a segmentation split")
        subsets[name] = items_of(split)
        categories = categories or split.categories
        colours = colours or colours_of(split)
    return AnnotatedDataset(subsets, list(categories or []), colours)


class SegmentationLoaders(AnnotatedLoaders):
    """What the loaders of a ``Segmentation`` split give."""

    index_of = staticmethod(index_of)
    reader = SegmentationReader
    dataset = staticmethod(torch_dataset)
    describe = staticmethod(stats)
    classes = "classes"

    def mask(self, i: int) -> np.ndarray:
        """The class mask of image ``i``, (H, W) uint8."""
        return read_class_mask(file_under(self.split.root, index_of(self.split).masks[i]), colours_of(self.split))

    def export_dataset(self) -> AnnotatedDataset:
        """The split alone as an annotated dataset."""
        return exported({"default": self.split}, self.split.categories, colours_of(self.split))


class SegmentationSplitsLoaders:
    """What a ``SemanticSegmentation`` container exports."""

    def __init__(self, data: SemanticSegmentation):
        self.data = data

    def export_dataset(self) -> AnnotatedDataset:
        """The splits as an annotated dataset."""
        colours = None if self.data.colours is None else [(int(r), int(g), int(b)) for r, g, b in self.data.colours]
        return exported(self.data.splits(), self.data.categories, colours)


register(Segmentation, SegmentationLoaders)
register(SemanticSegmentation, SegmentationSplitsLoaders)
