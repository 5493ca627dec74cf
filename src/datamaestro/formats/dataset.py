"""An in-memory labelled image dataset: what every layout reader returns and every writer takes.

Images are numpy uint8 arrays, one of two layouts per image: ``(H, W)`` for
grey-scale, ``(C, H, W)`` for colour (C = 3, RGB, channel first as CIFAR
publishes them). A subset holds them stacked (``(N, H, W)`` or
``(N, C, H, W)``) when they all have one shape, else as a list. Channel-last
images (``(H, W, 3)``, Datumaro's layout) are transposed on the way in; a shape
that could be either is refused. ``images=None`` means the items have no
pixels (an export made without media): labels and ids only.
Labels are int64 indexes into ``categories``; -1 means "no label".
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.paths import printable

NO_LABEL = -1
DEFAULT_SUBSET = "default"

Images = Union[np.ndarray, list]


@dataclass
class Subset:
    """The items of one subset (train, test...): images, labels and ids."""

    #: the pixels; None when the items have none (labels and ids only)
    images: Optional[Images]
    labels: np.ndarray
    #: item ids; None means "0", "1", ... (the MNIST convention)
    ids: Optional[list[str]] = None

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        if self.images is not None:
            self.images = channel_first(self.images)
        if self.images is not None and len(self.images) != len(self.labels):
            raise FormatError(
                f"{len(self.images)} images but {len(self.labels)} labels in one subset"
            )
        if self.ids is not None and len(self.ids) != len(self.labels):
            raise FormatError(f"{len(self.ids)} ids but {len(self.labels)} labels in one subset")

    def __len__(self) -> int:
        return len(self.labels)

    def item_ids(self) -> list[str]:
        """The id of every item (default: its position)."""
        return list(self.ids) if self.ids is not None else [str(i) for i in range(len(self))]

    def default_ids(self) -> bool:
        """Whether the ids are the positions "0", "1", ..."""
        return self.ids is None or all(x == str(i) for i, x in enumerate(self.ids))

    @property
    def has_media(self) -> bool:
        """Whether the items have pixels."""
        return self.images is not None

    def stacked(self) -> Optional[np.ndarray]:
        """All images as one array when they share a shape (else None)."""
        if self.images is None:
            return None
        if isinstance(self.images, np.ndarray):
            return self.images
        if not self.images:
            return None
        shape = self.images[0].shape
        if all(im.shape == shape for im in self.images):
            return np.stack(self.images)
        return None

    def select(self, mask: np.ndarray) -> Subset:
        """The items where ``mask`` is true."""
        mask = np.asarray(mask, dtype=bool)
        images: Optional[Images]
        if self.images is None:
            images = None
        elif isinstance(self.images, list):
            images = [im for im, keep in zip(self.images, mask) if keep]
        else:  # arrays, and lazy sequences (image folders) that select without decoding
            images = self.images[mask]
        ids = [x for x, keep in zip(self.item_ids(), mask) if keep]
        return Subset(images, self.labels[mask], ids)


#: channel counts of an image axis
CHANNELS = (1, 3, 4)


def channel_first(images: Images) -> Images:
    """``images`` as uint8 ``(N, H, W)``/``(N, C, H, W)`` arrays (or a list of ``(H, W)``/``(C, H, W)``).

    Channel-last images (Datumaro's ``(H, W, 3)``) are transposed; a shape
    whose first and last axes could both be channels is refused. Non-uint8
    values must be whole numbers in 0..255.
    """
    if isinstance(images, np.ndarray) and images.dtype != object:
        array = images
        if array.ndim == 4:
            if _is_channel_last(array.shape[1:]):
                array = array.transpose(0, 3, 1, 2)
        elif array.ndim != 3 and not (array.ndim == 1 and len(array) == 0):
            raise FormatError(
                f"images of shape {array.shape}: expected (N, H, W), (N, C, H, W) or (N, H, W, C)"
            )
        return _uint8(array)
    out = []
    for i, item in enumerate(images):
        image = np.asarray(item)
        if image.ndim == 3 and _is_channel_last(image.shape, i):
            image = image.transpose(2, 0, 1)
        elif image.ndim not in (2, 3):
            raise FormatError(f"image {i} has shape {image.shape}: expected (H, W), (C, H, W) or (H, W, C)")
        out.append(_uint8(image))
    if out and all(im.shape == out[0].shape for im in out):
        return np.stack(out)
    return out


def _is_channel_last(shape: tuple[int, ...], index: Optional[int] = None) -> bool:
    """Whether an image of ``shape`` (3 axes) is ``(H, W, C)``; raises if it cannot be told."""
    first, last = shape[0] in CHANNELS, shape[-1] in CHANNELS
    if first and not last:
        return False
    if last and not first:
        return True
    which = "images" if index is None else f"image {index}"
    if first and last:
        raise FormatError(
            f"{which} of shape {tuple(shape)} could be channel first (C, H, W) or channel last "
            "(H, W, C); transpose them to (C, H, W) before writing"
        )
    raise FormatError(f"{which} of shape {tuple(shape)}: no axis of 1, 3 or 4 channels")


def _uint8(images: np.ndarray) -> np.ndarray:
    """``images`` as uint8, refusing values that are not whole numbers in 0..255."""
    if images.dtype == np.uint8:
        return images
    if images.dtype.kind not in "biuf":
        raise FormatError(f"images of dtype {images.dtype}: expected numbers 0..255")
    if images.size:
        low, high = images.min(), images.max()
        if low < 0 or high > 255 or (images.dtype.kind == "f" and not np.array_equal(images, np.round(images))):
            raise FormatError(
                f"pixel values must be whole numbers in 0..255 (got {images.dtype} values from {low} to {high})"
            )
    return images.astype(np.uint8)


@dataclass
class Dataset:
    """Subsets by name, class names, and optional superclasses (CIFAR-100's coarse labels)."""

    subsets: dict[str, Subset]
    categories: list[str]
    #: the superclass name of each category ("" for none), as Datumaro's label parents
    parents: Optional[list[str]] = None
    #: superclass names in index order (default: the sorted parents, as Datumaro writes them)
    coarse_categories: Optional[list[str]] = field(default=None)

    def __iter__(self) -> Iterator[tuple[str, Subset]]:
        return iter(self.subsets.items())

    def __len__(self) -> int:
        return sum(len(s) for s in self.subsets.values())

    def coarse_names(self) -> list[str]:
        """Superclass names in index order ([] without superclasses)."""
        if not self.parents or not any(self.parents):
            return []
        used = sorted({p for p in self.parents if p})
        if self.coarse_categories and set(used) <= set(self.coarse_categories):
            return list(self.coarse_categories)
        return used

    def coarse_labels(self, subset: Subset) -> Optional[np.ndarray]:
        """The superclass index of every item of ``subset`` (-1 without one); None without superclasses."""
        names = self.coarse_names()
        if not names:
            return None
        index = {name: i for i, name in enumerate(names)}
        table = np.array([index.get(p, NO_LABEL) for p in self.parents or []] + [NO_LABEL], dtype=np.int64)
        return table[subset.labels]  # label -1 picks the trailing NO_LABEL

    def check_labels(self, where: str) -> None:
        """Raise if a label is outside the category list."""
        for name, subset in self.subsets.items():
            bad = (subset.labels < NO_LABEL) | (subset.labels >= len(self.categories))
            if bad.any():
                i = int(np.argmax(bad))
                raise FormatError(
                    f"{where}: item {printable(repr(subset.item_ids()[i]))} of subset '{printable(name)}' has label "
                    f"{int(subset.labels[i])}, outside the {len(self.categories)} known labels"
                )


def default_categories() -> list[str]:
    """The class names MNIST-like layouts assume without a label file: '0'..'9'."""
    return [str(i) for i in range(10)]


META_FILE = "dataset_meta.json"
LABELS_FILE = "labels.txt"


def read_label_names(folder: Path) -> Optional[list[str]]:
    """Custom class names from ``dataset_meta.json`` (wins) or ``labels.txt``; None if neither."""
    meta = folder / META_FILE
    if meta.is_file():
        try:
            content = json.loads(meta.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise FormatError(f"{meta}: not valid JSON ({e})") from None
        if not isinstance(content, dict):
            raise FormatError(f"{meta}: expected a JSON object with 'labels' or 'label_map'")
        names: list[str] = []
        for name in content.get("labels", []) or []:
            if str(name) not in names:
                names.append(str(name))
        for _, name in (content.get("label_map", {}) or {}).items():
            if str(name) not in names:
                names.append(str(name))
        return names
    labels = folder / LABELS_FILE
    if labels.is_file():
        lines = labels.read_text(encoding="utf-8").splitlines()
        return [line.strip() for line in lines if line.strip()]
    return None


def check_line_names(names: Sequence[str], file: str, separators: str = "") -> None:
    """Refuse class names that cannot be written one per line in ``file`` (a line break, or one
    of the ``separators`` of its fields): read back, they would shift every label after them."""
    for name in names:
        bad = [c for c in "\n\r" + separators if c in str(name)]
        if bad:
            raise FormatError(
                f"the class name {printable(repr(str(name)))} cannot be written in {file}: it holds {bad[0]!r}; "
                "rename the class first"
            )


def write_label_names(folder: Path, categories: Sequence[str], *, save_dataset_meta: bool) -> None:
    """Write ``labels.txt`` and, when asked, ``dataset_meta.json`` (as Datumaro does)."""
    check_line_names(categories, LABELS_FILE)
    (folder / LABELS_FILE).write_text("".join(f"{c}\n" for c in categories), encoding="utf-8")
    if save_dataset_meta:
        write_dataset_meta(folder, categories)


def write_dataset_meta(folder: Path, categories: Sequence[str]) -> None:
    """Write Datumaro's ``dataset_meta.json`` with the class names."""
    text = json.dumps({"labels": list(categories)}, indent=4, ensure_ascii=False)
    (folder / META_FILE).write_text(text + "\n", encoding="utf-8")


def to_grey(image: np.ndarray) -> np.ndarray:
    """An ``(H, W)`` grey image from an ``(H, W)`` or ``(C, H, W)`` one.

    Colour becomes its ITU-R 601 luma exactly as Pillow's ``convert("L")``
    computes it: ``(R*19595 + G*38470 + B*7471 + 2**15) >> 16``.
    """
    if image.ndim == 2:
        return image
    return to_grey_stack(image)


def to_grey_stack(images: np.ndarray) -> np.ndarray:
    """The luma of colour images whose channel axis is third from the end."""
    if images.shape[-3] == 1:
        return images[..., 0, :, :]
    r, g, b = (images[..., i, :, :].astype(np.uint32) for i in range(3))
    return luma(r, g, b).astype(np.uint8)


def luma(r: Any, g: Any, b: Any) -> Any:
    """ITU-R 601 luma of 0..255 values (ints or uint32 arrays), rounded exactly as Pillow's ``L`` mode."""
    return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16


def to_rgb(image: np.ndarray) -> np.ndarray:
    """A ``(3, H, W)`` colour image (grey replicated on the three channels)."""
    if image.ndim == 2:
        return np.broadcast_to(image, (3, *image.shape))
    if image.shape[0] == 1:
        return np.broadcast_to(image[0], (3, *image.shape[1:]))
    return image[:3]
