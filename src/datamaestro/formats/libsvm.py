"""LIBSVM's text format, bzip2-compressed: one ``label index:value ...`` line per example.

Indices run from 1 and omitted features are 0. The features are read as a
dense float32 (N, features) array, bounded: a line may hold at most
``MAX_LINE`` characters, a file ``MAX_EXAMPLES`` examples, and the array at
most ``max_bytes``.
"""

from __future__ import annotations

import bz2
from pathlib import Path
from typing import Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.bounds import check_bytes

#: the longest line read (USPS has 9,298 lines of about 3,000 characters)
MAX_LINE = 1 << 16
#: the most examples a file may hold
MAX_EXAMPLES = 1_000_000


def parse(line: str, features: int) -> tuple[int, np.ndarray]:
    """The label and dense features of one ``label index:value ...`` line (ValueError if it is not one)."""
    fields = line.split()
    row = np.zeros(features, dtype=np.float32)
    label = int(float(fields[0]))
    for item in fields[1:]:
        index, _, value = item.partition(":")
        k = int(index)
        if not 1 <= k <= features:
            raise ValueError(f"feature index {k} outside 1..{features}")
        row[k - 1] = float(value)
    return label, row


def read(path: Path, features: int, max_bytes: Optional[int] = None) -> tuple[np.ndarray, np.ndarray]:
    """(features as float32 (N, features), integer labels) of a bzip2 LIBSVM file."""
    rows: list[np.ndarray] = []
    labels: list[int] = []
    try:
        with bz2.open(path, "rt", encoding="ascii") as f:
            for number, line in enumerate(iter(lambda: f.readline(MAX_LINE), ""), 1):
                if len(line) == MAX_LINE and not line.endswith("\n"):
                    raise FormatError(f"{path}: line {number} is longer than {MAX_LINE} characters")
                if number > MAX_EXAMPLES:
                    raise FormatError(f"{path}: more than {MAX_EXAMPLES} examples")
                if not line.split():
                    continue
                check_bytes((len(rows) + 1) * features * 4, max_bytes, path, "its features")
                try:
                    label, row = parse(line, features)
                except ValueError as e:
                    raise FormatError(f"{path}: line {number} is not LIBSVM 'label index:value ...' ({e})") from None
                labels.append(label)
                rows.append(row)
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise FormatError(f"{path}: not a readable bzip2 LIBSVM file ({e})") from None
    if not rows:
        raise FormatError(f"{path}: no examples")
    return np.stack(rows), np.array(labels, dtype=np.int64)
