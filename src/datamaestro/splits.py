"""The splits of prepared data, their arrays, and what ``info`` reports about them."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from datamaestro.data.base import Base
from datamaestro.data.ml import label_counts
from datamaestro.errors import UsageError

#: the name given to data that is a single split (no train/test)
WHOLE = "all"


def is_split(data: object) -> bool:
    """Whether ``data`` is one split of items: it holds images, or describes itself with ``stats()``."""
    return hasattr(data, "images") or callable(getattr(data, "stats", None))


def splits_of(data: Base) -> dict[str, Base]:
    """The splits of ``data``, by name (``{"all": data}`` when it is one)."""
    if hasattr(data, "splits"):
        found = {k: v for k, v in data.splits().items() if is_split(v)}
        if found:
            return found
    return {WHOLE: data} if is_split(data) else {}


def pick_split(data: Base, dataset_id: str, name: Optional[str]) -> tuple[str, Base]:
    """The split called ``name`` (by default train, else the first one)."""
    splits = splits_of(data)
    if not splits:
        raise UsageError(f"{dataset_id} has no image splits to show")
    if name is None:
        name = "train" if "train" in splits else next(iter(splits))
    if name not in splits:
        raise UsageError(
            f"{dataset_id} has no split '{name}'; its splits are: {', '.join(splits)}"
        )
    return name, splits[name]


def categories_of(data: Base, split: Base) -> Optional[list[str]]:
    """The class names of ``split`` (or of ``data`` when the split has none)."""
    names = getattr(split, "categories", None) or getattr(data, "categories", None)
    return list(names) if names else None


def arrays_of(split: Base) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(images, labels) of a split; labels are None when it has none."""
    images = split.images.data()  # type: ignore[attr-defined]
    labels_data = getattr(split, "labels", None)
    labels = labels_data.data() if labels_data is not None else None
    return images, labels


def count_of(split: Base) -> int:
    """The number of items of a split."""
    images = getattr(split, "images", None)
    if images is not None:
        return int(images.data().shape[0])
    return len(split)  # type: ignore[arg-type]


def has_labels(split: Base) -> bool:
    """Whether the items of a split have classes to pick them by (``label_positions``)."""
    return callable(getattr(split, "positions_with", None)) or getattr(split, "labels", None) is not None


def label_positions(split: Base, label: int) -> np.ndarray:
    """The positions of the items of class ``label``: of that label, or holding an object or
    pixels of that class (kinds with ``positions_with``)."""
    own = getattr(split, "positions_with", None)
    if callable(own):
        return np.asarray(own(label), dtype=np.intp)
    return np.flatnonzero(np.asarray(arrays_of(split)[1]) == label)


def split_stats(split: Base, categories: Optional[list[str]]) -> dict[str, Any]:
    """What ``info`` says of a split: its ``stats(categories)`` when its kind defines one (a dict
    with at least ``count``), else the count, image shape and dtype, and label histogram
    (class name -> count) of its images."""
    own = getattr(split, "stats", None)
    if callable(own):
        facts: dict[str, Any] = own(categories)
        return facts
    images, labels = arrays_of(split)
    stats: dict[str, Any] = {
        "count": int(images.shape[0]),
        "image_shape": [int(d) for d in images.shape[1:]],
        "image_dtype": str(images.dtype),
    }
    if (
        labels is not None
        and labels.ndim == 1
        and labels.dtype.kind in "iu"
        and (labels.size == 0 or int(labels.min()) >= 0)
    ):
        stats["label_dtype"] = str(labels.dtype)
        stats["labels"] = label_counts(labels, categories)
    return stats


def label_index(name: str, categories: Optional[list[str]], dataset_id: str) -> int:
    """The integer label of class ``name`` (a category name, or a number)."""
    if categories:
        if name in categories:
            return categories.index(name)
        folded = [c.lower() for c in categories]
        if name.lower() in folded:
            return folded.index(name.lower())
    if name.isdigit() and (not categories or int(name) < len(categories)):
        return int(name)
    known = ", ".join(categories[:20]) + (", ..." if len(categories) > 20 else "") if categories else ""
    hint = f"; its classes are: {known}" if known else "; give a label number"
    raise UsageError(f"{dataset_id} has no class '{name}'{hint}")
