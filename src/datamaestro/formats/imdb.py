"""The Large Movie Review Dataset's folders: ``<split>/<label>/<id>_<rating>.txt``, one review per file.

The labelled reviews of a split are read in (label, id) order, as text
(UTF-8, undecodable bytes replaced), with the label's position in the given
categories.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from datamaestro.errors import FormatError


def review_id(path: Path) -> tuple[int, str]:
    """The sort key of a review file: its number, then its name."""
    number = path.stem.split("_")[0]
    return (int(number), path.name) if number.isdigit() else (-1, path.name)


def reviews(folder: Path, split: str, categories: Sequence[str]) -> list[tuple[str, int]]:
    """The (text, label) pairs of ``split``: the files of ``<split>/<category>`` for each category."""
    items = []
    for label, name in enumerate(categories):
        where = folder / split / name
        if not where.is_dir():
            raise FormatError(f"{where}: missing: the archive is not the IMDB reviews'")
        for path in sorted(where.glob("*.txt"), key=review_id):
            try:
                items.append((path.read_bytes().decode("utf-8", errors="replace"), label))
            except OSError as e:
                raise FormatError(f"{path}: cannot read ({e.strerror})") from None
    return items
