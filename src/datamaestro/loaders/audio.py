"""The loaders of audio clips: the index written at prepare time, fixed-length batches, PyTorch, stats.

The index (``datamaestro.data.audio``) lists the clip files of a split with
their labels and headers (frames, sample rate, channels), read when it is
written. Clips are decoded (``datamaestro.formats.audio``) only when asked
for, a batch at a time, then resampled, mixed to mono, and cropped or padded
to one length.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from datamaestro.data.audio import AudioClips, clip_path, index_files, texts_file
from datamaestro.data.loading import register
from datamaestro.data.ml import label_counts
from datamaestro.errors import FormatError, UsageError
from datamaestro.formats.audio import audio_info, read_audio
from datamaestro.formats.wav import MAX_SAMPLES
from datamaestro.loaders.arrays import one_hot_rows
from datamaestro.loaders.decoding import default_workers
from datamaestro.loaders.passes import IndexBatches, counted_epoch
from datamaestro.loaders.torch import batch_loader, import_torch
from datamaestro.optional import require
from datamaestro.paths import inside

#: what a clip is labelled with: one class, or a sequence of classes
Label = Union[int, Sequence[int]]
CROPS = ("start", "center", "random")

# -- the index, written at prepare time ----------------------------------------------------


def write_index(
    folder: Path,
    split: str,
    root: Path,
    items: Iterable[tuple[str, Label]],
    *,
    texts: Optional[Sequence[str]] = None,
    workers: Optional[int] = None,
) -> int:
    """Write the index of ``split`` into ``folder``: ``items`` are (path relative to ``root``, label).

    Every path must name a regular file inside ``root`` (no absolute path, no
    ``..``, no link leading out); its header gives the frames, sample rate and
    channels. ``texts``: one transcript per item. Returns the number of clips.
    """
    items = list(items)
    paths = [checked_clip(root, rel) for rel, _ in items]
    with ThreadPoolExecutor(workers or default_workers()) as pool:
        infos = list(pool.map(audio_info, paths))
    files, labels_file, headers_file = index_files(folder, split)
    files.write_text("".join(f"{rel}\n" for rel, _ in items), encoding="utf-8")
    np.save(labels_file, np.array([label for _, label in items], dtype=np.int64))
    headers = [(i.frames, i.sample_rate, i.channels) for i in infos]
    np.save(headers_file, np.array(headers, dtype=np.int64).reshape(-1, 3))
    if texts is not None:
        if len(texts) != len(items) or any("\n" in t or "\r" in t for t in texts):
            raise FormatError(f"{folder}: {len(texts)} transcripts for {len(items)} clips, or one spans lines")
        texts_file(folder, split).write_text("".join(f"{t}\n" for t in texts), encoding="utf-8")
    return len(items)


def checked_clip(root: Path, rel: str) -> Path:
    """``root / rel`` after checking that it is a file inside ``root`` (links followed)."""
    path = clip_path(root, rel, root)
    if not Path(inside(root, path)).is_file():
        raise FormatError(f"{root}: the clip {rel!r} listed by the dataset is missing")
    return path


# -- decoding clips into fixed-length arrays --------------------------------------------------


def resample(waveform: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``waveform`` ((channels, frames)) resampled from ``rate`` to ``target`` Hz (scipy's ``resample_poly``)."""
    if rate == target:
        return waveform
    signal = require("scipy.signal", "resampling audio", "scipy", "mat")
    g = math.gcd(rate, target)
    return np.asarray(signal.resample_poly(waveform, target // g, rate // g, axis=-1), dtype=np.float32)


def resampled_frames(frames: np.ndarray, rates: np.ndarray, target: Optional[int]) -> np.ndarray:
    """The frame counts of clips once resampled to ``target`` (as ``resample_poly`` gives them)."""
    if target is None:
        return frames
    return -((-frames * target) // rates)  # ceil(frames * target / rate)


def window(frames: int, length: int, crop: str, rng: Optional[np.random.Generator]) -> int:
    """Where a clip of ``frames`` is cropped to ``length``: its first kept frame."""
    if frames <= length or crop == "start":
        return 0
    if crop == "center":
        return (frames - length) // 2
    assert rng is not None
    return int(rng.integers(0, frames - length + 1))


def check_headers(split: AudioClips, headers: np.ndarray) -> None:
    """Refuse headers (frames, rate, channels) that no clip has: negative frames, no rate or channel, over the bound."""
    where = getattr(split.headers, "path", split.files)
    if headers.ndim != 2 or headers.shape[1] != 3 or headers.dtype.kind not in "iu":
        raise FormatError(f"{where}: expected (N, 3) integer headers; prepare the dataset again")
    if len(headers) and (
        int(headers[:, 0].min()) < 0 or int(headers[:, 1:].min()) < 1
        or int((headers[:, 0].astype(np.float64) * headers[:, 2]).max()) > MAX_SAMPLES
    ):
        raise FormatError(f"{where}: clip headers out of range (frames, sample rate, channels); prepare the dataset again")


def clip_file(split: AudioClips, path: Path) -> Path:
    """A clip file of ``split``, refused when a link leads it out of the split's root."""
    return Path(inside(split.root, path))


class ClipLoader:
    """Turns positions of an ``AudioClips`` split into ``(waveforms, labels[, transcripts])`` arrays."""

    def __init__(
        self, split: AudioClips, *, length: Optional[int] = None, sample_rate: Optional[int] = None,
        mono: bool = True, crop: str = "start", seed: Optional[int] = None, epoch: int = 0,
        one_hot: bool = False, workers: Optional[int] = None, max_samples: Optional[int] = None,
    ):
        if crop not in CROPS:
            raise UsageError(f"crop must be one of {', '.join(CROPS)}, not {crop!r}")
        self.paths = split.paths()
        self.labels = np.asarray(split.labels.data())
        headers = np.asarray(split.headers.data())
        self.where, self.root = str(split.root), split.root
        if not len(self.paths) == len(self.labels) == len(headers):
            raise FormatError(f"{split.files}: the index lists {len(self.paths)} clips but {len(self.labels)} labels "
                              f"and {len(headers)} headers; prepare the dataset again")
        check_headers(split, headers)
        self.sample_rate = sample_rate or self.one_value(headers[:, 1], "sample rates", "sample_rate=")
        self.length = length or self.one_value(resampled_frames(headers[:, 0], headers[:, 1], sample_rate), "lengths", "length=")
        self.channels = None if mono else self.one_value(headers[:, 2], "channel counts", "mono=True")
        self.mono, self.crop, self.seed, self.epoch = mono, crop, seed, epoch
        # one thread by default: reading WAV is Python (``wave``) holding the GIL, and two threads
        # were slower than one (benchmarks/audio.py); FLAC/OGG through soundfile may gain from more
        self.workers = workers or 1
        self.max_samples = max_samples
        self.classes = len(split.categories or []) if one_hot else 0
        if one_hot and not self.classes:
            raise UsageError("one_hot needs the class names (categories) of the split")
        texts = getattr(split, "texts", None)
        self.texts: Optional[list[str]] = texts() if callable(texts) else None
        if self.texts is not None and len(self.texts) != len(self.paths):
            raise FormatError(f"{split.files}: {len(self.texts)} transcripts for {len(self.paths)} clips; prepare the dataset again")

    def one_value(self, values: np.ndarray, what: str, option: str) -> int:
        """The one value every clip has (0 for no clips), or an error naming the option to pass."""
        distinct = np.unique(values)
        if len(distinct) > 1:
            raise UsageError(
                f"{self.where}: the clips have several {what} (from {distinct[0]} to {distinct[-1]}); pass {option}"
            )
        return int(distinct[0]) if len(distinct) else 0

    def clip(self, position: int) -> np.ndarray:
        """Clip ``position`` decoded, resampled, mixed and cropped: (frames,) or (channels, frames),
        at most ``length`` frames (the caller pads)."""
        waveform, rate = read_audio(Path(inside(self.root, self.paths[position])), self.max_samples)
        if self.sample_rate:
            waveform = resample(waveform, rate, self.sample_rate)
        if self.mono:
            waveform = waveform[0] if waveform.shape[0] == 1 else waveform.mean(axis=0, dtype=np.float32)
        elif waveform.shape[0] != self.channels:
            raise FormatError(f"{self.paths[position]}: {waveform.shape[0]} channels, not the {self.channels} of its header")
        frames = waveform.shape[-1]
        rng = np.random.default_rng(None if self.seed is None else [self.seed, self.epoch, position]) if self.crop == "random" else None
        start = window(frames, self.length, self.crop, rng)
        return waveform[..., start : start + self.length]

    def __call__(self, where: Union[slice, np.ndarray]) -> tuple[Any, ...]:
        positions = np.arange(len(self.paths))[where].tolist()
        if self.workers > 1 and len(positions) > 1:
            with ThreadPoolExecutor(min(self.workers, len(positions))) as pool:
                clips = list(pool.map(self.clip, positions))
        else:
            clips = [self.clip(p) for p in positions]
        waveforms = np.zeros((len(positions), *(() if self.mono else (self.channels,)), self.length), dtype=np.float32)
        for row, clip in zip(waveforms, clips):  # zero-padded at the end
            row[..., : clip.shape[-1]] = clip
        labels = self.labels[positions]
        if self.classes:
            labels = one_hot_rows(labels, self.classes)
        if self.texts is None:
            return waveforms, labels
        return waveforms, labels, [self.texts[p] for p in positions]


# -- PyTorch -----------------------------------------------------------------------------------


def torch_dataset(split: AudioClips, **options: Any) -> Any:
    """A ``torch.utils.data.Dataset`` over audio clips: ``dataset[i]`` is ``(waveform tensor, label)``
    (with the transcript for transcribed speech), ``dataset[indices]`` a whole batch, and
    ``dataset.loader(...)`` a ``DataLoader`` of such batches; ``options`` as ``ClipLoader``."""
    return clip_dataset_class()(ClipLoader(split, **options))


def rebuild(loader: ClipLoader) -> Any:
    """A ``ClipDataset`` again, after pickling (DataLoader workers started by spawn)."""
    return clip_dataset_class()(loader)


@functools.cache
def clip_dataset_class() -> type:
    """``ClipDataset``, a ``torch.utils.data.Dataset`` of decoded clips."""
    torch = import_torch()

    class ClipDataset(torch.utils.data.Dataset):  # type: ignore[name-defined]
        """Audio clips decoded into tensors, a batch at a time."""

        def __init__(self, loader: ClipLoader):
            self.clips = loader

        def __len__(self) -> int:
            return len(self.clips.paths)

        def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
            return rebuild, (self.clips,)

        def __getitem__(self, index: Any) -> tuple[Any, ...]:
            single = isinstance(index, (int, np.integer))
            if single and not -len(self) <= index < len(self):
                raise IndexError(f"index {index} is out of range for {len(self)} clips")
            if isinstance(index, torch.Tensor):
                index = index.numpy()
            batch = self.clips(np.atleast_1d(np.asarray(index, dtype=np.intp)) % max(len(self), 1))
            waveforms, labels = torch.from_numpy(batch[0]), torch.from_numpy(np.asarray(batch[1]))
            rest = batch[2:]
            if single:
                label = labels[0] if labels.ndim > 1 else int(labels[0])
                return (waveforms[0], label, *(r[0] for r in rest))
            return (waveforms, labels, *rest)

        loader = batch_loader

    return ClipDataset


# -- what info says, and the loaders registered for audio clips -------------------------------


def stats(split: AudioClips, categories: Optional[list[str]]) -> dict[str, Any]:
    """Count, durations (seconds), sample rates and channel counts (value -> clips), and per-class counts."""
    headers = np.asarray(split.headers.data()).reshape(-1, 3)
    frames, rates, channels = headers[:, 0], headers[:, 1], headers[:, 2]
    durations = frames / np.maximum(rates, 1)
    return {
        "count": int(headers.shape[0]),
        "duration_seconds": round(float(durations.sum()), 3),
        "min_duration_seconds": round(float(durations.min()), 3) if len(durations) else 0.0,
        "max_duration_seconds": round(float(durations.max()), 3) if len(durations) else 0.0,
        "sample_rates": tallies(rates),
        "channels": tallies(channels),
        "labels": label_counts(split.labels.data(), categories),
    }


def tallies(values: np.ndarray) -> dict[str, int]:
    """How many times each value occurs (value as text -> count), in increasing order."""
    distinct, counts = np.unique(values, return_counts=True)
    return {str(int(v)): int(c) for v, c in zip(distinct, counts)}


class AudioLoaders:
    """What the loaders of ``AudioClips`` give (``waveform()``, ``arrays()``, ``batches()``...)."""

    def __init__(self, split: AudioClips):
        self.split = split

    def waveform(self, i: int) -> tuple[np.ndarray, int]:
        """Clip ``i`` decoded, at its own rate."""
        return read_audio(clip_file(self.split, self.split.paths()[i]))

    def arrays(self, **options: Any) -> tuple[Any, ...]:
        """The whole split decoded (options of ``ClipLoader``)."""
        return ClipLoader(self.split, **options)(slice(None))

    def batches(self, *args: Any, epoch: Optional[int] = None, **options: Any) -> IndexBatches[tuple[Any, ...]]:
        """The next pass of ``batches()`` on this split (or pass ``epoch``)."""
        return self.one_pass(counted_epoch(self.split, epoch), *args, **options)

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, *, rank: Optional[int] = None, world_size: Optional[int] = None,
        distributed: bool = False, **options: Any,
    ) -> IndexBatches[tuple[Any, ...]]:
        """Pass ``epoch`` of the split's minibatches, decoded batch by batch."""
        loader = ClipLoader(self.split, seed=seed, epoch=epoch, **options)
        return IndexBatches(
            len(loader.paths), loader, batch_size=batch_size, shuffle=shuffle, seed=seed, epoch=epoch,
            drop_last=drop_last, rank=rank, world_size=world_size, distributed=distributed,
        )

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of the split (``torch_dataset``)."""
        return torch_dataset(self.split, **options)

    def stats(self, categories: Optional[list[str]]) -> dict[str, Any]:
        """What ``info`` says of the split."""
        return stats(self.split, categories)


register(AudioClips, AudioLoaders)
