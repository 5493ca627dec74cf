"""Datumaro's ``imagenet`` layout: one folder per class holding image files.

``<root>/<class name>/<image>.<ext>``; class names are the sorted folder
paths (``no_label`` and the root itself hold unlabelled images). As in
Datumaro 1.x, nested folders are classes too (``a/b``, whose parent class is
``a``). Item ids are ``<class>:<file stem>`` as Datumaro makes them. All
items form the ``default`` subset. Writing uses PNG unless ``image_ext`` says otherwise. Needs Pillow
(the ``images`` extra).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from datamaestro.errors import DatamaestroError, FormatError
from datamaestro.formats.dataset import DEFAULT_SUBSET, NO_LABEL, Dataset, Subset, write_dataset_meta

log = logging.getLogger("datamaestro")

NAME = "imagenet"
NO_LABEL_DIR = "no_label"
SEP = ":"
DEFAULT_EXT = ".png"
#: the image extensions Datumaro looks for
IMAGE_EXTENSIONS = {
    ".jpg", ".jpeg", ".jpe", ".jp2", ".png", ".bmp", ".dib", ".tif", ".tiff", ".tga",
    ".webp", ".pfm", ".sr", ".ras", ".exr", ".hdr", ".pic", ".pbm", ".pgm", ".ppm", ".pxm", ".pnm",
}


def pillow() -> Any:
    """The ``PIL.Image`` module, or an error saying which extra to install."""
    try:
        from PIL import Image
    except ImportError:
        raise DatamaestroError(
            "image files need Pillow: install the images extra (pip install 'datamaestro[images]')"
        ) from None
    return Image


def read(folder: Path) -> Dataset:
    """Read the ``imagenet`` layout in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FormatError(f"{folder}: not a folder: not the imagenet layout")
    Image = pillow()
    dirs = sorted(
        (p.relative_to(folder) for p in folder.rglob("*") if p.is_dir()), key=lambda p: p.parts
    )
    categories = [p.as_posix() for p in dirs if p.as_posix() != NO_LABEL_DIR]
    parents = [p.parent.as_posix() if len(p.parts) > 1 else "" for p in dirs if p.as_posix() != NO_LABEL_DIR]
    index = {name: i for i, name in enumerate(categories)}
    images, labels, ids = [], [], []
    for d in [Path("."), *dirs]:
        label = d.as_posix() if d != Path(".") else NO_LABEL_DIR
        files = sorted(p for p in (folder / d).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        for path in files:
            images.append(load_image(path, Image))
            labels.append(index.get(label, NO_LABEL))
            ids.append(f"{label}{SEP}{path.stem}")
    if not images:
        raise FormatError(f"{folder}: no image files: not the imagenet layout")
    if all(im.shape == images[0].shape for im in images):
        stacked: np.ndarray | list = np.stack(images)
    else:
        stacked = images
    subsets = {DEFAULT_SUBSET: Subset(stacked, np.array(labels), ids)}
    return Dataset(subsets, categories, parents if any(parents) else None)


def load_image(path: Path, Image: Any) -> np.ndarray:
    """An image file as ``(H, W)`` (grey) or ``(3, H, W)`` (colour) uint8."""
    try:
        with Image.open(path) as im:
            if im.mode not in ("L", "RGB"):
                im = im.convert("L" if im.mode in ("1", "LA", "I", "I;16", "F") else "RGB")
            array = np.asarray(im, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError) as e:
        raise FormatError(f"{path}: not a readable image ({e})") from None
    return array if array.ndim == 2 else np.ascontiguousarray(array.transpose(2, 0, 1))


def write(
    dataset: Dataset,
    folder: Path,
    *,
    save_dataset_meta: bool = False,
    image_ext: str | None = None,
    **_: object,
) -> None:
    """Write ``dataset`` in the ``imagenet`` layout into the (existing, empty) ``folder``."""
    folder = Path(folder)
    Image = pillow()
    ext = image_ext or DEFAULT_EXT
    ext = ext if ext.startswith(".") else "." + ext
    ext = ext.lower()
    if ext not in Image.registered_extensions():
        raise FormatError(f"unknown image extension '{ext}' (e.g. .png, .jpg, .bmp)")
    if save_dataset_meta:
        write_dataset_meta(folder, dataset.categories)
    for label_dir in dataset.categories:  # every class has its folder, even when empty
        _class_folder(folder, label_dir).mkdir(parents=True, exist_ok=True)
    several = len(dataset.subsets) > 1
    if several:
        log.info("the imagenet layout has no subsets: file names get their subset as a prefix")
    for name, subset in dataset:
        for item_id, label, image in zip(subset.item_ids(), subset.labels.tolist(), subset.images):
            stem = "_".join(item_id.split(SEP)[1:]) if SEP in item_id else item_id
            if several:
                stem = f"{name}_{stem}"
            if "/" in stem or stem in ("", ".", ".."):
                raise FormatError(f"item id {item_id!r} cannot be a file name")
            label_dir = dataset.categories[label] if label != NO_LABEL else NO_LABEL_DIR
            target = _class_folder(folder, label_dir)
            target.mkdir(parents=True, exist_ok=True)
            save_image(target / f"{stem}{ext}", image, Image)


def _class_folder(folder: Path, name: str) -> Path:
    """The folder of class ``name`` (``a/b`` nests), refusing names that would leave ``folder``."""
    parts = name.split("/")
    if any(part in ("", ".", "..") or "\\" in part for part in parts):
        raise FormatError(f"class name {name!r} cannot be a folder name")
    return folder.joinpath(*parts)


def save_image(path: Path, image: np.ndarray, Image: Any) -> None:
    """Write an ``(H, W)`` or ``(C, H, W)`` uint8 image with Pillow."""
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 3:
        array = array[0] if array.shape[0] == 1 else np.ascontiguousarray(array[:3].transpose(1, 2, 0))
    Image.fromarray(array).save(path)
