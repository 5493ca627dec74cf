"""The Free Spoken Digit Dataset: ``recordings/<digit>_<speaker>_<index>.wav``.

No split file is published; the README's rule is that recordings with index
0 to 4 are the test split, the others (5 to 49) the training split.
"""

from __future__ import annotations

import re
from pathlib import Path

from datamaestro.errors import FormatError

NAME = re.compile(r"([0-9])_([A-Za-z]+)_([0-9]+)\.wav")
#: recordings with an index below this are the test split
TEST_BELOW = 5


def read(recordings: Path) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """The (clip file, digit) pairs of the train and test splits, and the class names "0" to "9"."""
    splits: dict[str, list[tuple[str, int]]] = {"train": [], "test": []}
    for path in sorted(recordings.glob("*.wav")):
        match = NAME.fullmatch(path.name)
        if match is None:
            raise FormatError(f"{path}: expected a recording named <digit>_<speaker>_<index>.wav")
        split = "test" if int(match.group(3)) < TEST_BELOW else "train"
        splits[split].append((path.name, int(match.group(1))))
    if not splits["train"] and not splits["test"]:
        raise FormatError(f"{recordings}: no recordings; the archive is not the dataset's")
    return splits, [str(d) for d in range(10)]
