"""Image datasets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from datamaestro.data.base import Base
from datamaestro.data.ml import Supervised


@dataclass(kw_only=True)
class LabelledImages(Base):
    """Images with one integer label each (``images[i]`` has ``labels[i]``)."""

    images: Base
    labels: Base
    categories: Optional[list[str]] = None


@dataclass(kw_only=True)
class ImageClassification(Supervised):
    """Image classification splits; ``categories[k]`` names label ``k``."""

    categories: Optional[list[str]] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        # Each split carries the class names too, so it is usable on its own.
        if self.categories is not None:
            for split in self.splits().values():
                if isinstance(split, LabelledImages) and split.categories is None:
                    split.categories = list(self.categories)
