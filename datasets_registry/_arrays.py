"""The typed splits of the ``.npy`` layout that derived builds write (``datamaestro.formats.splits``).

(A module whose name starts with ``_`` defines no datasets: the registry skips it.)
"""

import json
from pathlib import Path

from datamaestro.data.cifar import CoarseImageClassification, CoarseLabelledImages
from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.npy import NPY
from datamaestro.formats.cifar import ARRAYS_META
from datamaestro.formats.splits import split_files


def npy_split(folder: Path, split: str) -> LabelledImages:
    """The split ``save_split`` wrote in ``folder``."""
    images, labels = split_files(folder, split)
    return LabelledImages(images=NPY(path=images), labels=NPY(path=labels))


def npy_splits(folder: Path, categories: list[str], *splits: str) -> dict:
    """The fields of a classification dataset: each split of ``folder`` and the class names."""
    return {**{split: npy_split(folder, split) for split in splits}, "categories": categories}


def cifar_classification(folder: Path) -> ImageClassification:
    """The ``ImageClassification`` (or ``CoarseImageClassification``) that ``formats.cifar.batches_to_arrays`` wrote."""
    meta = json.loads((folder / ARRAYS_META).read_text(encoding="utf-8"))
    coarse = meta.get("coarse_categories")
    if not coarse:
        return ImageClassification(
            train=npy_split(folder, "train"), test=npy_split(folder, "test"), categories=meta["categories"]
        )
    splits = [
        CoarseLabelledImages(
            images=NPY(path=folder / f"{split}_images.npy"), labels=NPY(path=folder / f"{split}_labels.npy"),
            coarse_labels=NPY(path=folder / f"{split}_coarse_labels.npy"),
        )
        for split in ("train", "test")
    ]
    return CoarseImageClassification(
        train=splits[0], test=splits[1], categories=meta["categories"], coarse_categories=coarse
    )
