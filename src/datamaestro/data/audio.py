"""Audio clips (WAV, FLAC, OGG files) with labels, decoded when read; audio classification splits.

An index of one split is written at prepare time by
``datamaestro.loaders.audio.write_index`` into a folder: ``<split>.txt`` (the
clip paths relative to the root, one per line, UTF-8), ``<split>_labels.npy``
(int64: (N,) one class per clip, or (N, K) a sequence of K labels per clip),
``<split>_audio.npy`` ((N, 3) int64: frames, sample rate and channels of each
clip, read from its header) and, for transcribed speech, ``<split>_texts.txt``
(one transcript per line). The loaders (``waveform``, ``arrays``, ``batches``,
``to_torch``, ``stats``) are those ``datamaestro.loaders.audio`` registers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from datamaestro.data.base import Base
from datamaestro.data.loading import Pass, loaders_for
from datamaestro.data.ml import NamedClasses, Supervised, share_categories
from datamaestro.data.npy import NPY
from datamaestro.data.tensor import Tensor
from datamaestro.errors import FormatError, UnsafePathError
from datamaestro.paths import read_inside

if TYPE_CHECKING:  # (numpy is imported when data is read, not to describe it)
    import numpy as np

#: a batch: (waveforms, labels), or (waveforms, labels, transcripts) for transcribed speech
AudioBatch = tuple[Any, ...]


#: the largest clip list or transcript file of an index (bytes)
MAX_INDEX = 1 << 30


def index_files(folder: Path, split: str) -> tuple[Path, Path, Path]:
    """The paths, labels and headers files of ``split``'s index in ``folder``."""
    return folder / f"{split}.txt", folder / f"{split}_labels.npy", folder / f"{split}_audio.npy"


def texts_file(folder: Path, split: str) -> Path:
    """The transcripts file of ``split``'s index in ``folder``."""
    return folder / f"{split}_texts.txt"


def read_lines(path: Path, what: str) -> list[str]:
    """The lines of an index file (UTF-8; a link, a FIFO or a file over ``MAX_INDEX`` bytes is refused)."""
    try:
        data = read_inside(path.parent, path, MAX_INDEX)
        if data is None:
            raise FileNotFoundError(f"no such file: {path.name}")
        return data.decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError, UnsafePathError) as e:
        raise FormatError(f"{path}: cannot read the {what} ({e}); prepare the dataset again") from None


def clip_path(root: Path, rel: str, index: Path) -> Path:
    """``root / rel`` for a relative path of an index; a path leading out of ``root`` is refused."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts):
        raise FormatError(f"{index}: refused clip path {rel!r}: not a plain path inside the dataset folder")
    return root.joinpath(*parts)


class AudioClips(Base, NamedClasses):
    """Audio files under ``root`` with one integer label each (``categories[k]`` names label ``k``).

    ``files`` lists the clip paths relative to ``root``; ``labels`` and
    ``headers`` ((N, 3): frames, sample rate, channels) are arrays in the same
    order, recorded at prepare time. Clips may differ in length, rate and
    channels: ``arrays`` and ``batches`` crop or pad them to one ``length``
    and can resample them to one ``sample_rate``.
    """

    root: Path
    files: Path
    labels: Tensor
    headers: Tensor
    categories: Optional[list[str]] = None

    @classmethod
    def from_index(cls, root: Path, index: Path, split: str, categories: Optional[list[str]] = None) -> Any:
        """The split ``split`` of the clips under ``root``, from the index written into the folder ``index``."""
        files, labels, headers = index_files(index, split)
        return cls(root=root, files=files, labels=NPY(path=labels), headers=NPY(path=headers), categories=categories)

    def __len__(self) -> int:
        return len(self.paths())

    def paths(self) -> list[Path]:
        """The clip files, in label order (read once from the index)."""
        cached = self.__dict__.get("_paths")
        if cached is None:
            cached = [clip_path(self.root, rel, self.files) for rel in read_lines(self.files, "clip index")]
            self.__dict__["_paths"] = cached
        return cached

    def frames(self) -> np.ndarray:
        """(N,) int64: the number of frames of every clip."""
        return self.headers.data()[:, 0]

    def sample_rates(self) -> np.ndarray:
        """(N,) int64: the sample rate of every clip, in Hz."""
        return self.headers.data()[:, 1]

    def waveform(self, i: int) -> tuple[np.ndarray, int]:
        """Clip ``i`` decoded: float32 ``(channels, frames)`` in [-1, 1], and its sample rate."""
        return loaders_for(self).waveform(i)

    def arrays(
        self, length: Optional[int] = None, sample_rate: Optional[int] = None, mono: bool = True, **options: Any
    ) -> AudioBatch:
        """``(waveforms, labels)`` of the whole split, decoded into memory: (N, length) float32 when
        ``mono`` (channels averaged), else (N, channels, length). Options as ``batches``."""
        return loaders_for(self).arrays(length=length, sample_rate=sample_rate, mono=mono, **options)

    def batches(
        self,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: Optional[int] = None,
        drop_last: bool = False,
        *,
        length: Optional[int] = None,
        sample_rate: Optional[int] = None,
        mono: bool = True,
        crop: str = "start",
        one_hot: bool = False,
        epoch: Optional[int] = None,
        workers: Optional[int] = None,
        rank: Optional[int] = None,
        world_size: Optional[int] = None,
        distributed: bool = False,
        max_samples: Optional[int] = None,
    ) -> Pass[AudioBatch]:
        """An iterator of ``(waveforms, labels)`` numpy minibatches over one pass, decoded batch by batch.

        ``length`` (frames, at the output rate): each clip is cropped to it
        (``crop="start"`` keeps the beginning, ``"center"`` the middle,
        ``"random"`` a random window drawn from ``np.random.default_rng([seed,
        epoch, clip])``, so reproducible with a seed) or padded with zeros at
        its end; None needs clips of one length. ``sample_rate``: clips of other
        rates are resampled (scipy's ``resample_poly``, the ``mat`` extra);
        None needs clips of one rate. Shuffling, seeds, epochs and ranks as
        ``LabelledImages.batches``. ``workers``: decoding threads (default 1: WAV reading holds the GIL).
        """
        return loaders_for(self).batches(
            batch_size, shuffle, seed, drop_last, length=length, sample_rate=sample_rate, mono=mono, crop=crop,
            one_hot=one_hot, epoch=epoch, workers=workers, rank=rank, world_size=world_size,
            distributed=distributed, max_samples=max_samples,
        )

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, **options: Any,
    ) -> Pass[AudioBatch]:
        """Pass ``epoch`` of ``batches()`` (``options`` as there), not counted as one of its calls."""
        return loaders_for(self).one_pass(epoch, batch_size, shuffle, seed, drop_last, **options)

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.utils.data.Dataset`` of ``(waveform tensor, label)`` with a ``loader()`` helper
        giving a ``DataLoader`` of whole batches (needs ``datamaestro[torch]``); ``options``
        (length, sample_rate, mono, crop, seed, one_hot) as ``batches``."""
        return loaders_for(self).to_torch(**options)

    def stats(self, categories: Optional[list[str]] = None) -> dict[str, Any]:
        """What ``info`` says of the split: count, total duration, sample rates, channels, per-class counts."""
        return loaders_for(self).stats(categories)


class SequenceLabelledClips(AudioClips):
    """Audio clips labelled with a sequence of ``K`` labels each: ``labels`` is (N, K) int64,
    ``categories[k]`` names the symbol ``k`` (yesno: eight words, each "no" 0 or "yes" 1)."""

    def text_labels(self, indices: Any) -> Any:
        """The names of a sequence of labels, or a list of such lists for (N, K) labels."""
        import numpy as np  # (only here: describing data does not need numpy)

        array = np.asarray(indices)
        if array.ndim < 2:
            return NamedClasses.text_labels(self, array)
        return [NamedClasses.text_labels(self, row) for row in array]


class TranscribedSpeech(AudioClips):
    """Speech clips with a transcript each and an integer label naming the speaker
    (``categories[k]`` is the speaker id of label ``k``). Batches are ``(waveforms, labels,
    transcripts)``; ``transcripts`` holds one transcript per line, in the clips' order."""

    transcripts: Optional[Path] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.transcripts, str):
            self.transcripts = Path(self.transcripts)

    @classmethod
    def from_index(cls, root: Path, index: Path, split: str, categories: Optional[list[str]] = None) -> Any:
        """The split ``split``, with its transcripts, from the index written into the folder ``index``."""
        clips = super().from_index(root, index, split, categories)
        clips.transcripts = texts_file(index, split)
        return clips

    def texts(self) -> list[str]:
        """The transcripts of every clip, in order (read once)."""
        cached = self.__dict__.get("_texts")
        if cached is None:
            if self.transcripts is None:
                raise FormatError(f"{self.files}: these clips have no transcripts file")
            cached = self.__dict__["_texts"] = read_lines(self.transcripts, "transcripts")
        return cached

    def utterance_id(self, i: int) -> str:
        """The id of clip ``i``: its file name without extension (LibriSpeech: speaker-chapter-utterance)."""
        return self.paths()[i].stem


class AudioClassification(Supervised):
    """Audio classification splits (``AudioClips``); ``categories[k]`` names label ``k``."""

    categories: Optional[list[str]] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        share_categories(self, self.categories, AudioClips)


class AudioFolds(Base):
    """Audio clips in predefined cross-validation folds (``folds[k]`` is fold ``k + 1``), to be
    trained on all folds but one and tested on that one; ``categories[k]`` names label ``k``."""

    folds: list[AudioClips]
    categories: Optional[list[str]] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for fold in self.folds:
            if fold.categories is None and self.categories is not None:
                fold.categories = list(self.categories)

    def splits(self) -> dict[str, Base]:
        """The folds, by name: ``fold1``, ``fold2``..."""
        return {f"fold{k + 1}": fold for k, fold in enumerate(self.folds)}
