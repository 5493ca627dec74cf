"""GLUE's single-sentence TSV files (SST-2): a header, then one sentence a line.

``train.tsv`` and ``dev.tsv`` hold ``sentence<TAB>label`` (labels 0 and 1);
``test.tsv`` holds ``index<TAB>sentence`` and no labels (label -1). Fields are
split on tabs with no quoting (sentences hold raw quotes) and kept as
published, trailing spaces included.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Optional

from datamaestro.errors import FormatError
from datamaestro.formats.bounds import check_bytes
from datamaestro.paths import printable

#: the header of a labelled file, and of the test file
LABELLED = ["sentence", "label"]
UNLABELLED = ["index", "sentence"]


def read_sentences(
    path: Path, categories: Sequence[str], max_bytes: Optional[int] = None
) -> Iterator[tuple[str, int]]:
    """The (sentence, label) of each line of ``path`` (label -1 in a test file without labels)."""
    check_bytes(path.stat().st_size, max_bytes, path, "the TSV file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = lines[0].rstrip("\r").split("\t") if lines else []
    if header not in (LABELLED, UNLABELLED):
        raise FormatError(f"{path}: expected the header 'sentence<TAB>label' or 'index<TAB>sentence'; not a GLUE file")
    for number, line in enumerate(lines[1:], 2):
        fields = line.rstrip("\r").split("\t")
        if len(fields) != 2:
            raise FormatError(f"{path}: line {number} has {len(fields)} fields, not 2")
        if header == UNLABELLED:
            yield fields[1], -1
        elif fields[1] in ("0", "1") and int(fields[1]) < len(categories):
            yield fields[0], int(fields[1])
        else:
            raise FormatError(f"{path}: line {number}: label '{printable(fields[1], 50)}' is not 0 or 1")
