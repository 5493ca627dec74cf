"""Machine-learning task containers, and the class names of labelled splits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

from datamaestro.data.base import Base
from datamaestro.errors import UsageError


class NamedClasses:
    """Mixin of the splits whose integer labels ``categories[k]`` names (a field of theirs)."""

    categories: Optional[list[str]]

    def text_labels(self, indices: Any) -> str | list[str]:
        """The class name of a label, or the list of names of a sequence of labels."""
        return text_labels(self.categories, indices)


def label_counts(labels: Any, categories: Optional[Sequence[str]] = None) -> dict[str, int]:
    """How many items have each label (its class name, else its number), labels below 0
    ("no label") left out; every category appears, even with no item."""
    import numpy as np  # (only here: describing data does not need numpy)

    values = np.asarray(labels, dtype=np.int64).reshape(-1)
    known = values[values >= 0]
    counts = np.bincount(known, minlength=len(categories or []))
    return {(categories[k] if categories and k < len(categories) else str(k)): int(c) for k, c in enumerate(counts)}


def text_labels(categories: Optional[Sequence[str]], indices: object) -> str | list[str]:
    """The class name of one label, or the names of a sequence of labels.

    A 2-d array (one-hot rows, or scores) gives the name of each row's largest entry.
    """
    import numpy as np  # (only here: describing data does not need numpy)

    if not categories:
        raise UsageError("this split has no class names (categories); text_labels needs them")
    array = np.asarray(indices)
    if array.ndim == 2:
        array = array.argmax(axis=1)
    if array.dtype.kind not in "ui" or array.ndim > 1:
        raise UsageError(f"text_labels expects integer labels, not {array.ndim}-d {array.dtype}")
    flat = array.reshape(-1)
    bad = flat[(flat < 0) | (flat >= len(categories))]
    if bad.size:
        raise UsageError(
            f"label {bad[0]} is outside the {len(categories)} classes (0 to {len(categories) - 1})"
        )
    names = [categories[i] for i in flat.tolist()]
    return names[0] if array.ndim == 0 else names


class Supervised(Base):
    """A supervised learning dataset: train, test and optional validation splits."""

    train: Optional[Base] = None
    test: Optional[Base] = None
    validation: Optional[Base] = None

    def splits(self) -> dict[str, Base]:
        """The splits that are present, by name."""
        return {
            name: split
            for name, split in (
                ("train", self.train),
                ("test", self.test),
                ("validation", self.validation),
            )
            if split is not None
        }


def share_categories(data: Supervised, names: Optional[list[str]], split_type: type) -> None:
    """Give every split of type ``split_type`` that has no class names a copy of ``names``,
    so that each split is usable on its own."""
    if names is None:
        return
    for split in data.splits().values():
        if isinstance(split, split_type) and getattr(split, "categories", None) is None:
            split.categories = list(names)  # type: ignore[attr-defined]
