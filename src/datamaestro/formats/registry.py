"""The layouts by name: ``read(path, format)``, ``write(dataset, path, format)``, filters.

Writing goes into a temporary folder beside the output, renamed into place
only when everything was written: a failure leaves no half-done output.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

import numpy as np

from datamaestro.errors import UsageError
from datamaestro.formats.dataset import Dataset, Subset
from datamaestro.formats.filters import apply_filters
from datamaestro.storage import replace_folder

#: format name -> module (each has ``read(folder)`` and ``write(dataset, folder, **options)``)
FORMATS = {
    "mnist": "datamaestro.formats.mnist",
    "mnist_csv": "datamaestro.formats.mnist_csv",
    "cifar": "datamaestro.formats.cifar",
    "imagenet": "datamaestro.formats.imagenet",
}


def format_module(name: str) -> ModuleType:
    """The module implementing the layout ``name``."""
    try:
        return importlib.import_module(FORMATS[name])
    except KeyError:
        raise UsageError(f"unknown format '{name}'; known formats: {', '.join(FORMATS)}") from None


def read(path: Path | str, format: str, *, allow_outside_links: bool = False) -> Dataset:
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
    return module.read(path)


def write(
    dataset: Dataset,
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
        module.write(dataset, tmp, save_dataset_meta=save_dataset_meta, image_ext=image_ext, save_media=save_media)
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
) -> Dataset:
    """Read ``source``, keep the items the filters select, write ``output``; returns what was written."""
    dataset = apply_filters(read(source, source_format, allow_outside_links=allow_outside_links), filters)
    write(dataset, output, output_format, **options)
    return dataset


def labelled_images(data: Any) -> bool:
    """Whether ``data`` is a split of labelled images (it has ``images`` and ``labels`` tensors)."""
    return hasattr(data, "images") and hasattr(data, "labels")


def from_data(data: Any) -> Dataset:
    """The in-memory dataset of a prepared image classification (or of one split of labelled images).

    The data types are recognised by what they hold, not imported: they read
    their files with this package."""
    export = getattr(data, "export_dataset", None)
    if callable(export):  # data kinds that know their own layout (image folders)
        exported: Dataset = export()
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
