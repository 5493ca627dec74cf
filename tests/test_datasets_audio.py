"""The audio datasets, from fixture archives in their exact published layouts.

The archives are built here with small WAV (``wave``) and FLAC (soundfile)
clips. Where a checksum is published, the archive is first served on
loopback under the definition's real URLs and refused (its size is not the
published one, which is checked before the checksum), then prepared end to
end, verified, by a copy of the definition module whose checksum and size
are the fixture's (``kindfixtures.patched_module``). ESC-50 has no ESC-50 has no
published checksum: it is served and prepared unverified, and its published
counts are what refuses a wrong archive.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from audiofiles import flac_bytes, tone, wav_bytes, zip_bytes
from kindfixtures import builtin_source, patched_module, sha256
from published import tar_gz

from datamaestro.api import prepare_dataset
from datamaestro.data.audio import AudioClassification, AudioClips, AudioFolds, SequenceLabelledClips, TranscribedSpeech
from datamaestro.errors import DownloadError, FormatError
from datamaestro.formats.speech_commands import WORDS


def refused_then_verified(
    env, server, dataset_id: str, bases: list[str], name: str, archive: bytes, published: tuple[str, str],
) -> Any:
    """Serve ``archive`` as ``name`` under the real URL folder(s) ``bases``: the definition refuses
    it; a copy of its module with the fixture's (sha256, size) for ``published`` prepares it, verified."""
    path = "/" + bases[0].split("://", 1)[1]
    server.files[path + name] = archive
    for base in bases:
        env.mirror(base, server.url(path))
    digest, size = published
    number = size.rsplit("=", 1)[-1]
    with pytest.raises(DownloadError, match=f"got {len(archive)} bytes, expected {number}"):
        prepare_dataset(dataset_id, quiet=True)
    assert server.gets(path + name) >= 1
    module = next(m for m in MODULES if dataset_id.startswith(m + "."))
    copy = "org.fixture." + module.rsplit(".", 1)[-1]
    replacements = {digest: sha256(archive), size: size[: len(size) - len(number)] + str(len(archive))}
    if f'id="{dataset_id}"' in builtin_source(module):  # a full id (a dot in its name) names its module
        replacements[f'id="{dataset_id}"'] = f'id="{copy}{dataset_id[len(module):]}"'
    patched_module(env.use_registry(), module, copy, replacements)
    return prepare_dataset(copy + dataset_id[len(module):], quiet=True)


#: the definition modules of these datasets
MODULES = ["org.tensorflow", "org.openslr", "com.github.jakobovski"]


# --- Speech Commands v0.02 ---------------------------------------------------

SPEECH_ID = "org.tensorflow.speech-commands-v0.02"
SPEECH_BASES = [
    "https://download.tensorflow.org/data/",
    "http://download.tensorflow.org/data/",
    "https://storage.googleapis.com/download.tensorflow.org/data/",
]
SPEECH_PUBLISHED = ("af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58", "size=2428923189")


def speech_commands(validation: str = "yes/bbb_nohash_0.wav\n") -> tuple[bytes, dict[str, np.ndarray]]:
    rng = np.random.default_rng(35)
    clips = {
        "yes/aaa_nohash_0.wav": tone(rng, 16000),
        "yes/bbb_nohash_0.wav": tone(rng, 16000),
        "no/aaa_nohash_1.wav": tone(rng, 12000),  # shorter than a second, as many are
        "bed/ccc_nohash_0.wav": tone(rng, 16000),
        "zero/ddd_nohash_2.wav": tone(rng, 16000),
    }
    members = {name: wav_bytes(samples, 16000) for name, samples in clips.items()}
    members["_background_noise_/white_noise.wav"] = wav_bytes(tone(rng, 48000), 16000)
    members["_background_noise_/README.md"] = b"noise\n"
    members["validation_list.txt"] = validation.encode()
    members["testing_list.txt"] = b"bed/ccc_nohash_0.wav\nzero/ddd_nohash_2.wav\n"
    members["LICENSE"] = b"CC BY 4.0\n"
    return tar_gz(members), clips


def test_speech_commands(env, server, cli):
    archive, clips = speech_commands()
    ds = refused_then_verified(env, server, SPEECH_ID, SPEECH_BASES, "speech_commands_v0.02.tar.gz", archive, SPEECH_PUBLISHED)
    assert isinstance(ds, AudioClassification) and ds.categories == WORDS and len(WORDS) == 35
    assert WORDS[:3] == ["backward", "bed", "bird"] and "_background_noise_" not in WORDS
    assert [str(p.relative_to(ds.train.root)) for p in ds.train.paths()] == [
        "no/aaa_nohash_1.wav", "yes/aaa_nohash_0.wav",
    ]
    assert ds.train.labels.data().tolist() == [WORDS.index("no"), WORDS.index("yes")]
    assert ds.validation.labels.data().tolist() == [WORDS.index("yes")]
    assert ds.test.text_labels(ds.test.labels.data()) == ["bed", "zero"]
    assert ds.train.headers.data().tolist() == [[12000, 16000, 1], [16000, 16000, 1]]
    waveform, rate = ds.train.waveform(1)
    assert rate == 16000 and waveform.shape == (1, 16000) and waveform.dtype == np.float32
    assert np.array_equal(waveform[0], clips["yes/aaa_nohash_0.wav"] / np.float32(32768))
    x, y = ds.train.arrays(length=16000)  # the short clip is padded with zeros at its end
    assert x.shape == (2, 16000) and y.tolist() == [WORDS.index("no"), WORDS.index("yes")]
    assert np.array_equal(x[0, :12000], clips["no/aaa_nohash_1.wav"] / np.float32(32768)) and not x[0, 12000:].any()
    assert ds.train.stats(None)["labels"]["0"] == 0 and ds.train.stats(None)["count"] == 2
    result = cli("info", "org.fixture.tensorflow.speech-commands-v0.02", "--json")
    assert result.returncode == 0, result.stderr
    splits = json.loads(result.stdout)["splits"]
    assert splits["train"] == {
        "count": 2, "duration_seconds": 1.75, "min_duration_seconds": 0.75, "max_duration_seconds": 1.0,
        "sample_rates": {"16000": 2}, "channels": {"1": 2},
        "labels": {**{w: 0 for w in WORDS}, "no": 1, "yes": 1},
    }
    assert splits["test"]["count"] == 2 and splits["validation"]["duration_seconds"] == 1.0


@pytest.mark.parametrize(
    "listed, message",
    [
        ("../../../etc/passwd\n", r"validation_list.txt line 1: '../../../etc/passwd' is not a word clip of the archive"),
    ],
)
def test_speech_commands_hostile_list_is_refused(env, server, listed, message):
    archive, _ = speech_commands(validation=listed)
    with pytest.raises(FormatError, match=message):
        refused_then_verified(env, server, SPEECH_ID, SPEECH_BASES, "speech_commands_v0.02.tar.gz", archive, SPEECH_PUBLISHED)
    assert not (env.data / "datasets" / "org.fixture.tensorflow.speech-commands-v0.02" / "index").exists()


# --- Free Spoken Digit Dataset ------------------------------------------------

FSDD_ID = "com.github.jakobovski.free-spoken-digit-dataset"
FSDD_BASES = ["https://github.com/Jakobovski/free-spoken-digit-dataset/archive/"]


FSDD_PUBLISHED = ("8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0", "size=11975353")


def test_free_spoken_digits(env, server):
    rng = np.random.default_rng(10)
    top = "free-spoken-digit-dataset-1.0.9/"
    clips = {name: tone(rng, 3000 + 100 * k) for k, name in enumerate(
        ["0_jackson_0.wav", "0_jackson_5.wav", "7_theo_4.wav", "7_theo_49.wav", "9_nicolas_12.wav"]
    )}
    members = {top + "recordings/" + name: wav_bytes(s, 8000) for name, s in clips.items()}
    members[top + "README.md"] = b"# FSDD\n"
    members[top + "metadata.py"] = b"metadata = {}\n"
    ds = refused_then_verified(env, server, FSDD_ID, FSDD_BASES, "v1.0.9.tar.gz", tar_gz(members), FSDD_PUBLISHED)
    assert isinstance(ds, AudioClassification) and ds.categories == [str(d) for d in range(10)]
    assert [p.name for p in ds.train.paths()] == ["0_jackson_5.wav", "7_theo_49.wav", "9_nicolas_12.wav"]
    assert ds.train.labels.data().tolist() == [0, 7, 9]
    assert [p.name for p in ds.test.paths()] == ["0_jackson_0.wav", "7_theo_4.wav"]
    assert ds.test.labels.data().tolist() == [0, 7]
    assert ds.train.frames().tolist() == [3100, 3300, 3400] and ds.train.sample_rates().tolist() == [8000] * 3
    x, y = ds.test.arrays(length=3000, crop="center")
    assert x.shape == (2, 3000) and y.tolist() == [0, 7]
    assert np.array_equal(x[1], clips["7_theo_4.wav"][100:3100] / np.float32(32768))  # 3200 frames, centred
    batches = list(ds.train.batches(2, shuffle=False, length=4000))
    assert [b[0].shape for b in batches] == [(2, 4000), (1, 4000)] and batches[1][1].tolist() == [9]


def test_free_spoken_digits_misnamed_recording_is_refused(env, server):
    members = {"free-spoken-digit-dataset-1.0.9/recordings/seven_theo_1.wav": wav_bytes(np.zeros(10, np.int16), 8000)}
    with pytest.raises(FormatError, match=r"seven_theo_1.wav: expected a recording named <digit>_<speaker>_<index>.wav"):
        refused_then_verified(env, server, FSDD_ID, FSDD_BASES, "v1.0.9.tar.gz", tar_gz(members), FSDD_PUBLISHED)


# --- yesno ----------------------------------------------------------------------

YESNO_ID = "org.openslr.yesno"


def test_yesno(env, server):
    rng = np.random.default_rng(8)
    names = ["0_0_0_0_1_1_1_1.wav", "1_0_1_0_1_0_1_0.wav", "1_1_1_1_1_1_1_1.wav"]
    clips = {name: tone(rng, 8000 + 800 * k) for k, name in enumerate(names)}
    members = {f"waves_yesno/{name}": wav_bytes(s, 8000) for name, s in clips.items()}
    members["waves_yesno/README"] = b"yes and no in Hebrew\n"
    ds = refused_then_verified(
        env, server, YESNO_ID, ["https://www.openslr.org/resources/1/", "http://www.openslr.org/resources/1/"],
        "waves_yesno.tar.gz", tar_gz(members), ("c3f49e0cca421f96b75b41640749167b52118f232498667ca7a5f9416aef8e73", "size=4703754"),
    )
    assert type(ds) is SequenceLabelledClips and ds.categories == ["no", "yes"] and len(ds) == 3
    labels = ds.labels.data()
    assert labels.shape == (3, 8) and labels.dtype == np.int64
    assert labels.tolist() == [[0, 0, 0, 0, 1, 1, 1, 1], [1, 0, 1, 0, 1, 0, 1, 0], [1] * 8]
    assert ds.text_labels(labels[1]) == ["yes", "no", "yes", "no", "yes", "no", "yes", "no"]
    assert ds.text_labels(labels)[2] == ["yes"] * 8 and ds.text_labels(1) == "yes"
    x, y = ds.arrays(length=8000)
    assert x.shape == (3, 8000) and y.shape == (3, 8) and y.tolist() == labels.tolist()
    assert np.array_equal(x[2], clips[names[2]][:8000] / np.float32(32768))
    stats = ds.stats(ds.categories)
    assert stats["count"] == 3 and stats["labels"] == {"no": 8, "yes": 16} and stats["duration_seconds"] == 3.3


# --- LibriSpeech -----------------------------------------------------------------


def librispeech(subset: str, rng: np.random.Generator) -> tuple[bytes, dict[str, tuple[np.ndarray, str]]]:
    utterances = {
        "84-121123-0000": "GO DO YOU HEAR",
        "84-121123-0001": "BUT IN LESS THAN FIVE MINUTES THE STAIRCASE GROANED",
        "174-50561-0000": "FORGOTTEN TOO THE NAME OF GILLIAN THE LOVELY CAPTIVE",
    }
    members, expected = {}, {}
    for chapter in ("84/121123", "174/50561"):
        speaker, number = chapter.split("/")
        lines = [f"{u} {t}\n" for u, t in utterances.items() if u.startswith(f"{speaker}-{number}-")]
        members[f"LibriSpeech/{subset}/{chapter}/{speaker}-{number}.trans.txt"] = "".join(lines).encode()
    for k, (utterance, text) in enumerate(utterances.items()):
        samples = tone(rng, 1600 + 160 * k)
        speaker, chapter, _ = utterance.split("-")
        members[f"LibriSpeech/{subset}/{speaker}/{chapter}/{utterance}.flac"] = flac_bytes(samples, 16000)
        expected[utterance] = (samples, text)
    for name in ("LICENSE.TXT", "README.TXT", "SPEAKERS.TXT", "CHAPTERS.TXT"):
        members[f"LibriSpeech/{name}"] = b";\n"
    return tar_gz(members), expected


@pytest.mark.parametrize(
    "subset, published",
    [
        ("dev-clean", ("76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3", "337926286")),
        ("test-clean", ("39fde525e59672dc6d1551919b1478f724438a95aa55f874b576be21967e6c23", "346663984")),
    ],
)
def test_librispeech(env, server, subset, published):
    pytest.importorskip("soundfile", reason="LibriSpeech is FLAC, read with soundfile (extra 'audio')")
    dataset_id = f"org.openslr.librispeech-{subset}"
    archive, expected = librispeech(subset, np.random.default_rng(12))
    ds = refused_then_verified(
        env, server, dataset_id, ["https://www.openslr.org/resources/12/", "http://www.openslr.org/resources/12/"],
        f"{subset}.tar.gz", archive, published,
    )
    assert type(ds) is TranscribedSpeech and ds.categories == ["84", "174"]  # speakers in numeric order
    assert [ds.utterance_id(i) for i in range(len(ds))] == ["84-121123-0000", "84-121123-0001", "174-50561-0000"]
    assert ds.labels.data().tolist() == [0, 0, 1]
    assert ds.texts() == [text for _, text in expected.values()]
    assert ds.headers.data().tolist() == [[1600, 16000, 1], [1760, 16000, 1], [1920, 16000, 1]]
    waveform, rate = ds.waveform(2)
    assert rate == 16000 and np.array_equal(waveform[0], expected["174-50561-0000"][0] / np.float32(32768))
    waveforms, speakers, texts = next(iter(ds.batches(2, shuffle=False, length=1700)))
    assert waveforms.shape == (2, 1700) and speakers.tolist() == [0, 0]
    assert texts == ["GO DO YOU HEAR", "BUT IN LESS THAN FIVE MINUTES THE STAIRCASE GROANED"]
    assert not waveforms[0, 1600:].any()
    assert ds.stats(ds.categories)["labels"] == {"84": 2, "174": 1}


def test_librispeech_bad_transcript_line_is_refused(env, server):
    members = {
        "LibriSpeech/dev-clean/84/121123/84-121123.trans.txt": b"../../../etc/passwd HELLO\n",
        "LibriSpeech/dev-clean/84/121123/84-121123-0000.flac": b"",
    }
    with pytest.raises(FormatError, match=r"84-121123.trans.txt line 1: expected '84-121123-<n> <TRANSCRIPT>'"):
        refused_then_verified(
            env, server, "org.openslr.librispeech-dev-clean", ["https://www.openslr.org/resources/12/"], "dev-clean.tar.gz",
            tar_gz(members), ("76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3", "337926286"),
        )


# --- ESC-50 ----------------------------------------------------------------------

ESC_ID = "com.github.karolpiczak.esc-50"
COMMIT = "00aa5afbc655f148255d139b51abcfa5abf9ccb5"
ESC_URL = f"https://github.com/karolpiczak/ESC-50/archive/{COMMIT}.zip"


def esc50(drop_last: bool = False) -> tuple[bytes, list[tuple[int, int, str]]]:
    """The published layout with 2,000 tiny clips: 40 per class, 8 per class in each fold."""
    top = f"ESC-50-{COMMIT}/"
    rows, members = [], {}
    for target in range(50):
        for n in range(40):
            fold, clip = n % 5 + 1, 1000 * target + n
            name = f"{fold}-{clip}-A-{target}.wav"
            rows.append((fold, target, name))
            members[top + "audio/" + name] = wav_bytes(np.full(4, target * 10 + fold, np.int16), 44100)
    if drop_last:
        rows = rows[:-1]
    csv = "filename,fold,target,category,esc10,src_file,take\n" + "".join(
        f"{name},{fold},{target},class_{target},{target < 10},{name.split('-')[1]},A\n" for fold, target, name in rows
    )
    members[top + "meta/esc50.csv"] = csv.encode()
    members[top + "README.md"] = b"## ESC-50\n"
    return zip_bytes(members), rows


def test_esc50_unverified_with_its_counts_checked(env, server, cli):
    archive, rows = esc50()
    path = f"/karolpiczak/ESC-50/archive/{COMMIT}.zip"
    server.files[path] = archive
    env.mirror("https://github.com/karolpiczak/ESC-50/archive/", server.url("/karolpiczak/ESC-50/archive/"))
    result = cli("prepare", ESC_ID)
    assert result.returncode == 0, result.stderr
    assert f"warning: {ESC_ID}: repository has no published checksum, so it was not verified" in result.stderr
    ds = prepare_dataset(ESC_ID)
    assert isinstance(ds, AudioFolds) and len(ds.folds) == 5 and ds.categories == [f"class_{k}" for k in range(50)]
    assert list(ds.splits()) == ["fold1", "fold2", "fold3", "fold4", "fold5"]
    fold2 = ds.folds[1]
    assert isinstance(fold2, AudioClips) and len(fold2) == 400 and fold2.categories == ds.categories
    assert fold2.labels.data().tolist() == [t for f, t, _ in rows if f == 2]
    assert fold2.paths()[0].name == "2-1-A-0.wav" and fold2.headers.data()[0].tolist() == [4, 44100, 1]
    x, y = fold2.arrays()
    assert x.shape == (400, 4) and np.allclose(x[:, 0], (y * 10 + 2) / 32768)
    assert fold2.stats(ds.categories)["labels"]["class_49"] == 8
    info = json.loads(cli("info", ESC_ID, "--json").stdout)
    assert info["splits"]["fold5"]["count"] == 400 and info["splits"]["fold5"]["sample_rates"] == {"44100": 400}


def test_esc50_wrong_counts_are_refused(env, server):
    archive, _ = esc50(drop_last=True)
    server.files[f"/esc/{COMMIT}.zip"] = archive
    env.mirror("https://github.com/karolpiczak/ESC-50/archive/", server.url("/esc/"))
    with pytest.raises(FormatError, match=r"esc50.csv: expected ESC-50's 2000 clips, 400 per fold and 40 per class"):
        prepare_dataset(ESC_ID)
