"""Pictures of audio clips: each clip's waveform drawn as an RGB tile, for ``show``'s image grid.

``waveform_tiles`` draws, for each of the tile's columns, the span between the
smallest and largest sample of that stretch of the clip (channels averaged)
around a grey zero line, amplitude 1 at the tile's top and -1 at its bottom.
Its tiles are images: ``datamaestro.viz.grid.show_images(tiles, labels)``
lays them out with their labels as titles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from datamaestro.errors import UsageError

#: the colour of the waveform of each class (label modulo 10), and of unlabelled clips
PALETTE = np.array(
    [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
     [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]],
    dtype=np.uint8,
)
BACKGROUND = 255
ZERO_LINE = 200


def waveform_tiles(
    waveforms: Any,
    labels: Optional[Sequence[int]] = None,
    *,
    height: int = 84,
    width: int = 168,
    normalize: bool = False,
) -> np.ndarray:
    """(N, height, width, 3) uint8 pictures of N waveforms, coloured by label.

    ``waveforms``: a sequence of (frames,) or (channels, frames) arrays (clips
    may differ in length), or one (N, frames) / (N, channels, frames) array,
    floats in [-1, 1]. ``normalize`` scales each clip to its own peak.
    """
    clips = [mono(w) for w in waveforms]
    if height < 3 or width < 2:
        raise UsageError(f"waveform tiles need at least 3x2 pixels, not {height}x{width}")
    if labels is not None and len(labels) != len(clips):
        raise UsageError(f"{len(labels)} labels for {len(clips)} waveforms")
    tiles = np.full((len(clips), height, width, 3), BACKGROUND, dtype=np.uint8)
    for i, clip in enumerate(clips):
        colour = PALETTE[int(labels[i]) % len(PALETTE)] if labels is not None else PALETTE[0]
        draw(tiles[i], clip, colour, normalize)
    return tiles


def mono(waveform: Any) -> np.ndarray:
    """One clip as a 1-d float array (channels averaged)."""
    array = np.asarray(waveform, dtype=np.float32)
    if array.ndim == 2:
        return np.asarray(array.mean(axis=0))
    if array.ndim != 1:
        raise UsageError(f"a waveform is (frames,) or (channels, frames), not {array.ndim}-d")
    return array


def envelope(clip: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and largest sample of each of ``width`` equal stretches of ``clip``."""
    if clip.size == 0:
        return np.zeros(width, np.float32), np.zeros(width, np.float32)
    edges = np.linspace(0, clip.size, width + 1)
    starts = np.minimum(np.floor(edges[:-1]).astype(np.intp), clip.size - 1)
    stops = np.maximum(np.ceil(edges[1:]).astype(np.intp), starts + 1)
    low = np.minimum.reduceat(clip, starts) if clip.size >= width else clip[starts]
    high = np.maximum.reduceat(clip, starts) if clip.size >= width else clip[starts]
    if clip.size >= width:  # reduceat runs to the next start: the stretches already tile the clip
        return low, high
    return np.minimum(low, clip[stops - 1]), np.maximum(high, clip[stops - 1])


def draw(tile: np.ndarray, clip: np.ndarray, colour: np.ndarray, normalize: bool) -> None:
    """Draw ``clip``'s envelope into ``tile`` ((H, W, 3), white) in ``colour``."""
    height, width = tile.shape[:2]
    clip = np.nan_to_num(clip)
    peak = float(np.abs(clip).max()) if normalize and clip.size else 0.0
    if peak > 0:
        clip = clip / peak
    low, high = envelope(np.clip(clip, -1.0, 1.0), width)
    half = (height - 1) / 2
    top = np.round(half - high * half).astype(np.intp)  # amplitude 1 at row 0
    bottom = np.round(half - low * half).astype(np.intp)
    tile[int(round(half)), :] = ZERO_LINE
    rows = np.arange(height)[:, None]
    tile[(rows >= top[None, :]) & (rows <= bottom[None, :])] = colour
