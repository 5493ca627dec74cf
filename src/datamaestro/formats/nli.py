"""Natural language inference files in JSON lines (SNLI, MultiNLI): one pair a line.

Each line is an object with ``sentence1`` (the premise), ``sentence2`` (the
hypothesis) and ``gold_label`` (a class name, or ``-`` when the annotators
reached no consensus: label -1); other fields (parses, annotator labels,
genre, ids) are left out. Lines are read one at a time, each within
``MAX_LINE`` bytes; a line that is not such an object, too deeply nested JSON,
or an unknown label is a one-line error naming the file and the line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Optional

from datamaestro.errors import FormatError
from datamaestro.formats.bounds import check_bytes
from datamaestro.paths import printable

#: the longest line read (SNLI's and MultiNLI's lines, with their parse trees, are a few kB)
MAX_LINE = 1 << 20
#: the gold label of a pair without consensus, and its label
NO_CONSENSUS = "-"
NO_LABEL = -1


def read_pairs(path: Path, categories: Sequence[str], max_bytes: Optional[int] = None) -> Iterator[tuple[str, str, int]]:
    """The (premise, hypothesis, label) of each line of ``path``; labels index ``categories``, -1 for ``-``."""
    check_bytes(path.stat().st_size, max_bytes, path, "the JSON lines file")
    labels = {name: k for k, name in enumerate(categories)}
    labels[NO_CONSENSUS] = NO_LABEL
    with open(path, "rb") as lines:
        for number, line in enumerate(iter(lambda: lines.readline(MAX_LINE + 1), b""), 1):
            if len(line) > MAX_LINE:
                raise FormatError(f"{path}: line {number} is longer than {MAX_LINE} bytes; it is not an NLI file")
            if line.strip():
                yield pair_of(line, labels, path, number)


def pair_of(line: bytes, labels: dict[str, int], path: Path, number: int) -> tuple[str, str, int]:
    """The (premise, hypothesis, label) of one line."""
    try:
        row = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FormatError(f"{path}: line {number} is not a JSON object (or is nested too deeply)") from None
    if not isinstance(row, dict):
        raise FormatError(f"{path}: line {number} is not a JSON object")
    first, second, gold = row.get("sentence1"), row.get("sentence2"), row.get("gold_label")
    if not (isinstance(first, str) and isinstance(second, str) and isinstance(gold, str)):
        raise FormatError(f"{path}: line {number}: expected the strings sentence1, sentence2 and gold_label")
    if gold not in labels:
        known = ", ".join(labels)
        raise FormatError(f"{path}: line {number}: unknown gold_label '{printable(gold, 50)}' (expected one of {known})")
    return first, second, labels[gold]
