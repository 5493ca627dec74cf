"""The typed splits of the ``.npy`` layout that derived builds write (``datamaestro.formats.splits``).

(A module whose name starts with ``_`` defines no datasets: the registry skips it.)
"""

from pathlib import Path

from datamaestro.data.images import LabelledImages
from datamaestro.data.npy import NPY
from datamaestro.formats.splits import split_files


def npy_split(folder: Path, split: str) -> LabelledImages:
    """The split ``save_split`` wrote in ``folder``."""
    images, labels = split_files(folder, split)
    return LabelledImages(images=NPY(path=images), labels=NPY(path=labels))


def npy_splits(folder: Path, categories: list[str], *splits: str) -> dict:
    """The fields of a classification dataset: each split of ``folder`` and the class names."""
    return {**{split: npy_split(folder, split) for split in splits}, "categories": categories}
