"""LibriSpeech subsets: ``<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utterance>.flac`` and transcripts.

Each chapter folder holds its FLAC clips and ``<speaker>-<chapter>.trans.txt``,
one line per utterance: ``<speaker>-<chapter>-<utterance> <TRANSCRIPT IN
CAPITALS>``. Clips are listed in transcript order; the label of a clip is
its speaker, speakers numbered in increasing order of their ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from datamaestro.errors import FormatError
from datamaestro.formats.audio import read_listing

UTTERANCE = re.compile(r"([0-9]+)-([0-9]+)-([0-9]+)")


@dataclass
class Utterances:
    """The clips of a subset (paths relative to it), their speaker labels and transcripts, and the speaker ids."""

    paths: list[str]
    labels: list[int]
    texts: list[str]
    speakers: list[str]


def chapter_lines(chapter: Path, speaker: str) -> list[tuple[str, str]]:
    """The (utterance id, transcript) pairs of one chapter folder."""
    path = chapter / f"{speaker}-{chapter.name}.trans.txt"
    pairs = []
    for number, line in enumerate(read_listing(path), start=1):
        if not line.strip():
            continue
        utterance, _, text = line.partition(" ")
        match = UTTERANCE.fullmatch(utterance)
        if match is None or match.group(1) != speaker or match.group(2) != chapter.name or not text.strip():
            raise FormatError(f"{path} line {number}: expected '{speaker}-{chapter.name}-<n> <TRANSCRIPT>'")
        pairs.append((utterance, text.strip()))
    return pairs


def read(subset: Path) -> Utterances:
    """Every utterance of the subset folder ``subset`` (e.g. ``LibriSpeech/dev-clean``)."""
    speakers = sorted((p.name for p in subset.iterdir() if p.is_dir() and p.name.isdigit()), key=int)
    if not speakers:
        raise FormatError(f"{subset}: no speaker folders; the archive is not the dataset's")
    found = Utterances([], [], [], speakers)
    for label, speaker in enumerate(speakers):
        chapters = sorted((p for p in (subset / speaker).iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
        for chapter in chapters:
            for utterance, text in chapter_lines(chapter, speaker):
                found.paths.append(f"{speaker}/{chapter.name}/{utterance}.flac")
                found.labels.append(label)
                found.texts.append(text)
    return found
