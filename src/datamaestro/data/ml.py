"""Machine-learning task containers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datamaestro.data.base import Base

if TYPE_CHECKING:
    from typing import Any, Optional


class NamedClasses:
    """Mixin of the splits whose integer labels ``categories[k]`` names (a field of theirs)."""

    categories: Optional[list[str]]

    def text_labels(self, indices: Any) -> str | list[str]:
        """The class name of a label, or the list of names of a sequence of labels."""
        from datamaestro.loaders.arrays import text_labels

        return text_labels(self.categories, indices)


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
