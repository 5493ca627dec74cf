"""Audio clips: WAV and FLAC reading, the bound on headers, the AudioClips kind, its loaders, waveform pictures."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from audiofiles import flac_bytes, tone, wav_bytes

from datamaestro.data.audio import AudioClassification, AudioClips, TranscribedSpeech
from datamaestro.data.base import from_json_value
from datamaestro.errors import FormatError, UsageError
from datamaestro.formats.audio import audio_info, read_audio
from datamaestro.formats.wav import AudioInfo, read_wav
from datamaestro.loaders.audio import write_index
from datamaestro.viz.waveform import waveform_tiles

# --- reading WAV and FLAC ------------------------------------------------------


@pytest.mark.parametrize(
    "width, stored, expected",
    [
        (1, [0, 128, 255, 64], [-1.0, 0.0, 127 / 128, -0.5]),
        (2, [-32768, 0, 32767, 16384], [-1.0, 0.0, 32767 / 32768, 0.5]),
        (3, [-(1 << 23), -1, (1 << 23) - 1, 1 << 22], [-1.0, -1 / (1 << 23), 1 - 1 / (1 << 23), 0.5]),
        (4, [-(1 << 31), 0, (1 << 31) - 1, -(1 << 30)], [-1.0, 0.0, 1.0, -0.5]),
    ],
)
def test_wav_widths_map_into_minus_one_one(tmp_path: Path, width, stored, expected):
    path = tmp_path / "a.wav"
    path.write_bytes(wav_bytes(np.array(stored), 22050, width))
    waveform, rate = read_wav(path)
    assert rate == 22050 and waveform.dtype == np.float32 and waveform.shape == (1, 4)
    assert waveform[0].tolist() == pytest.approx(expected, abs=1e-7)
    assert audio_info(path) == AudioInfo(4, 22050, 1)


def test_stereo_wav_is_channels_by_frames(tmp_path: Path):
    path = tmp_path / "s.wav"
    path.write_bytes(wav_bytes(np.array([[100, -100], [200, -200], [300, -300]]), 8000))
    waveform, _ = read_audio(path)
    assert waveform.shape == (2, 3) and (waveform * 32768).tolist() == [[100, 200, 300], [-100, -200, -300]]
    assert audio_info(path).channels == 2 and audio_info(path).duration == 3 / 8000


def test_flac_and_float_wav_through_soundfile(tmp_path: Path):
    soundfile = pytest.importorskip("soundfile", reason="FLAC is read with soundfile (extra 'audio')")
    samples = tone(np.random.default_rng(1), 500)
    (tmp_path / "a.flac").write_bytes(flac_bytes(samples, 16000))
    waveform, rate = read_audio(tmp_path / "a.flac")
    assert rate == 16000 and np.array_equal(waveform[0], samples / np.float32(32768))
    soundfile.write(tmp_path / "f.wav", np.array([0.25, -0.5], np.float32), 8000, subtype="FLOAT")  # wave cannot read it
    assert read_audio(tmp_path / "f.wav")[0].tolist() == [[0.25, -0.5]]


def huge_wav(claimed_bytes: int) -> bytes:
    """A 16-bit mono WAV whose header claims ``claimed_bytes`` of samples but holds 8."""
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 16000, 32000, 2, 16)
    data = struct.pack("<4sI", b"data", claimed_bytes) + b"\0" * 8
    return struct.pack("<4sI4s", b"RIFF", 4 + len(fmt) + len(data), b"WAVE") + fmt + data


def test_a_header_claiming_too_many_frames_is_refused_before_reading(tmp_path: Path):
    path = tmp_path / "huge.wav"
    path.write_bytes(huge_wav(0xFFFFFFFE))
    with pytest.raises(FormatError, match=r"huge.wav: the audio header claims 2147483647 frames of 1 channel\(s\), more than the 268435456 samples"):
        read_audio(path)
    with pytest.raises(FormatError, match=r"claims 2147483647 frames .* more than the 1000 samples"):
        read_audio(path, max_samples=1000)
    with pytest.raises(FormatError, match=r"huge.wav: the WAV header claims 2147483647 frames but the file holds 4; the file is truncated"):
        read_audio(path, max_samples=1 << 40)


@pytest.mark.parametrize("content", [b"", b"RIFF\x10\0\0\0WAVEfmt ", b"not audio at all, not even close"])
def test_damaged_wav_is_a_format_error(tmp_path: Path, content: bytes):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=r"bad.wav: "):
        read_audio(path)


def test_flac_without_soundfile_names_the_extra(tmp_path: Path):
    (tmp_path / "a.flac").write_bytes(b"fLaC")
    program = (
        "import sys; sys.modules['soundfile'] = None\n"  # as if soundfile were not installed
        "from pathlib import Path\nfrom datamaestro.formats.audio import read_audio\n"
        "from datamaestro.errors import DatamaestroError\n"
        f"try:\n    read_audio(Path({str(tmp_path / 'a.flac')!r}))\nexcept DatamaestroError as e:\n    print(e)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=os.environ.copy(), timeout=60)
    assert result.stdout.strip() == (
        "soundfile is needed for reading FLAC and OGG audio: pip install soundfile "
        "(or, in datamaestro's checkout, pip install -e '.[audio]')"
    )


# --- the AudioClips kind -----------------------------------------------------------


@pytest.fixture
def clips(tmp_path: Path) -> tuple[AudioClips, dict[str, np.ndarray]]:
    """Four clips: two at 16 kHz (one short, one stereo), one at 8 kHz, labels 0, 1, 1, 2."""
    rng = np.random.default_rng(3)
    root, index = tmp_path / "clips", tmp_path / "index"
    (root / "a").mkdir(parents=True)
    index.mkdir()
    samples = {
        "a/one.wav": (tone(rng, 1600), 16000),
        "a/two.wav": (tone(rng, 1000), 16000),
        "three.wav": (np.stack([tone(rng, 2000), np.zeros(2000, np.int16)], axis=1), 16000),
        "four.wav": (tone(rng, 800), 8000),
    }
    for name, (s, rate) in samples.items():
        (root / name).write_bytes(wav_bytes(s, rate))
    assert write_index(index, "train", root, zip(samples, [0, 1, 1, 2])) == 4
    split = AudioClips.from_index(root, index, "train", ["dog", "cat", "bird"])
    return split, {name: s for name, (s, _) in samples.items()}


def test_index_records_headers_and_labels(clips):
    split, _ = clips
    assert len(split) == 4 and split.labels.data().tolist() == [0, 1, 1, 2]
    assert split.headers.data().tolist() == [[1600, 16000, 1], [1000, 16000, 1], [2000, 16000, 2], [800, 8000, 1]]
    assert split.text_labels([2, 0]) == ["bird", "dog"]
    assert split.stats(split.categories) == {
        "count": 4, "duration_seconds": 0.387, "min_duration_seconds": 0.062, "max_duration_seconds": 0.125,
        "sample_rates": {"8000": 1, "16000": 3}, "channels": {"1": 3, "2": 1}, "labels": {"dog": 1, "cat": 2, "bird": 1},
    }


def test_batches_need_one_rate_and_length_or_say_which_option(clips):
    split, _ = clips
    with pytest.raises(UsageError, match=r"the clips have several sample rates \(from 8000 to 16000\); pass sample_rate="):
        split.arrays(length=100)
    with pytest.raises(UsageError, match=r"several lengths \(from 1000 to 2000\); pass length="):
        split.arrays(sample_rate=16000)
    with pytest.raises(UsageError, match=r"several channel counts \(from 1 to 2\); pass mono=True"):
        split.arrays(length=10, sample_rate=16000, mono=False)
    with pytest.raises(UsageError, match=r"crop must be one of start, center, random, not 'end'"):
        split.arrays(length=10, sample_rate=16000, crop="end")


def test_crop_pad_mix_and_resample(clips):
    pytest.importorskip("scipy.signal", reason="resampling uses scipy (extra 'mat')")
    split, samples = clips
    x, y = split.arrays(length=1200, sample_rate=16000)
    assert x.shape == (4, 1200) and x.dtype == np.float32 and y.tolist() == [0, 1, 1, 2]
    assert np.array_equal(x[0], samples["a/one.wav"][:1200] / np.float32(32768))  # cropped at the start
    assert np.array_equal(x[1, :1000], samples["a/two.wav"] / np.float32(32768)) and not x[1, 1000:].any()  # padded
    assert np.allclose(x[2], samples["three.wav"][:1200, 0] / 32768 / 2)  # the two channels averaged
    assert not x[3, 1600:].any() and np.abs(x[3, :1600]).max() > 0.1  # 800 frames at 8 kHz: 1600 at 16 kHz
    centre, _ = split.arrays(length=1000, sample_rate=16000, crop="center")
    assert np.array_equal(centre[0], samples["a/one.wav"][300:1300] / np.float32(32768))
    one_hot = split.arrays(length=10, sample_rate=16000, one_hot=True)[1]
    assert one_hot.tolist()[3] == [0.0, 0.0, 1.0]


def test_random_crops_are_reproducible_with_a_seed(clips):
    split, samples = clips
    first = [b[0] for b in split.batches(2, shuffle=False, seed=7, length=500, sample_rate=16000, crop="random")]
    again = [b[0] for b in split.batches(2, shuffle=False, seed=7, length=500, sample_rate=16000, crop="random", epoch=0)]
    later = [b[0] for b in split.batches(2, shuffle=False, seed=7, length=500, sample_rate=16000, crop="random")]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, later))  # each pass draws new windows
    start = int(np.random.default_rng([7, 0, 0]).integers(0, 1600 - 500 + 1))
    assert np.array_equal(first[0][0], samples["a/one.wav"][start : start + 500] / np.float32(32768))


def test_shuffled_batches_and_threads_agree(clips):
    split, _ = clips
    options = {"length": 300, "sample_rate": 16000}
    serial = list(split.batches(3, seed=1, workers=1, epoch=2, **options))
    threaded = list(split.batches(3, seed=1, workers=4, epoch=2, **options))
    assert [len(b[1]) for b in serial] == [3, 1] and len(split.batches(3, drop_last=True, **options)) == 1
    assert all(np.array_equal(a[0], b[0]) and a[1].tolist() == b[1].tolist() for a, b in zip(serial, threaded))
    order = np.random.default_rng([1, 2]).permutation(4)
    assert np.concatenate([b[1] for b in serial]).tolist() == [[0, 1, 1, 2][i] for i in order]


def test_json_round_trip_and_shared_categories(clips):
    split, _ = clips
    data = AudioClassification(train=split, categories=["dog", "cat", "bird"])
    back = from_json_value(data.to_json())
    assert isinstance(back.train, AudioClips) and back.train.categories == ["dog", "cat", "bird"]
    assert back.train.headers.data().tolist() == split.headers.data().tolist()
    assert np.array_equal(back.train.waveform(0)[0], split.waveform(0)[0])
    bare = AudioClips.from_index(split.root, split.files.parent, "train")
    assert AudioClassification(test=bare, categories=["a", "b", "c"]).test.categories == ["a", "b", "c"]


def test_transcribed_speech_batches_carry_texts(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    for name in ("1-2-0000.wav", "1-2-0001.wav"):
        (root / name).write_bytes(wav_bytes(np.ones(40, np.int16), 16000))
    write_index(tmp_path, "all", root, [("1-2-0000.wav", 0), ("1-2-0001.wav", 0)], texts=["HELLO", "GOOD BYE"])
    speech = TranscribedSpeech.from_index(root, tmp_path, "all", ["1"])
    assert from_json_value(speech.to_json()).texts() == ["HELLO", "GOOD BYE"]
    assert speech.utterance_id(1) == "1-2-0001"
    [(x, y, texts)] = list(speech.batches(2, shuffle=False))
    assert x.shape == (2, 40) and y.tolist() == [0, 0] and texts == ["HELLO", "GOOD BYE"]
    assert speech.arrays(mono=False, length=50)[0].shape == (2, 1, 50)
    with pytest.raises(FormatError, match=r"1 transcripts for 2 clips"):
        write_index(tmp_path, "bad", root, [("1-2-0000.wav", 0), ("1-2-0001.wav", 0)], texts=["ONE"])


@pytest.mark.parametrize(
    "rel, message",
    [
        ("../outside.wav", r"refused clip path '../outside.wav': not a plain path inside the dataset folder"),
        ("/etc/passwd", r"refused clip path '/etc/passwd'"),
        ("missing.wav", r"the clip 'missing.wav' listed by the dataset is missing"),
        ("link.wav", r"link.wav is a symbolic link to .*outside.wav, outside"),
    ],
)
def test_hostile_clip_paths_are_refused(tmp_path: Path, rel: str, message: str):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside.wav").write_bytes(wav_bytes(np.zeros(4, np.int16), 8000))
    (root / "link.wav").symlink_to(tmp_path / "outside.wav")
    with pytest.raises(Exception, match=message):
        write_index(tmp_path, "x", root, [(rel, 0)])
    assert not (tmp_path / "x.txt").exists()


def test_a_tampered_index_is_refused_when_read(clips):
    split, _ = clips
    split.files.write_text("a/one.wav\n../../../etc/passwd\n", encoding="utf-8")
    fresh = AudioClips.from_index(split.root, split.files.parent, "train")
    with pytest.raises(FormatError, match=r"refused clip path '../../../etc/passwd'"):
        fresh.paths()


def test_to_torch(clips):
    torch = pytest.importorskip("torch", reason="to_torch needs torch (extra 'torch')")
    split, samples = clips
    dataset = split.to_torch(length=400, sample_rate=16000)
    waveform, label = dataset[1]
    assert isinstance(waveform, torch.Tensor) and waveform.shape == (400,) and label == 1
    assert len(dataset) == 4 and dataset[[0, 3]][0].shape == (2, 400)
    batches = list(dataset.loader(batch_size=3))
    assert [b[1].tolist() for b in batches] == [[0, 1, 1], [2]]


# --- waveform pictures ------------------------------------------------------------------


def test_waveform_tiles_draw_each_clip_in_its_label_colour():
    square = np.concatenate([np.full(50, 0.5), np.full(50, -0.5)])
    tiles = waveform_tiles([square, np.zeros((2, 30)), np.ones(3)], [1, 0, 2], height=21, width=10)
    assert tiles.shape == (3, 21, 10, 3) and tiles.dtype == np.uint8
    orange, blue, green = (255, 127, 14), (31, 119, 180), (44, 160, 44)
    coloured = (tiles[0] == orange).all(axis=2)
    assert coloured[5, :5].all() and coloured[15, 5:].all() and coloured.sum() == 10  # 0.5: row 5; -0.5: row 15
    assert (tiles[1][10] == blue).all() and (tiles[1][:10] == 255).all()  # silence: the zero line only
    assert (tiles[2][0] == green).all()  # amplitude 1 reaches the top row
    assert waveform_tiles(np.zeros((2, 100)), normalize=True).shape == (2, 84, 168, 3)
    with pytest.raises(UsageError, match=r"3 labels for 2 waveforms"):
        waveform_tiles(np.zeros((2, 100)), [0, 1, 2])


def test_show_draws_the_waveforms_of_a_split_titled_with_their_labels(clips):
    from datamaestro.viz.grid import show_images
    from datamaestro.viz.pictures import pictures

    split, _ = clips
    tiles, titles = pictures(split, np.array([0, 3]), split.categories)
    assert titles == [0, 2]
    assert np.array_equal(tiles, waveform_tiles([split.waveform(0)[0], split.waveform(3)[0]], [0, 2]))
    grid = show_images(tiles, titles, 2, categories=split.categories)
    assert grid.mode == "RGB" and grid.width >= 2 * 168
