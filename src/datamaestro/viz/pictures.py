"""The one place where the pictures of a split's items are chosen by its kind, for ``datamaestro show``.

Detection splits show their boxes, segmentation splits their class masks,
audio clips their waveforms, every other split its images (``images``) titled with their labels. A new
kind with its own pictures adds its branch to ``pictures``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from datamaestro.data.audio import AudioClips
from datamaestro.data.detection import ObjectDetection
from datamaestro.data.segmentation import Segmentation
from datamaestro.viz.annotations import detection_tiles, segmentation_tiles
from datamaestro.viz.waveform import waveform_tiles


def pictures(split: Any, indices: np.ndarray, categories: Optional[Sequence[str]] = None) -> tuple[np.ndarray, Optional[list[Any]]]:
    """The pictures of the items of ``split`` at ``indices`` (a batch of images), and their
    titles (labels, or None)."""
    positions = [int(i) for i in np.asarray(indices).reshape(-1)]
    if isinstance(split, ObjectDetection):
        return detection_tiles(split, positions, categories), None
    if isinstance(split, Segmentation):
        return segmentation_tiles(split, positions), None
    if isinstance(split, AudioClips):
        return audio_tiles(split, positions)
    chosen = np.asarray(split.images.data()[np.asarray(positions, dtype=np.intp)])
    labels = getattr(split, "labels", None)
    if labels is None:
        return chosen, None
    return chosen, np.asarray(labels.data()[np.asarray(positions, dtype=np.intp)]).tolist()


def audio_tiles(split: AudioClips, positions: list[int]) -> tuple[np.ndarray, list[Any]]:
    """Waveform pictures of clips, coloured by label, titled with their labels (a row of
    several labels, as yesno's, titled with its digits)."""
    waves = [split.waveform(i)[0] for i in positions]
    rows = np.asarray(split.labels.data()[np.asarray(positions, dtype=np.intp)])
    if rows.ndim == 1:
        titles: list[Any] = rows.tolist()
        return waveform_tiles(waves, titles), titles
    return waveform_tiles(waves), ["".join(str(int(v)) for v in row) for row in rows]
