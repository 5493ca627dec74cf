"""Image classification with two label levels (CIFAR-100's fine and coarse labels)."""

from __future__ import annotations

from typing import Optional

from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.tensor import Tensor


class CoarseLabelledImages(LabelledImages):
    """Labelled images whose classes also belong to superclasses.

    ``labels`` are the fine labels (names in ``categories``); ``coarse_labels``
    the superclass of each image (names in ``coarse_categories``).
    """

    coarse_labels: Tensor
    coarse_categories: Optional[list[str]] = None


class CoarseImageClassification(ImageClassification):
    """Image classification splits with fine ``categories`` and ``coarse_categories``."""

    coarse_categories: Optional[list[str]] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.coarse_categories is not None:
            for split in self.splits().values():
                if isinstance(split, CoarseLabelledImages) and split.coarse_categories is None:
                    split.coarse_categories = list(self.coarse_categories)
