"""WAV files read with the standard library (``wave``): PCM 8, 16, 24 and 32-bit, any channel count.

A waveform is a float32 array ``(channels, frames)`` in [-1, 1]: 8-bit
samples (unsigned) are centred on 128 and divided by 128, 16, 24 and 32-bit
ones (signed) by 2^15, 2^23 and 2^31. The header's frame count is checked
against a bound before any sample is read, so that a header claiming a huge
file allocates nothing. Encodings that ``wave`` does not read (floating
point, WAVE_FORMAT_EXTENSIBLE before Python 3.12) raise ``UnsupportedWav``,
for ``datamaestro.formats.audio`` to hand the file to soundfile.
"""

from __future__ import annotations

import os
import stat
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datamaestro.errors import FormatError

#: the most samples (frames x channels) one clip may hold: 2^28 (1 GiB as float32, 100 min of 44.1 kHz stereo)
MAX_SAMPLES = 1 << 28
#: the divisor that maps each PCM sample width (bytes) into [-1, 1]
SCALES = {1: 128.0, 2: 32768.0, 3: float(1 << 23), 4: float(1 << 31)}


class UnsupportedWav(FormatError):
    """A WAV file whose encoding the standard library cannot read (e.g. floating point)."""


@dataclass(frozen=True)
class AudioInfo:
    """What a clip's header says: its frame count, sample rate and channel count."""

    frames: int
    sample_rate: int
    channels: int

    @property
    def duration(self) -> float:
        """The length of the clip in seconds."""
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def check_bound(path: Path, info: AudioInfo, max_samples: int | None) -> None:
    """Refuse a clip whose header claims more than ``max_samples`` samples, before reading it."""
    bound = MAX_SAMPLES if max_samples is None else max_samples
    if info.frames < 0 or info.channels < 1 or info.sample_rate < 1:
        raise FormatError(f"{path}: the audio header is invalid ({info.frames} frames, {info.channels} channels, "
                          f"{info.sample_rate} Hz); the file is damaged")
    if info.frames * info.channels > bound:
        raise FormatError(
            f"{path}: the audio header claims {info.frames} frames of {info.channels} channel(s), more than the "
            f"{bound} samples a clip may hold; the file is damaged or not a clip"
        )


def check_clip(path: Path) -> None:
    """Refuse a clip that is not a regular file (a FIFO, a device, a folder), checked without blocking."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise FormatError(f"{path}: cannot read the audio file ({e.strerror or e})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FormatError(f"{path}: refused: not a regular file (a FIFO, device or folder)")
    finally:
        os.close(fd)


def open_wav(path: Path) -> wave.Wave_read:
    """``path`` opened by ``wave``; an encoding it cannot read raises ``UnsupportedWav``."""
    check_clip(path)
    try:
        return wave.open(str(path), "rb")
    except wave.Error as e:
        raise UnsupportedWav(f"{path}: {e}") from None
    except EOFError:
        raise FormatError(f"{path}: the WAV header is truncated; the file is damaged") from None
    except OSError as e:
        raise FormatError(f"{path}: cannot read the WAV file ({e.strerror or e})") from None


def wav_info(path: Path) -> AudioInfo:
    """The frame count, sample rate and channel count of the WAV file ``path`` (its header only)."""
    with open_wav(path) as f:
        info = AudioInfo(f.getnframes(), f.getframerate(), f.getnchannels())
        check_bound(path, info, None)
        if info.frames * info.channels * f.getsampwidth() > path.stat().st_size:
            raise FormatError(
                f"{path}: the WAV header claims {info.frames} frames, more than the file's {path.stat().st_size} "
                "bytes hold; the file is truncated"
            )
        return info


def read_wav(path: Path, max_samples: int | None = None) -> tuple[np.ndarray, int]:
    """The waveform of ``path`` as float32 ``(channels, frames)`` in [-1, 1], and its sample rate."""
    with open_wav(path) as f:
        info = AudioInfo(f.getnframes(), f.getframerate(), f.getnchannels())
        check_bound(path, info, max_samples)
        width = f.getsampwidth()
        if width not in SCALES:
            raise UnsupportedWav(f"{path}: {8 * width}-bit samples are not PCM 8, 16, 24 or 32-bit")
        try:
            data = f.readframes(info.frames)
        except (wave.Error, EOFError, OSError) as e:
            raise FormatError(f"{path}: cannot read the WAV samples ({e}); the file is damaged") from None
    if len(data) != info.frames * info.channels * width:
        raise FormatError(
            f"{path}: the WAV header claims {info.frames} frames but the file holds "
            f"{len(data) // (info.channels * width)}; the file is truncated"
        )
    samples = pcm_to_float(data, width).reshape(info.frames, info.channels)
    return np.ascontiguousarray(samples.T), info.sample_rate


def pcm_to_float(data: bytes, width: int) -> np.ndarray:
    """Little-endian PCM samples of ``width`` bytes as float32 in [-1, 1]."""
    scale = np.float32(SCALES[width])
    if width == 1:
        return (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - np.float32(128)) / scale
    if width == 3:
        triples = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3)
        wide = np.zeros((triples.shape[0], 4), dtype=np.uint8)
        wide[:, 1:] = triples  # the 24-bit value in the high bytes: value * 256, sign included
        return (wide.view("<i4").reshape(-1) >> 8).astype(np.float32) / scale
    samples = np.frombuffer(data, dtype="<i2" if width == 2 else "<i4").astype(np.float32)
    samples *= np.float32(1) / scale  # (a power of two: exact, as dividing)
    return samples


def write_wav(path: Path, waveform: np.ndarray, sample_rate: int, width: int = 2) -> None:
    """Write ``waveform`` ((channels, frames) or (frames,) floats in [-1, 1]) as PCM of ``width`` bytes."""
    samples = np.atleast_2d(np.asarray(waveform, dtype=np.float64)).T  # (frames, channels)
    scale = SCALES[width]
    ints = np.clip(np.round(samples * scale), -scale, scale - 1).astype(np.int64)
    if width == 1:
        data = (ints + 128).astype(np.uint8).tobytes()
    elif width == 3:
        data = np.ascontiguousarray(ints.astype("<i4")).view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        data = ints.astype("<i2" if width == 2 else "<i4").tobytes()
    with wave.open(str(path), "wb") as f:
        f.setnchannels(samples.shape[1])
        f.setsampwidth(width)
        f.setframerate(sample_rate)
        f.writeframes(data)
