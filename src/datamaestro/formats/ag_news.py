"""AG News (Zhang et al.'s classification version): CSV without a header, ``"class","title","description"``.

Classes are numbered from 1 (1 World, 2 Sports, 3 Business, 4 Sci/Tech); the
text of an article is its title, a space and its description, as published
(backslashes where the original had line breaks included), and its label
the class minus 1.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Optional

from datamaestro.errors import FormatError
from datamaestro.formats.bounds import check_bytes
from datamaestro.paths import printable


def read_articles(path: Path, categories: Sequence[str], max_bytes: Optional[int] = None) -> Iterator[tuple[str, int]]:
    """The (title and description, label) of each row of ``path``."""
    check_bytes(path.stat().st_size, max_bytes, path, "the CSV file")
    classes = {str(k + 1): k for k in range(len(categories))}
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        try:
            for row in rows:
                if len(row) != 3:
                    raise FormatError(f"{path}: line {rows.line_num} has {len(row)} fields, not 3 (class, title, description)")
                if row[0] not in classes:
                    raise FormatError(f"{path}: line {rows.line_num}: class '{printable(row[0], 50)}' is not 1 to {len(classes)}")
                yield f"{row[1]} {row[2]}", classes[row[0]]
        except csv.Error as e:
            raise FormatError(f"{path}: line {rows.line_num}: not CSV ({e})") from None
        except UnicodeDecodeError as e:
            raise FormatError(f"{path}: not UTF-8 text ({e.reason})") from None
