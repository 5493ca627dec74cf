"""OpenSLR's yesno: ``waves_yesno/<b1>_<b2>_..._<b8>.wav``, the name spelling the eight words said.

Each clip is one man saying eight Hebrew words, each "yes" (1) or "no" (0):
its label is that sequence, a row of eight 0/1 values.
"""

from __future__ import annotations

import re
from pathlib import Path

from datamaestro.errors import FormatError

NAME = re.compile(r"[01](?:_[01]){7}\.wav")
WORDS = ["no", "yes"]


def read(folder: Path) -> list[tuple[str, list[int]]]:
    """The (clip file, eight 0/1 labels) pairs of every recording, in name order."""
    items = []
    for path in sorted(folder.glob("*.wav")):
        if NAME.fullmatch(path.name) is None:
            raise FormatError(f"{path}: expected a recording named by its eight words, like 0_1_0_0_1_0_1_1.wav")
        items.append((path.name, [int(b) for b in path.stem.split("_")]))
    if not items:
        raise FormatError(f"{folder}: no recordings; the archive is not the dataset's")
    return items
