"""Hostile audio: WAV headers that lie, clips that are FIFOs or folders, a tampered clip index.

Every case is refused with one line naming the file; nothing blocks (a FIFO
is refused without being opened for reading) and nothing outside the root is
read (a canary beside it stays unread).
"""

from __future__ import annotations

import os
import signal
import struct
from pathlib import Path

import numpy as np
import pytest
from audiofiles import wav_bytes

from datamaestro.data.audio import AudioClips
from datamaestro.errors import DatamaestroError
from datamaestro.formats.audio import audio_info, read_audio
from datamaestro.loaders.audio import write_index


@pytest.fixture(autouse=True)
def no_hang():
    """Fail a test that blocks for more than 20 s (a FIFO waited on) instead of hanging the run."""

    def expired(*_: object) -> None:
        raise AssertionError("blocked")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def wav(channels: int = 1, rate: int = 8000, width: int = 2, data: bytes = b"\0\0" * 10,
        data_size: int | None = None, tag: int = 1) -> bytes:
    """A WAV file whose header says what it is told, true or not."""
    block = min(channels * width, 65535)
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, width * 8)
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def refused(call, path: Path, *words: str) -> None:
    with pytest.raises(DatamaestroError) as info:
        call(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message, message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(
    ("content", "word"),
    [
        (wav(channels=0), "zero"),
        (wav(rate=0), "0 Hz"),
        (wav(width=0), "format"),
        (wav(data_size=2**31), "samples a clip may hold"),
        (wav(data_size=0xFFFFFFFF), "samples a clip may hold"),
        (wav(data_size=4000), "truncated"),
        (wav()[:30], "truncated"),
        (b"", "truncated"),
        (b"RIFF\xff\xff\xff\xffWAVEjunk" + bytes(64), ""),
    ],
    ids=["0-channels", "0-rate", "width-0", "data-2GB", "data-4GB", "data-beyond-file", "cut-header", "empty", "junk"],
)
def test_lying_wav_headers_refused(tmp_path, content, word):
    path = tmp_path / "clip.wav"
    path.write_bytes(content)
    refused(audio_info, path, word)
    refused(read_audio, path)


def test_width_5_is_refused_on_reading(tmp_path):
    path = tmp_path / "clip.wav"
    path.write_bytes(wav(width=5, data=bytes(20)))
    refused(read_audio, path)


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_fifo_and_folder_clips_refused_without_blocking(tmp_path, suffix):
    fifo = tmp_path / f"fifo{suffix}"
    os.mkfifo(fifo)
    refused(audio_info, fifo, "not a regular file")
    refused(read_audio, fifo, "not a regular file")
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    refused(read_audio, folder)


# -- the clip index -------------------------------------------------------------------------------


@pytest.fixture
def split(tmp_path: Path) -> AudioClips:
    root, index = tmp_path / "root", tmp_path / "index"
    root.mkdir()
    index.mkdir()
    for name in ("a.wav", "b.wav"):
        (root / name).write_bytes(wav_bytes(np.arange(16, dtype=np.int16), 8000))
    (tmp_path / "secret.wav").write_bytes(wav_bytes(np.full(16, 7, dtype=np.int16), 8000))
    assert write_index(index, "train", root, [("a.wav", 0), ("b.wav", 1)]) == 2
    return AudioClips.from_index(root, index, "train", ["x", "y"])


def again(split: AudioClips) -> AudioClips:
    return AudioClips.from_index(split.root, split.files.parent, "train", ["x", "y"])


def test_index_naming_paths_outside_refused(split):
    for bad in ("../secret.wav", "/etc/passwd", "a/../../secret.wav", "a\\..\\b.wav"):
        split.files.write_text(f"{bad}\nb.wav\n")
        with pytest.raises(DatamaestroError, match="refused clip path"):
            again(split).paths()


def test_clip_linked_outside_refused_when_read(split):
    (split.root / "b.wav").unlink()
    (split.root / "b.wav").symlink_to(split.root.parent / "secret.wav")
    with pytest.raises(DatamaestroError, match="outside"):
        again(split).waveform(1)
    with pytest.raises(DatamaestroError, match="outside"):
        again(split).arrays()


def test_index_files_that_are_links_fifos_or_huge_refused(split):
    outside = split.root.parent / "list.txt"
    outside.write_text("a.wav\nb.wav\n")
    split.files.unlink()
    split.files.symlink_to(outside)
    with pytest.raises(DatamaestroError, match="symbolic link"):
        again(split).paths()
    split.files.unlink()
    os.mkfifo(split.files)
    with pytest.raises(DatamaestroError, match="not a regular file"):
        again(split).paths()
    split.files.unlink()
    with open(split.files, "wb") as f:
        f.truncate((1 << 30) + 1)  # (sparse)
    with pytest.raises(DatamaestroError, match="more than"):
        again(split).paths()


@pytest.mark.parametrize(
    "headers",
    [[[16, 0, 1], [16, 8000, 1]], [[16, 8000, 0], [16, 8000, 1]], [[-1, 8000, 1], [16, 8000, 1]],
     [[2**40, 8000, 1], [16, 8000, 1]], [[16, 8000, 2**40], [16, 8000, 1]]],
    ids=["0-rate", "0-channels", "negative-frames", "huge-frames", "huge-channels"],
)
def test_tampered_headers_refused_before_allocating(split, headers):
    np.save(split.root.parent / "index" / "train_audio.npy", np.array(headers, dtype=np.int64))
    with pytest.raises(DatamaestroError, match="headers out of range"):
        again(split).arrays(length=16, sample_rate=8000)


def test_pickled_index_array_refused(split):
    np.save(split.root.parent / "index" / "train_audio.npy", np.array([[16, 8000, 1]] * 2, dtype=object),
            allow_pickle=True)
    with pytest.raises(DatamaestroError):
        again(split).arrays(length=16, sample_rate=8000)
