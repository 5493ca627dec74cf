"""The layouts by name: ``read(path, format)``, ``write(dataset, path, format)``, filters.

The classification layouts (mnist, mnist_csv, cifar, imagenet) read into a
``Dataset``, the detection layouts (voc, coco, yolo) into an
``AnnotatedDataset``; ``write`` takes either and converts as Datumaro does:
an annotated item becomes a labelled image by its first image-level label
(objects are dropped), a labelled image becomes an item with that label and
no objects. Writing goes into a temporary folder beside the output, renamed
into place only when everything was written: a failure leaves no half-done
output.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, Optional, Union

import numpy as np

from datamaestro.errors import UsageError
from datamaestro.formats.annotations import AnnotatedDataset, from_classification, to_classification
from datamaestro.formats.dataset import Dataset, Subset
from datamaestro.formats.filters import apply_filters
from datamaestro.storage import replace_folder

#: format name -> module (each has ``read(folder)`` and ``write(dataset, folder, **options)``)
FORMATS = {
    "mnist": "datamaestro.formats.mnist",
    "mnist_csv": "datamaestro.formats.mnist_csv",
    "cifar": "datamaestro.formats.cifar",
    "imagenet": "datamaestro.formats.imagenet",
    "voc": "datamaestro.formats.voc",
    "coco": "datamaestro.formats.coco",
    "yolo": "datamaestro.formats.yolo",
}
#: the layouts of annotated images (objects, masks): read into and written from an ``AnnotatedDataset``
ANNOTATED_FORMATS = ("voc", "coco", "yolo")
#: a dataset of either kind
AnyDataset = Union[Dataset, AnnotatedDataset]


def format_module(name: str) -> ModuleType:
    """The module implementing the layout ``name``."""
    try:
        return importlib.import_module(FORMATS[name])
    except KeyError:
        raise UsageError(f"unknown format '{name}'; known formats: {', '.join(FORMATS)}") from None


def read(path: Path | str, format: str, *, allow_outside_links: bool = False) -> AnyDataset:
    """Read the dataset stored at ``path`` in the layout ``format``.

    ``allow_outside_links``: follow symbolic links leading outside ``path``
    (imagenet folders; refused by default).
    """
    module = format_module(format)
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: no such folder")
    if format == "imagenet":
        return module.read(path, allow_outside_links=allow_outside_links)
    dataset: AnyDataset = module.read(path)
    return dataset


def as_layout(dataset: AnyDataset, format: str) -> AnyDataset:
    """``dataset`` in the kind that the layout ``format`` writes (converted when it is the other kind)."""
    if format in ANNOTATED_FORMATS:
        return from_classification(dataset) if isinstance(dataset, Dataset) else dataset
    return to_classification(dataset) if isinstance(dataset, AnnotatedDataset) else dataset


def write(
    dataset: AnyDataset,
    path: Path | str,
    format: str,
    *,
    save_dataset_meta: bool = False,
    image_ext: Optional[str] = None,
    overwrite: bool = False,
    save_media: bool = True,
) -> Path:
    """Write ``dataset`` to the folder ``path`` in the layout ``format``; returns ``path``.

    ``path`` must not exist or be empty, unless ``overwrite`` is true.
    ``save_media=False`` writes labels and ids only (Datumaro's default export).
    """
    module = format_module(format)
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path}: exists and is not a folder")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise UsageError(f"{path}: the output folder is not empty; choose another or pass --overwrite")
    if not path.parent.is_dir():
        raise UsageError(f"{path}: the folder {path.parent} does not exist; create it first")
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        module.write(as_layout(dataset, format), tmp, save_dataset_meta=save_dataset_meta, image_ext=image_ext, save_media=save_media)
        replace_folder(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def convert(
    source: Path | str,
    source_format: str,
    output: Path | str,
    output_format: str,
    *,
    filters: Iterable[str] = (),
    allow_outside_links: bool = False,
    **options: Any,
) -> AnyDataset:
    """Read ``source``, keep the items the filters select, write ``output``; returns what was written."""
    dataset = apply_filters(read(source, source_format, allow_outside_links=allow_outside_links), filters)
    write(dataset, output, output_format, **options)
    return dataset


def labelled_images(data: Any) -> bool:
    """Whether ``data`` is a split of labelled images (it has ``images`` and ``labels`` tensors)."""
    return hasattr(data, "images") and hasattr(data, "labels")


def from_data(data: Any) -> AnyDataset:
    """The in-memory dataset of a prepared image classification or detection (or of one split of labelled images).

    The data types are recognised by what they hold, not imported: they read
    their files with this package. A data type with ``export_dataset()``
    (image folders, detection datasets) gives its own ``Dataset`` or
    ``AnnotatedDataset``."""
    export = getattr(data, "export_dataset", None)
    if callable(export):  # data kinds that know their own layout (image folders, detection)
        exported: AnyDataset = export()
        return exported
    splits: dict[str, Any] = {"default": data} if labelled_images(data) else {}
    if not splits and callable(getattr(data, "splits", None)):
        splits = data.splits()
    if not any(labelled_images(split) for split in splits.values()):
        raise UsageError(
            f"cannot export a {type(data).__name__}: only image classification datasets can be"
        )
    categories = getattr(data, "categories", None)
    for name, split in splits.items():
        if not labelled_images(split):
            raise UsageError(f"cannot export split '{name}': it is not labelled images")
    subsets = {}
    for name, split in splits.items():
        subsets[name] = Subset(split.images.data(), np.asarray(split.labels.data(), dtype=np.int64))
        categories = categories or split.categories
    if categories is None:
        top = max((int(s.labels.max()) for s in subsets.values() if len(s)), default=-1)
        categories = [str(i) for i in range(top + 1)]
    parents = None
    coarse_categories = getattr(data, "coarse_categories", None)
    first = next(iter(splits.values()), None)
    coarse_categories = coarse_categories or getattr(first, "coarse_categories", None)
    if coarse_categories:
        parents = [""] * len(categories)
        for name, split in splits.items():
            coarse = getattr(split, "coarse_labels", None)
            if coarse is None:
                continue
            for fine, c in zip(subsets[name].labels.tolist(), np.asarray(coarse.data()).tolist()):
                if fine >= 0 and c >= 0 and not parents[fine]:
                    parents[fine] = coarse_categories[c]
    dataset = Dataset(subsets, list(categories), parents, coarse_categories)
    dataset.check_labels("the prepared dataset")
    return dataset
