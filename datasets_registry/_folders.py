"""Shared by the definitions that index image folders at prepare time (``datamaestro.loaders.folder``)."""

from pathlib import Path
from typing import Optional

from datamaestro.loaders.folder import write_categories, write_index


def write_indexes(out: Path, root: Path, splits: dict[str, list[tuple[str, int]]], names: Optional[list[str]] = None) -> None:
    """Write each split's index ((image path relative to ``root``, label) pairs) and the class names."""
    for split, items in splits.items():
        write_index(out, split, root, items)
    if names is not None:
        write_categories(out, names)
