"""What the loaders of annotated images (detection, segmentation) share: paths, sizes, pixels, torch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np

from datamaestro.data.loading import Normalize
from datamaestro.errors import FormatError, UsageError
from datamaestro.loaders.arrays import Size, check_layout, mean_std, normalized, standardized
from datamaestro.loaders.decoding import decode
from datamaestro.loaders.folder import common_size
from datamaestro.loaders.passes import IndexBatches, counted_epoch
from datamaestro.paths import inside


def file_under(root: Path, rel: str) -> Path:
    """``root / rel`` (a path the index checked), refused if a link leads it out of ``root``."""
    return inside(root, root.joinpath(*rel.split("/")))


def most_common_size(sizes: np.ndarray) -> tuple[int, int]:
    """The most common (height, width) of ``sizes`` ((0, 0) for none)."""
    if not len(sizes):
        return 0, 0
    values, counts = np.unique(np.asarray(sizes), axis=0, return_counts=True)
    height, width = (int(v) for v in values[int(np.argmax(counts))])
    return height, width


def resized_to(sizes: np.ndarray, resize: Optional[Size], where: str) -> Optional[tuple[int, int]]:
    """The (height, width) every image is resized to (None: kept as they are)."""
    return common_size(np.asarray(sizes), resize, where)


def class_names(categories: Optional[Sequence[str]], count: int) -> list[str]:
    """The names of classes 0..count-1 (``count`` at least the categories): names, else numbers."""
    names = list(categories or [])
    return names + [str(k) for k in range(len(names), count)]


def check_labels(labels: np.ndarray, categories: Optional[Sequence[str]], where: str) -> None:
    """Refuse labels below -1, or naming no category when the categories are known."""
    if labels.size and (int(labels.min()) < -1 or (categories is not None and int(labels.max()) >= len(categories))):
        raise FormatError(f"{where}: labels out of range for the {len(categories or [])} classes; prepare the dataset again")


class Pixels:
    """Turns a stack of (N, H, W, 3) uint8 images into the batch asked for: scaled, standardised, laid out."""

    def __init__(self, normalize: Normalize, layout: Optional[str]):
        self.normalize = bool(normalize) if isinstance(normalize, bool) else True
        self.stats = mean_std(normalize)
        self.layout = check_layout(layout) or "NHWC"

    def __call__(self, images: np.ndarray) -> np.ndarray:
        batch = normalized(images) if self.normalize else images
        if self.stats is not None:
            batch = standardized(batch, self.stats, "NHWC")
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2)) if self.layout == "NCHW" else batch

    def empty(self, size: Optional[tuple[int, int]]) -> np.ndarray:
        """A batch of no images."""
        return self(np.zeros((0, *(size or (0, 0)), 3), dtype=np.uint8))


def collate(samples: Sequence[tuple[Any, Any]]) -> tuple[list[Any], list[Any]]:
    """A ``DataLoader`` batch as two lists (images, targets): what torchvision's detection models take."""
    images, targets = [], []
    for image, target in samples:
        images.append(image)
        targets.append(target)
    return images, targets


def check_resize(resize: object) -> None:
    """Refuse a ``resize`` that is neither None, an int nor a (height, width) pair."""
    if resize is None or (isinstance(resize, (int, np.integer)) and not isinstance(resize, bool)):
        return
    if not (isinstance(resize, (tuple, list)) and len(resize) == 2):
        raise UsageError(f"resize must be (height, width), an int or None, not {resize!r}")


class AnnotatedLoaders:
    """What the loaders of a split of annotated images give, for every kind: a kind (detection,
    segmentation) names its index reader, minibatch reader, torch dataset, statistics, and the
    index column holding the classes each image has."""

    index_of: Callable[[Any], Any]
    reader: Callable[..., Any]
    dataset: Callable[..., Any]
    describe: Callable[[Any, Optional[list[str]]], dict[str, Any]]
    classes: str

    def __init__(self, split: Any):
        self.split = split

    def count(self) -> int:
        """The number of images."""
        return len(self.index_of(self.split))

    def image_size(self, i: int) -> tuple[int, int]:
        """The (height, width) of image ``i``."""
        height, width = (int(v) for v in self.index_of(self.split).sizes[i])
        return height, width

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` decoded."""
        return decode(file_under(self.split.root, self.index_of(self.split).paths[i]))

    def batches(self, *args: Any, epoch: Optional[int] = None, **options: Any) -> IndexBatches[Any]:
        """The next pass of ``batches()`` (or pass ``epoch``)."""
        return self.one_pass(counted_epoch(self.split, epoch), *args, **options)

    def one_pass(
        self, epoch: int, batch_size: int = 16, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, *, rank: Optional[int] = None, world_size: Optional[int] = None,
        distributed: bool = False, **options: Any,
    ) -> IndexBatches[Any]:
        """Pass ``epoch`` of the split's minibatches."""
        reader = self.reader(self.split, **options)
        return IndexBatches(
            len(reader.paths), reader, batch_size=batch_size, shuffle=shuffle, seed=seed, epoch=epoch,
            drop_last=drop_last, rank=rank, world_size=world_size, distributed=distributed,
        )

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of the split (the kind's ``torch_dataset``)."""
        return self.dataset(self.split, **options)

    def stats(self, categories: Optional[list[str]]) -> dict[str, Any]:
        """What ``info`` says of the split."""
        return self.describe(self.split, categories)

    def positions_with(self, label: int) -> np.ndarray:
        """The images holding class ``label`` (an object of it, or pixels of it)."""
        index = self.index_of(self.split)
        image_of = np.repeat(np.arange(len(index)), np.diff(np.asarray(index.offsets)))
        return np.unique(image_of[np.asarray(getattr(index, self.classes)) == label])
