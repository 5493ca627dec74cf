"""The ``cifar`` layout (CIFAR-10/100 "python version", and Datumaro's writer of it).

Files: ``batches.meta`` (CIFAR-10: ``label_names``) or ``meta`` (CIFAR-100:
``fine_label_names`` and ``coarse_label_names``), then one pickle per subset
(a file without extension: ``data_batch_1``, ``test_batch``, ``train``...)
holding ``data`` (one row of 3x32x32 values per image, channel first),
``labels`` or ``fine_labels`` (+ ``coarse_labels``), ``filenames`` and
optionally Datumaro's ``image_sizes`` for images that are not 32x32.
Pickles are read with ``safe_pickle`` only; keys may be str or bytes.
An empty ``data`` with labels is an export without media (Datumaro's
default): labelled items without pixels.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any, Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats import safe_pickle
from datamaestro.formats.dataset import (
    NO_LABEL,
    Dataset,
    Subset,
    read_label_names,
    to_rgb,
    write_dataset_meta,
)

NAME = "cifar"
META_10 = "batches.meta"
META_100 = "meta"
IMAGE_SIZE = 32
CIFAR10_LABELS = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]


def _text(value: Any) -> Any:
    """A name read from a pickle as text: UTF-8 when it is, else Latin-1 (every byte a character)."""
    if not isinstance(value, bytes):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin1")


def load_batch(path: Path) -> dict[str, Any]:
    """A CIFAR pickle as a dict with str keys (the published files use bytes keys)."""
    content = safe_pickle.load(path)
    if not isinstance(content, dict):
        raise FormatError(f"{path}: expected a pickled dict, got {type(content).__name__}")
    return {_text(k): v for k, v in content.items()}


def subset_files(folder: Path) -> list[Path]:
    """The subset pickles: files without an extension that are not the meta files."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.suffix and p.name not in (META_10, META_100) and not p.name.startswith(".")
    )


def read(folder: Path) -> Dataset:
    """Read the ``cifar`` layout in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir() or not ((folder / META_10).is_file() or (folder / META_100).is_file() or subset_files(folder)):
        raise FormatError(f"{folder}: no '{META_10}' or '{META_100}' file: not the cifar layout")
    categories, coarse_names = _read_meta(folder)
    custom = read_label_names(folder)
    if custom is not None:
        categories = custom
    parents: list[str] = [""] * len(categories)
    subsets = {}
    for path in subset_files(folder):
        subset, coarse = read_batch(path)
        subsets[path.name] = subset
        bad = (subset.labels < NO_LABEL) | (subset.labels >= len(categories))
        if bad.any():
            i = int(np.argmax(bad))
            raise FormatError(
                f"{path}: item {i} ({subset.item_ids()[i]!r}) has label {int(subset.labels[i])}, "
                f"outside the {len(categories)} label names of the meta file"
            )
        if coarse is not None:
            for i, (fine, c) in enumerate(zip(subset.labels, coarse)):
                if fine < 0 or c < 0:
                    continue
                if c >= len(coarse_names):
                    raise FormatError(
                        f"{path}: item {i} has coarse label {int(c)}, outside the "
                        f"{len(coarse_names)} coarse label names of the meta file"
                    )
                if not parents[fine]:
                    parents[fine] = coarse_names[c]
    if not any(parents):
        return Dataset(subsets, categories)
    return Dataset(subsets, categories, parents=parents, coarse_categories=coarse_names or None)


def _read_meta(folder: Path) -> tuple[list[str], list[str]]:
    if (folder / META_10).is_file():
        meta = load_batch(folder / META_10)
        if "label_names" in meta:
            return [_text(n) for n in meta["label_names"]], []
        names = meta.get("fine_label_names")
        if names is None:
            raise FormatError(f"{folder / META_10}: no 'label_names' key")
        return [_text(n) for n in names], [_text(n) for n in meta.get("coarse_label_names", [])]
    if (folder / META_100).is_file():
        meta = load_batch(folder / META_100)
        names = meta.get("fine_label_names", meta.get("label_names"))
        if names is None:
            raise FormatError(f"{folder / META_100}: no 'fine_label_names' key")
        return [_text(n) for n in names], [_text(n) for n in meta.get("coarse_label_names", [])]
    return list(CIFAR10_LABELS), []


def read_batch(path: Path) -> tuple[Subset, Optional[np.ndarray]]:
    """One subset pickle: its items, and its coarse labels (None for CIFAR-10)."""
    batch = load_batch(path)
    key = "labels" if "labels" in batch else "fine_labels"
    if key not in batch:
        raise FormatError(f"{path}: CIFAR batch has no 'labels' (nor 'fine_labels') key")
    if "data" not in batch:
        raise FormatError(f"{path}: CIFAR batch has no 'data' key")
    labels = _labels(batch[key], path, key)
    coarse = _labels(batch["coarse_labels"], path, "coarse_labels") if "coarse_labels" in batch else None
    n = len(labels)
    filenames = batch.get("filenames")
    ids = None
    if filenames is not None:
        if len(filenames) != n:
            raise FormatError(f"{path}: {len(filenames)} filenames but {n} {key}")
        ids = [os.path.splitext(str(_text(f)))[0] for f in filenames]
    if coarse is not None and len(coarse) != n:
        raise FormatError(f"{path}: {len(coarse)} coarse_labels but {n} {key}")
    images = _images(batch["data"], batch.get("image_sizes"), n, path)
    return Subset(images, labels, ids), coarse


def _labels(values: Any, path: Path, key: str) -> np.ndarray:
    """The integers under ``key`` (None: no label) as int64; a FormatError for anything else."""
    try:
        ints = [NO_LABEL if v is None else int(v) for v in values]
    except (TypeError, ValueError, OverflowError):
        raise FormatError(f"{path}: '{key}' must be a list of integers") from None
    bounds = np.iinfo(np.int64)
    for i, value in enumerate(ints):
        if not bounds.min <= value <= bounds.max:
            raise FormatError(
                f"{path}: item {i} has a label in '{key}' too large for 64 bits: "
                "the file is corrupt or hostile; use an intact copy"
            )
    return np.array(ints, dtype=np.int64)


def _images(data: Any, sizes: Any, n: int, path: Path) -> np.ndarray | list | None:
    if not isinstance(data, np.ndarray) and not isinstance(data, list):
        raise FormatError(f"{path}: 'data' must be an array, got {type(data).__name__}")
    if len(data) == 0 and n:
        return None  # written without media
    if len(data) != n:
        raise FormatError(f"{path}: 'data' holds {len(data)} images but there are {n} labels")
    if sizes is not None and len(sizes) != n:
        raise FormatError(f"{path}: 'image_sizes' has {len(sizes)} entries for {n} images")
    if (
        sizes is None
        and isinstance(data, np.ndarray)
        and data.dtype != object
        and data.ndim == 2
        and data.shape[1] == 3 * IMAGE_SIZE * IMAGE_SIZE
    ):
        return _uint8(data, path).reshape(n, 3, IMAGE_SIZE, IMAGE_SIZE)
    images = []
    for i in range(n):
        h, w = (IMAGE_SIZE, IMAGE_SIZE) if sizes is None else _image_size(sizes[i], i, path)
        row = np.asarray(data[i])
        if row.size != 3 * h * w:
            raise FormatError(
                f"{path}: image {i} has {row.size} values, expected 3x{h}x{w} = {3 * h * w}"
            )
        images.append(_uint8(row, path).reshape(3, h, w))
    if images and all(im.shape == images[0].shape for im in images):
        return np.stack(images)
    return images


def _image_size(size: Any, i: int, path: Path) -> tuple[int, int]:
    """Datumaro's ``image_sizes`` entry of image ``i``: (height, width), positive integers."""
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError, OverflowError):
        raise FormatError(f"{path}: 'image_sizes' entry {i} is not a (height, width) pair of integers") from None
    if h <= 0 or w <= 0:
        raise FormatError(f"{path}: 'image_sizes' entry {i} is {h}x{w}: sizes must be positive")
    return h, w


def _uint8(values: np.ndarray, path: Path) -> np.ndarray:
    if values.dtype == np.uint8:
        return values
    values = values.astype(np.int64)
    if values.size and (values.min() < 0 or values.max() > 255):
        raise FormatError(f"{path}: pixel values outside 0..255 in 'data'")
    return values.astype(np.uint8)


def write(
    dataset: Dataset, folder: Path, *, save_dataset_meta: bool = False, save_media: bool = True, **_: object
) -> None:
    """Write ``dataset`` in the ``cifar`` layout into the (existing, empty) ``folder``.

    Without media (``save_media=False``, or items without pixels) ``data`` is
    an empty array, as Datumaro writes it.
    """
    folder = Path(folder)
    if save_dataset_meta:
        write_dataset_meta(folder, dataset.categories)
    coarse_names = dataset.coarse_names()
    if coarse_names:
        meta = {"fine_label_names": list(dataset.categories), "coarse_label_names": coarse_names}
        _dump(folder / META_100, meta)
    else:
        _dump(folder / META_10, {"label_names": list(dataset.categories)})
    for name, subset in dataset:
        content: dict[str, Any] = {"filenames": [f"{x}.png" for x in subset.item_ids()]}
        labels = [None if v == NO_LABEL else int(v) for v in subset.labels.tolist()]
        coarse = dataset.coarse_labels(subset)
        if coarse is not None:
            content["fine_labels"] = labels
            content["coarse_labels"] = [None if v == NO_LABEL else int(v) for v in coarse.tolist()]
        else:
            content["labels"] = labels
        stacked = subset.images if isinstance(subset.images, np.ndarray) else None
        if not save_media or subset.images is None:
            content["data"] = np.empty(0, dtype=object)
        elif stacked is not None and stacked.shape[-2:] == (IMAGE_SIZE, IMAGE_SIZE):
            rgb = _rgb_stack(stacked)
            content["data"] = rgb.reshape(len(rgb), -1)
        else:
            rows = [to_rgb(im) for im in subset.images]
            data = np.empty(len(rows), dtype=object)
            for i, im in enumerate(rows):
                data[i] = np.ascontiguousarray(im, dtype=np.uint8).reshape(-1)
            content["data"] = data
            content["image_sizes"] = [(int(im.shape[1]), int(im.shape[2])) for im in rows]
        label = _batch_label(name)
        if label:
            content["batch_label"] = label
        _dump(folder / name, content)


def _rgb_stack(images: np.ndarray) -> np.ndarray:
    if images.ndim == 3:
        return np.ascontiguousarray(np.broadcast_to(images[:, None], (len(images), 3, *images.shape[1:])))
    if images.shape[1] == 1:
        return np.ascontiguousarray(np.broadcast_to(images, (len(images), 3, *images.shape[2:])))
    return np.ascontiguousarray(images[:, :3], dtype=np.uint8)


def _batch_label(subset: str) -> Optional[str]:
    if subset.startswith("data_batch_") and subset[len("data_batch_"):].isdigit():
        return f"training batch {subset[len('data_batch_'):]} of 5"
    if subset in ("test", "test_batch"):
        return "testing batch 1 of 1"
    return None


def _dump(path: Path, content: dict[str, Any]) -> None:
    with open(path, "wb") as f:
        pickle.dump(content, f, protocol=4)


# --- prepare time: the published batches as memory-mappable arrays -------------------

ARRAYS_META = "categories.json"


def _split_files(folder: Path) -> dict[str, list[Path]]:
    """The published train and test batches of CIFAR-10 (data_batch_N, test_batch) or -100 (train, test)."""
    if (folder / "train").is_file():
        return {"train": [folder / "train"], "test": [folder / "test"]}
    train = sorted(folder.glob("data_batch_*"), key=lambda p: int(p.name.rsplit("_", 1)[-1]) if p.name.rsplit("_", 1)[-1].isdigit() else 0)
    return {"train": train, "test": [folder / "test_batch"]}


def batches_to_arrays(folder: Path, out: Path) -> None:
    """Write the train/test images ``(N, 3, 32, 32)`` uint8 and int64 labels of ``folder`` as ``.npy`` files."""
    folder, out = Path(folder), Path(out)
    categories, coarse_names = _read_meta(folder)
    for split, files in _split_files(folder).items():
        if not files:
            raise FormatError(f"{folder}: no {split} batch")
        images, labels, coarse = [], [], []
        for path in files:
            if not path.is_file():
                raise FormatError(f"{path}: missing {split} batch")
            subset, c = read_batch(path)
            stacked = subset.stacked()
            if stacked is None or stacked.shape[1:] != (3, IMAGE_SIZE, IMAGE_SIZE):
                raise FormatError(f"{path}: images are not all 3x32x32")
            bad = (subset.labels < 0) | (subset.labels >= len(categories))
            if bad.any():
                i = int(np.argmax(bad))
                raise FormatError(f"{path}: item {i} has label {int(subset.labels[i])}, outside the {len(categories)} label names")
            images.append(stacked)
            labels.append(subset.labels)
            if c is not None:
                coarse.append(c)
        np.save(out / f"{split}_images.npy", np.concatenate(images))
        np.save(out / f"{split}_labels.npy", np.concatenate(labels).astype(np.int64))
        if coarse:
            np.save(out / f"{split}_coarse_labels.npy", np.concatenate(coarse).astype(np.int64))
    meta = {"categories": categories, "coarse_categories": coarse_names or None}
    (out / ARRAYS_META).write_text(json.dumps(meta, indent=1), encoding="utf-8")
