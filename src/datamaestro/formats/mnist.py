"""Datumaro's ``mnist`` layout: gzipped IDX files per subset, optional label names.

Files: ``<subset>-images-idx3-ubyte.gz`` and ``<subset>-labels-idx1-ubyte.gz``
(``t10k`` is the ``test`` subset), ``labels.txt`` / ``dataset_meta.json`` for
class names (else '0'..'9'), and Datumaro's ``<subset>-meta.gz`` extension
(a gzipped ``<U32`` array) for item ids and image sizes other than 28x28.
Label 255 means "no label". Uncompressed ``...-ubyte`` files are read too.
A labels file without its images file is an export without media (as
Datumaro writes by default): labelled items without pixels.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats import idx
from datamaestro.formats.compressed import gunzip_bytes
from datamaestro.formats.dataset import (
    NO_LABEL,
    Dataset,
    Subset,
    default_categories,
    read_label_names,
    to_grey,
    to_grey_stack,
    write_label_names,
)
from datamaestro.log import log
from datamaestro.paths import printable

NAME = "mnist"
IMAGE_SIZE = 28
NONE_LABEL = 255
LABELS_SUFFIX = "-labels-idx1-ubyte"
IMAGES_SUFFIX = "-images-idx3-ubyte"
#: the largest image side a meta file may give
MAX_SIDE = 1 << 16
#: gzip level: 1 packs MNIST images within 4% of level 9's size, 20 times faster
GZIP_LEVEL = 1


def subset_prefix(subset: str) -> str:
    """The file-name prefix of a subset (``test`` is ``t10k``)."""
    return "t10k" if subset == "test" else subset


def _read_any(path: Path) -> bytes:
    return gunzip_bytes(path) if path.suffix == ".gz" else path.read_bytes()


def _label_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.name.removesuffix(".gz").endswith(LABELS_SUFFIX)
    )


def read(folder: Path) -> Dataset:
    """Read the ``mnist`` layout in ``folder``."""
    folder = Path(folder)
    files = _label_files(folder) if folder.is_dir() else []
    if not files:
        raise FormatError(f"{folder}: no '*{LABELS_SUFFIX}.gz' file: not the mnist layout")
    categories = read_label_names(folder) or default_categories()
    subsets = {}
    for labels_path in files:
        prefix = labels_path.name.removesuffix(".gz").removesuffix(LABELS_SUFFIX)
        subset = "test" if prefix.startswith("t10k") else prefix.split("-")[0]
        images_path = labels_path.with_name(labels_path.name.replace("labels-idx1", "images-idx3"))
        subsets[subset] = _read_subset(folder, subset, labels_path, images_path)
        labels = subsets[subset].labels
        bad = (labels < NO_LABEL) | (labels >= len(categories))
        if bad.any():
            i = int(np.argmax(bad))
            raise FormatError(
                f"{labels_path}: label {int(labels[i])} of item {i} (offset {8 + i}) is outside the "
                f"label list (0..{len(categories) - 1}); add the class names to labels.txt"
            )
    return Dataset(subsets, categories)


def _read_subset(folder: Path, subset: str, labels_path: Path, images_path: Path) -> Subset:
    labels = idx.from_bytes(_read_any(labels_path), str(labels_path))
    if labels.ndim != 1:
        raise FormatError(f"{labels_path}: labels must be a 1-dimensional IDX array, got {labels.ndim}")
    labels = labels.astype(np.int64)
    labels[labels == NONE_LABEL] = NO_LABEL
    meta = _read_meta(folder / f"{subset}-meta.gz", len(labels))
    ids = None
    if meta is not None and meta.shape[1] in (1, 3):
        ids = [str(x) for x in meta[:, 0]]
    if not images_path.is_file():
        log.info(
            "subset '%s': no %s: items without pixels (an export without media)",
            printable(subset), printable(images_path.name),
        )
        return Subset(None, labels, ids)
    data = _read_any(images_path)
    if meta is not None and meta.shape[1] >= 2:
        pixels = np.frombuffer(data, dtype=np.uint8, offset=16) if len(data) >= 16 else np.zeros(0, np.uint8)
        sizes = _sizes(meta[:, -2:], folder / f"{subset}-meta.gz")
        need = int((sizes[:, 0] * sizes[:, 1]).sum())
        if need != len(pixels):
            raise FormatError(
                f"{images_path}: {len(pixels)} pixel bytes from offset 16, but "
                f"{subset}-meta.gz gives image sizes adding up to {need}"
            )
        ends = np.cumsum(sizes[:, 0] * sizes[:, 1])
        pieces = [pixels[end - h * w : end].reshape(h, w) for end, (h, w) in zip(ends, sizes)]
        return Subset(pieces, labels, ids)
    images = idx.from_bytes(data, str(images_path))  # reads Datumaro's pixel-count header too
    if images.ndim != 3:
        raise FormatError(f"{images_path}: images must be a 3-dimensional IDX array, got {images.ndim}")
    if len(images) != len(labels):
        raise FormatError(
            f"{images_path}: {len(images)} images but {labels_path.name} has {len(labels)} "
            "labels; the two files must hold the same number of items"
        )
    return Subset(images.astype(np.uint8, copy=False), labels, ids)


def _sizes(values: np.ndarray, path: Path) -> np.ndarray:
    """The (height, width) rows of a meta file, checked to be numbers of a sane size."""
    rows = []
    for i, (h, w) in enumerate(values.tolist()):
        if not (str(h).isdigit() and str(w).isdigit()) or not (int(h) <= MAX_SIDE and int(w) <= MAX_SIDE):
            raise FormatError(f"{path}: item {i}: image size {h!r} x {w!r} is not two numbers up to {MAX_SIDE}")
        rows.append((int(h), int(w)))
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def _read_meta(path: Path, count: int) -> np.ndarray | None:
    """Datumaro's ``<subset>-meta.gz``: a (count, k) array of ids and/or sizes."""
    if not path.is_file():
        return None
    raw = gunzip_bytes(path)
    if len(raw) % 128 or count == 0 or (len(raw) // 128) % count:
        raise FormatError(f"{path}: {len(raw)} bytes do not hold {count} rows of <U32 values")
    meta = np.frombuffer(raw, dtype="<U32").reshape(count, -1)
    if meta.shape[1] not in (1, 2, 3):
        raise FormatError(f"{path}: expected 1 to 3 values per item, got {meta.shape[1]}")
    return meta


def write(
    dataset: Dataset, folder: Path, *, save_dataset_meta: bool = False, save_media: bool = True, **_: object
) -> None:
    """Write ``dataset`` in the ``mnist`` layout into the (existing, empty) ``folder``.

    Without media (``save_media=False``, or items without pixels) only the
    labels file (and the meta file for ids) is written, as Datumaro does.
    """
    folder = Path(folder)
    for name, subset in dataset:
        prefix = subset_prefix(name)
        labels = subset.labels
        if len(labels) and (labels.max() >= NONE_LABEL or labels.min() < NO_LABEL):
            raise FormatError(
                f"subset '{name}': label {int(labels.max())} does not fit in MNIST's "
                "one-byte labels (0..254)"
            )
        encoded = np.where(labels == NO_LABEL, NONE_LABEL, labels).astype(np.uint8)
        _write_gz(folder / f"{prefix}{LABELS_SUFFIX}.gz", encoded)
        ids = None if subset.default_ids() else subset.item_ids()
        if not (save_media and subset.has_media):
            if len(subset) and ids is not None:
                _write_meta(folder / f"{name}-meta.gz", ids, None)
            continue
        images = _grey_images(name, subset)
        sizes = None
        if isinstance(images, np.ndarray):
            if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
                sizes = [images.shape[1:]] * len(images)
            _write_gz(folder / f"{prefix}{IMAGES_SUFFIX}.gz", images)
        else:
            sizes = [im.shape for im in images]
            flat = np.concatenate([im.reshape(-1) for im in images]) if images else np.zeros(0, np.uint8)
            _write_gz(folder / f"{prefix}{IMAGES_SUFFIX}.gz", flat.reshape(-1, 1, 1))
        if len(subset) and (ids is not None or sizes is not None):
            _write_meta(folder / f"{name}-meta.gz", ids, sizes)
    write_label_names(folder, dataset.categories, save_dataset_meta=save_dataset_meta)


def _grey_images(name: str, subset: Subset) -> np.ndarray | list:
    images = subset.images
    assert images is not None
    if isinstance(images, np.ndarray):
        if images.ndim == 4:
            log.info("subset '%s': colour images converted to grey for the mnist layout", printable(name))
            return to_grey_stack(images)
        return images
    if any(im.ndim == 3 for im in images):
        log.info("subset '%s': colour images converted to grey for the mnist layout", printable(name))
    grey = [to_grey(im) for im in images]
    if grey and all(g.shape == grey[0].shape for g in grey):
        return np.stack(grey)
    return grey


def _write_gz(path: Path, array: np.ndarray) -> None:
    with gzip.open(path, "wb", compresslevel=GZIP_LEVEL) as f:
        idx.write_to(f, array)


def _write_meta(path: Path, ids: list[str] | None, sizes: list | None) -> None:
    rows: list[list[str]] = []
    n = len(ids) if ids is not None else len(sizes or [])
    for i in range(n):
        row = [] if ids is None else [ids[i]]
        if sizes is not None:
            row += [str(int(sizes[i][0])), str(int(sizes[i][1]))]
        rows.append(row)
    with gzip.open(path, "wb", compresslevel=GZIP_LEVEL) as f:
        f.write(np.array(rows, dtype="<U32").tobytes())
