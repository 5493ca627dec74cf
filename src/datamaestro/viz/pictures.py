"""The one place where the pictures of a split's items are chosen by its kind, for ``datamaestro show``.

Detection splits show their boxes, segmentation splits their class masks,
every other split its images (``images``) titled with their labels. A new
kind with its own pictures adds its branch to ``pictures``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from datamaestro.data.detection import ObjectDetection
from datamaestro.data.segmentation import Segmentation
from datamaestro.viz.annotations import detection_tiles, segmentation_tiles


def pictures(split: Any, indices: np.ndarray, categories: Optional[Sequence[str]] = None) -> tuple[np.ndarray, Optional[list[Any]]]:
    """The pictures of the items of ``split`` at ``indices`` (a batch of images), and their
    titles (labels, or None)."""
    positions = [int(i) for i in np.asarray(indices).reshape(-1)]
    if isinstance(split, ObjectDetection):
        return detection_tiles(split, positions, categories), None
    if isinstance(split, Segmentation):
        return segmentation_tiles(split, positions), None
    chosen = np.asarray(split.images.data()[np.asarray(positions, dtype=np.intp)])
    labels = getattr(split, "labels", None)
    if labels is None:
        return chosen, None
    return chosen, np.asarray(labels.data()[np.asarray(positions, dtype=np.intp)]).tolist()
