"""Speech Commands v0.02: ``<word>/<speaker>_nohash_<n>.wav`` and the lists of its validation and test clips.

The archive has no top folder: 35 word folders, ``_background_noise_``
(long noise recordings, not a class, not indexed), ``validation_list.txt``
and ``testing_list.txt`` (one ``word/file.wav`` per line). The training
split is every word clip in neither list. Labels follow the alphabetical
order of the words.
"""

from __future__ import annotations

from pathlib import Path

from datamaestro.errors import FormatError
from datamaestro.formats.audio import read_listing

#: the 35 words, in label order (alphabetical)
WORDS = sorted(
    "backward bed bird cat dog down eight five follow forward four go happy house learn left marvin nine no off on "
    "one right seven sheila six stop three tree two up visual wow yes zero".split()
)
NOISE = "_background_noise_"


def word_clips(root: Path) -> dict[str, int]:
    """Every word clip of the archive (``word/file.wav``) with its label."""
    clips: dict[str, int] = {}
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder.name == NOISE:
            continue
        if folder.name not in WORDS:
            raise FormatError(f"{folder}: not one of the 35 words of Speech Commands v0.02; the archive is not the dataset's")
        label = WORDS.index(folder.name)
        clips.update((f"{folder.name}/{f.name}", label) for f in sorted(folder.iterdir()) if f.suffix == ".wav")
    return clips


def listed(path: Path, clips: dict[str, int]) -> list[str]:
    """The clips named by the list ``path``, each checked to be a word clip of the archive."""
    names = []
    for number, line in enumerate(read_listing(path), start=1):
        name = line.strip()
        if not name:
            continue
        if name not in clips:
            raise FormatError(f"{path} line {number}: {name!r} is not a word clip of the archive")
        names.append(name)
    return names


def read(root: Path) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """The (clip path, label) pairs of the train, validation and test splits, and the words."""
    clips = word_clips(root)
    validation = listed(root / "validation_list.txt", clips)
    test = listed(root / "testing_list.txt", clips)
    held_out = set(validation) | set(test)
    splits = {
        "train": [(name, label) for name, label in clips.items() if name not in held_out],
        "validation": [(name, clips[name]) for name in validation],
        "test": [(name, clips[name]) for name in test],
    }
    return splits, list(WORDS)
