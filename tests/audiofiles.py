"""Small audio files built in memory for the tests: WAV through ``wave``, FLAC through soundfile."""

from __future__ import annotations

import io
import wave
import zipfile

import numpy as np


def wav_bytes(samples: np.ndarray, rate: int, width: int = 2) -> bytes:
    """A PCM WAV file of integer ``samples`` ((frames,) or (frames, channels)) of ``width`` bytes."""
    samples = np.asarray(samples)
    frames = samples.reshape(samples.shape[0], -1)
    if width == 1:
        data = frames.astype(np.uint8).tobytes()
    elif width == 3:
        data = np.ascontiguousarray(frames.astype("<i4")).view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        data = frames.astype("<i2" if width == 2 else "<i4").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(frames.shape[1])
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(data)
    return buffer.getvalue()


def flac_bytes(samples: np.ndarray, rate: int) -> bytes:
    """A 16-bit FLAC file of int16 ``samples`` (frames,) written by soundfile."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(samples, dtype=np.int16), rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def tone(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Random int16 samples (a clip whose float values are ``samples / 32768`` exactly)."""
    return rng.integers(-20000, 20000, frames).astype(np.int16)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A zip archive of regular files (name -> content), stored uncompressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()
