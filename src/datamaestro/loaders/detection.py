"""The loaders of ``ObjectDetection`` splits: objects of an image, padded minibatches, PyTorch, stats, export.

The index (``datamaestro.formats.objects_index``) is read once per split
object and checked; images are decoded (``datamaestro.loaders.decoding``)
when asked for, instance masks decoded from their polygons or RLE on demand.
"""

from __future__ import annotations

import functools
from typing import Any, Optional

import numpy as np

from datamaestro.data.detection import Detection, DetectionBatch, ObjectDetection
from datamaestro.data.loading import Normalize, register
from datamaestro.errors import FormatError, UsageError
from datamaestro.formats.annotations import AnnotatedDataset, Item, Object
from datamaestro.formats.masks import decode_rle, polygons_mask
from datamaestro.formats.objects_index import FLAGS, DetectionIndex, extras_rle, read_detection_index
from datamaestro.loaders.annotated import (
    AnnotatedLoaders,
    Pixels,
    check_labels,
    check_resize,
    class_names,
    collate,
    file_under,
    most_common_size,
    resized_to,
)
from datamaestro.loaders.arrays import Size
from datamaestro.loaders.decoding import Decoder
from datamaestro.loaders.torch import import_torch


def index_of(split: ObjectDetection) -> DetectionIndex:
    """The index of ``split``, read and checked once."""
    index = split.__dict__.get("_index")
    if index is None:
        index = read_detection_index(split.index, split.split, split.root)
        check_labels(np.asarray(index.labels), split.categories, f"{split.index}/{split.split}_labels.npy")
        split.__dict__["_index"] = index
    return index


def targets_of(index: DetectionIndex, i: int, scale: tuple[float, float] = (1.0, 1.0)) -> dict[str, np.ndarray]:
    """The objects of image ``i``: boxes (scaled by (sx, sy)), labels and flags."""
    where = index.objects(i)
    boxes = np.array(index.boxes[where], dtype=np.float32)
    if scale != (1.0, 1.0):
        boxes *= np.array([scale[0], scale[1], scale[0], scale[1]], dtype=np.float32)
    flags = np.asarray(index.flags[where])
    out: dict[str, np.ndarray] = {"boxes": boxes, "labels": np.array(index.labels[where], dtype=np.int64)}
    for bit, name in enumerate(FLAGS):
        out[name] = np.asarray((flags >> bit) & 1 == 1)
    return out


def masks_of(index: DetectionIndex, i: int) -> np.ndarray:
    """The instance masks of image ``i``: (K, H, W) bool."""
    height, width = (int(v) for v in index.sizes[i])
    extras = index.extras(i)
    masks = np.zeros((len(extras), height, width), dtype=bool)
    for k, extra in enumerate(extras):
        if not extra:
            continue
        where = f"object {k} of image {index.ids[i]!r}"
        if extra.get("polygons"):
            masks[k] = polygons_mask(extra["polygons"], height, width)
        rle = extras_rle(extra, where)
        if rle is not None:
            if (rle.height, rle.width) != (height, width):
                raise FormatError(f"{where}: its RLE mask is {rle.width}x{rle.height}, its image {width}x{height}")
            masks[k] = decode_rle(rle)
    return masks


def padded(targets: list[dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (N, K, 4), labels (N, K) (-1 padding), counts (N,) and flag bits (N, K) of a batch."""
    counts = np.array([len(t["labels"]) for t in targets], dtype=np.int64)
    most = int(counts.max()) if counts.size else 0
    boxes = np.zeros((len(targets), most, 4), dtype=np.float32)
    labels = np.full((len(targets), most), -1, dtype=np.int64)
    flags = np.zeros((len(targets), most), dtype=np.uint8)
    for row, (t, k) in enumerate(zip(targets, counts.tolist())):
        boxes[row, :k] = t["boxes"]
        labels[row, :k] = t["labels"]
        flags[row, :k] = sum(t[name].astype(np.uint8) << bit for bit, name in enumerate(FLAGS))
    return boxes, labels, counts, flags


class DetectionReader:
    """Reads images of a split with their objects, resized to one size and the boxes scaled alike."""

    def __init__(
        self, split: ObjectDetection, *, normalize: Normalize = True, resize: Optional[Size] = None,
        interpolation: str = "bilinear", layout: Optional[str] = None, workers: Optional[int] = None,
        max_pixels: Optional[int] = None, masks: bool = False,
    ):
        check_resize(resize)
        self.index = index_of(split)
        self.paths = [file_under(split.root, rel) for rel in self.index.paths]
        self.where = str(split.root)
        self.size = resized_to(self.index.sizes, resize, self.where)
        self.decoder = Decoder("RGB", self.size, interpolation, workers, max_pixels)
        self.pixels = Pixels(normalize, layout)
        self.masks = masks

    def scale(self, i: int) -> tuple[float, float]:
        """(sx, sy) from image ``i``'s size to the size it is resized to."""
        if self.size is None:
            return 1.0, 1.0
        height, width = (int(v) for v in self.index.sizes[i])
        return self.size[1] / max(width, 1), self.size[0] / max(height, 1)

    def targets(self, i: int) -> dict[str, np.ndarray]:
        """The objects of image ``i``, boxes scaled (and masks resized, nearest, when asked)."""
        out = targets_of(self.index, i, self.scale(i))
        if self.masks:
            masks = masks_of(self.index, i)
            if self.size is not None and masks.shape[1:] != self.size:
                rows = np.minimum((np.arange(self.size[0]) + 0.5) * masks.shape[1] / self.size[0], masks.shape[1] - 1).astype(np.intp)
                cols = np.minimum((np.arange(self.size[1]) + 0.5) * masks.shape[2] / self.size[1], masks.shape[2] - 1).astype(np.intp)
                masks = masks[:, rows][:, :, cols]
            out["masks"] = masks
        return out

    def __call__(self, where: slice | np.ndarray) -> DetectionBatch:
        positions = np.arange(len(self.paths))[where].tolist()
        if positions:
            images = self.pixels(self.decoder.batch([self.paths[i] for i in positions], where=self.where))
        else:
            images = self.pixels.empty(self.size)
        return DetectionBatch(images, *padded([targets_of(self.index, i, self.scale(i)) for i in positions]))

    def sample(self, i: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Image ``i`` (as the batches give it, one image) and its objects."""
        return self.pixels(self.decoder.one(self.paths[i])[None])[0], self.targets(i)


def torch_dataset(split: ObjectDetection, *, normalize: Normalize = True, resize: Optional[Size] = None,
                  interpolation: str = "bilinear", masks: bool = False, max_pixels: Optional[int] = None) -> Any:
    """A ``torch.utils.data.Dataset`` of ``(image, target)``: a float32 (3, H, W) tensor and a dict of
    tensors (``boxes`` (K, 4) float32, ``labels`` (K,) int64, ``image_id``, the flags as bool, and
    ``masks`` (K, H, W) uint8 with ``masks=True``); ``loader()`` gives lists (``collate``)."""
    reader = DetectionReader(
        split, normalize=normalize, resize=resize, interpolation=interpolation, layout="NCHW",
        workers=1, max_pixels=max_pixels, masks=masks,
    )
    return torch_class()(reader)


def rebuild(reader: DetectionReader) -> Any:
    """The torch dataset again, after pickling (DataLoader workers started by spawn)."""
    return torch_class()(reader)


@functools.cache
def torch_class() -> type:
    """``DetectionDataset``, a ``torch.utils.data.Dataset`` over a ``DetectionReader``."""
    torch = import_torch()

    class DetectionDataset(torch.utils.data.Dataset):  # type: ignore[name-defined]
        """Images and their targets, one sample at a time (images may differ in size)."""

        def __init__(self, reader: DetectionReader):
            self.reader = reader

        def __len__(self) -> int:
            return len(self.reader.paths)

        def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
            return rebuild, (self.reader,)

        def __getitem__(self, i: int) -> tuple[Any, dict[str, Any]]:
            if not -len(self) <= int(i) < len(self):
                raise IndexError(f"index {i} is out of range for {len(self)} images")
            i = int(i) % len(self)
            image, target = self.reader.sample(i)
            tensors = {name: torch.from_numpy(value) for name, value in target.items()}
            if "masks" in tensors:
                tensors["masks"] = tensors["masks"].to(torch.uint8)
            tensors["image_id"] = torch.tensor(i, dtype=torch.int64)
            return torch.from_numpy(image), tensors

        def loader(self, batch_size: int = 2, shuffle: bool = False, seed: Optional[int] = None,
                   drop_last: bool = False, **options: Any) -> Any:
            """A ``DataLoader`` of ``(images, targets)`` lists (``options`` go to ``DataLoader``)."""
            generator = None if seed is None else torch.Generator().manual_seed(seed)
            return torch.utils.data.DataLoader(
                self, batch_size=batch_size, shuffle=shuffle, generator=generator, drop_last=drop_last,
                collate_fn=collate, **options,
            )

    return DetectionDataset


def stats(split: ObjectDetection, categories: Optional[list[str]]) -> dict[str, Any]:
    """Images, the most common image shape, objects, and images and objects per class."""
    index = index_of(split)
    labels = np.asarray(index.labels)
    image_of = np.repeat(np.arange(len(index)), np.diff(np.asarray(index.offsets)))
    known = labels >= 0
    count = max(len(categories or []), int(labels.max()) + 1 if labels.size else 0)
    names = class_names(categories, count)
    objects = np.bincount(labels[known], minlength=count)
    pairs = np.unique(np.stack([image_of[known], labels[known]], axis=1), axis=0) if known.any() else np.zeros((0, 2), np.int64)
    images = np.bincount(pairs[:, 1], minlength=count)
    flags = np.asarray(index.flags)
    return {
        "count": len(index),
        "image_shape": [*most_common_size(np.asarray(index.sizes)), 3],
        "image_dtype": "uint8",
        "objects": int(labels.size),
        "labels": {names[k]: int(c) for k, c in enumerate(images)},
        "objects_per_class": {names[k]: int(c) for k, c in enumerate(objects)},
        "flags": {name: int(((flags >> bit) & 1).sum()) for bit, name in enumerate(FLAGS) if ((flags >> bit) & 1).any()},
    }


def items_of(split: ObjectDetection) -> list[Item]:
    """The images of ``split`` as annotated items (files, sizes, objects with their masks)."""
    index = index_of(split)
    items = []
    for i, rel in enumerate(index.paths):
        t = targets_of(index, i)
        objects = []
        for k, extra in enumerate(index.extras(i)):
            extra = extra or {}
            objects.append(Object(
                label=int(t["labels"][k]), box=tuple(float(v) for v in t["boxes"][k]),  # type: ignore[arg-type]
                difficult=bool(t["difficult"][k]), truncated=bool(t["truncated"][k]),
                occluded=bool(t["occluded"][k]), crowd=bool(t["crowd"][k]),
                polygons=list(extra.get("polygons") or []), rle=extras_rle(extra, f"image {index.ids[i]!r}"),
                id=extra.get("id"), attributes=dict(extra.get("attributes") or {}),
            ))
        height, width = (int(v) for v in index.sizes[i])
        items.append(Item(id=index.ids[i], image=file_under(split.root, rel), size=(height, width), objects=objects))
    return items


def exported(splits: dict[str, Any], categories: Optional[list[str]]) -> AnnotatedDataset:
    """Detection splits as an annotated dataset (for ``export``/``convert``)."""
    subsets = {}
    for name, split in splits.items():
        if not isinstance(split, ObjectDetection):
            raise UsageError(f"cannot export split '{name}': it is not an object detection split")
        subsets[name] = items_of(split)
        categories = categories or split.categories
    top = max((int(np.max(index_of(s).labels, initial=-1)) for s in splits.values()), default=-1)
    return AnnotatedDataset(subsets, class_names(categories, top + 1))


class DetectionLoaders(AnnotatedLoaders):
    """What the loaders of an ``ObjectDetection`` split give."""

    index_of = staticmethod(index_of)
    reader = DetectionReader
    dataset = staticmethod(torch_dataset)
    describe = staticmethod(stats)
    classes = "labels"

    def targets(self, i: int) -> dict[str, np.ndarray]:
        """The objects of image ``i``."""
        index = index_of(self.split)
        if not -len(index) <= i < len(index):
            raise IndexError(f"image {i} is out of range for {len(index)} images")
        return targets_of(index, i % len(index))

    def masks(self, i: int) -> np.ndarray:
        """The instance masks of image ``i``."""
        return masks_of(index_of(self.split), i)

    def export_dataset(self) -> AnnotatedDataset:
        """The split alone as an annotated dataset."""
        return exported({"default": self.split}, self.split.categories)


class DetectionSplitsLoaders:
    """What a ``Detection`` container exports."""

    def __init__(self, data: Detection):
        self.data = data

    def export_dataset(self) -> AnnotatedDataset:
        """The splits as an annotated dataset."""
        return exported(self.data.splits(), self.data.categories)


register(ObjectDetection, DetectionLoaders)
register(Detection, DetectionSplitsLoaders)
