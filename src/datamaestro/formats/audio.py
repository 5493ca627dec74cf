"""Audio clips of any format: WAV through the standard library, FLAC and OGG through soundfile.

``read_audio`` and ``audio_info`` dispatch on the file: a ``.wav`` file is
read by ``datamaestro.formats.wav`` (unless ``wave`` cannot read its
encoding, e.g. floating point: then soundfile reads it too); any other by
soundfile, the ``audio`` extra, imported only when such a file is read. The
header is checked against the bound (``MAX_SAMPLES``) before samples are read.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.wav import AudioInfo, UnsupportedWav, check_bound, check_clip, read_wav, wav_info
from datamaestro.optional import require


def soundfile() -> ModuleType:
    """The ``soundfile`` module, or a one-line error naming the ``audio`` extra."""
    return require("soundfile", "reading FLAC and OGG audio", "soundfile", "audio")


def is_wav(path: Path) -> bool:
    """Whether ``path`` names a WAV file (by its extension)."""
    return path.suffix.lower() == ".wav"


def audio_info(path: Path) -> AudioInfo:
    """The frame count, sample rate and channel count in the header of ``path``."""
    if is_wav(path):
        try:
            return wav_info(path)
        except UnsupportedWav:
            pass
    check_clip(path)
    sf = soundfile()
    try:
        info = sf.info(str(path))
    except (RuntimeError, OSError) as e:  # (soundfile's errors derive from RuntimeError)
        raise FormatError(f"{path}: cannot read the audio header ({one_line(e)})") from None
    return AudioInfo(int(info.frames), int(info.samplerate), int(info.channels))


def read_audio(path: Path, max_samples: Optional[int] = None) -> tuple[np.ndarray, int]:
    """The waveform of ``path``: float32 ``(channels, frames)`` in [-1, 1], and its sample rate."""
    if is_wav(path):
        try:
            return read_wav(path, max_samples)
        except UnsupportedWav:
            pass
    info = audio_info(path)
    check_bound(path, info, max_samples)
    check_clip(path)
    sf = soundfile()
    try:
        samples, rate = sf.read(str(path), frames=info.frames, dtype="float32", always_2d=True)
    except (RuntimeError, OSError) as e:
        raise FormatError(f"{path}: cannot decode the audio ({one_line(e)})") from None
    return np.ascontiguousarray(samples.T), int(rate)


#: the most bytes a metadata file of an audio dataset (a list of clips, transcripts, a CSV) may hold
MAX_LISTING = 64 << 20


def read_listing(path: Path) -> list[str]:
    """The lines of a metadata text file of an audio dataset (UTF-8, at most ``MAX_LISTING`` bytes)."""
    try:
        check_clip(path)  # (a regular file: a FIFO is refused, not waited on)
        size = path.stat().st_size
        if size > MAX_LISTING:
            raise FormatError(f"{path}: {size} bytes, more than the {MAX_LISTING} a clip listing may hold; the file is not the dataset's")
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(f"{path}: cannot read ({one_line(e)}); the archive is not the dataset's") from None


def one_line(error: BaseException) -> str:
    """An error's message on one line."""
    return " ".join(str(error).split()) or type(error).__name__
