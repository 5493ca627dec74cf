"""Shared by the definitions that index audio clips at prepare time (``datamaestro.loaders.audio``)."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional

from datamaestro.loaders.audio import Label, write_index
from datamaestro.loaders.folder import write_categories


def write_indexes(out: Path, root: Path, splits: Mapping[str, Sequence[tuple[str, Label]]], names: Optional[list[str]] = None) -> None:
    """Write each split's index ((clip path relative to ``root``, label) pairs) and the class names."""
    for split, items in splits.items():
        write_index(out, split, root, items)
    if names is not None:
        write_categories(out, names)
