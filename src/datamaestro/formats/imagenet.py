"""Datumaro's ``imagenet`` layout: one folder per class holding image files.

``<root>/<class name>/<image>.<ext>``; class names are the sorted folder
paths (``no_label`` and the root itself hold unlabelled images). As in
Datumaro 1.x, nested folders are classes too (``a/b``, whose parent class is
``a``). Item ids are ``<class>:<file stem>`` as Datumaro makes them. All
items form the ``default`` subset. Writing uses PNG unless ``image_ext`` says
otherwise. Needs Pillow (the ``images`` extra).

Datumaro opens such a folder only if it holds image files and nothing else,
and no empty folder. A folder linked inside itself (a loop) is read once. So the writer writes no label file and no folder for a
class without images; it keeps the class list, in its order, in the metadata
of the first image of each class (a PNG text chunk, a JPEG comment), where
this reader finds it. A class name holding ``/`` that is not a nested class
is written as a folder named with ``%2F``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

import numpy as np

from datamaestro.errors import FormatError, UnsafePathError
from datamaestro.formats.dataset import DEFAULT_SUBSET, NO_LABEL, Dataset, Subset
from datamaestro.formats.images import open_image
from datamaestro.log import log
from datamaestro.optional import pillow
from datamaestro.paths import printable

NAME = "imagenet"
NO_LABEL_DIR = "no_label"
SEP = ":"
DEFAULT_EXT = ".png"
#: the metadata key (PNG text chunk) or JPEG comment prefix holding the class list
LABELS_KEY = "datamaestro:labels"
#: the image extensions Datumaro looks for
IMAGE_EXTENSIONS = {
    ".jpg", ".jpeg", ".jpe", ".jp2", ".png", ".bmp", ".dib", ".tif", ".tiff", ".tga",
    ".webp", ".pfm", ".sr", ".ras", ".exr", ".hdr", ".pic", ".pbm", ".pgm", ".ppm", ".pxm", ".pnm",
}


def read(folder: Path, *, allow_outside_links: bool = False) -> Dataset:
    """Read the ``imagenet`` layout in ``folder``.

    A symbolic link leading outside ``folder`` is refused unless
    ``allow_outside_links``; a file that is not an image is skipped with a
    warning; a folder reached twice (a link loop) is read once.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FormatError(f"{folder}: not a folder: not the imagenet layout")
    pillow()  # (a one-line error without it)
    files = _walk(folder, allow_outside_links)
    dirs = sorted({d for d, _ in files} | _class_dirs(folder, files), key=lambda p: p.parts)
    dirs = [d for d in dirs if d != Path(".")]
    folder_names = [p.as_posix() for p in dirs if p.as_posix() != NO_LABEL_DIR]
    images, ids, label_dirs = [], [], []
    stored: Optional[list[str]] = None
    for d, path in files:
        image, carried = load_image(path)
        stored = stored or carried
        label = d.as_posix() if d != Path(".") else NO_LABEL_DIR
        images.append(image)
        label_dirs.append(label)
        ids.append(f"{label}{SEP}{path.stem}")
    if not images:
        raise FormatError(f"{folder}: no image files: not the imagenet layout")
    index = {} if stored is None else {folder_name(c): i for i, c in enumerate(stored)}
    index.update({} if stored is None else {c: i for i, c in enumerate(stored) if c in folder_names})
    if stored is not None and set(folder_names) <= set(index):
        categories = stored
        parents = [c.rsplit("/", 1)[0] if "/" in c and c in folder_names else "" for c in stored]
    else:
        categories = folder_names
        parents = [p.parent.as_posix() if len(p.parts) > 1 else "" for p in dirs if p.as_posix() != NO_LABEL_DIR]
        index = {name: i for i, name in enumerate(categories)}
    labels = np.array([index.get(d, NO_LABEL) for d in label_dirs], dtype=np.int64)
    if all(im.shape == images[0].shape for im in images):
        stacked: np.ndarray | list = np.stack(images)
    else:
        stacked = images
    subsets = {DEFAULT_SUBSET: Subset(stacked, labels, ids)}
    return Dataset(subsets, categories, parents if parents and any(parents) else None)


def _walk(folder: Path, allow_outside_links: bool) -> list[tuple[Path, Path]]:
    """(class folder relative to ``folder``, image path) of every image, sorted as Datumaro sorts them."""
    root = folder.resolve()
    found: list[tuple[Path, Path]] = []
    for current, dirnames, filenames in os.walk(folder, followlinks=True):
        here = Path(current)
        relative = here.relative_to(folder)
        real = here.resolve()
        ancestors = [(folder / relative.parents[i]).resolve() for i in range(len(relative.parts))]
        if real in ancestors:
            log.warning("%s: a symbolic link to %s, which holds it (a loop): skipped", printable(str(here)), printable(str(real)))
            dirnames.clear()
            continue
        for name in dirnames + filenames:
            path = here / name
            if path.is_symlink() and not allow_outside_links and not path.resolve().is_relative_to(root):
                raise UnsafePathError(
                    f"{printable(str(path))}: a symbolic link to {printable(str(path.resolve()))}, "
                    f"outside {printable(str(folder))}; "
                    "pass --allow-outside-links to follow it"
                )
        for name in sorted(filenames):
            path = here / name
            if not path.is_file():
                continue
            if path.suffix.lower() not in IMAGE_EXTENSIONS:
                log.warning("%s: not an image file (by its extension): skipped", printable(str(path)))
                continue
            found.append((relative, path))
    found.sort(key=lambda item: (item[0].parts, item[1].name))
    return found


def _class_dirs(folder: Path, files: list[tuple[Path, Path]]) -> set[Path]:
    """Every folder holding (at any depth) an image: the classes, as Datumaro lists them."""
    dirs: set[Path] = set()
    for d, _ in files:
        dirs.update([d, *d.parents])
    return dirs


def folder_name(category: str) -> str:
    """The folder of a class whose name is not a nested path: ``%`` and ``/`` escaped."""
    return category.replace("%", "%25").replace("/", "%2F")


def load_image(path: Path) -> tuple[np.ndarray, Optional[list[str]]]:
    """An image file as ``(H, W)`` (grey) or ``(3, H, W)`` (colour) uint8, and the class list it carries."""
    try:
        with open_image(path) as im:
            labels = _stored_labels(im.info)
            if im.mode not in ("L", "RGB"):
                im = im.convert("L" if im.mode in ("1", "LA", "I", "I;16", "F") else "RGB")
            array = np.asarray(im, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError) as e:
        raise FormatError(printable(f"{path}: not a readable image ({e})", 1000)) from None
    return (array if array.ndim == 2 else np.ascontiguousarray(array.transpose(2, 0, 1))), labels


def _stored_labels(info: dict[str, Any]) -> Optional[list[str]]:
    """The class list an image's metadata holds (written by ``write``), if any and well-formed."""
    text = info.get(LABELS_KEY)
    comment = info.get("comment")
    if text is None and isinstance(comment, bytes) and comment.startswith(LABELS_KEY.encode() + b"="):
        text = comment[len(LABELS_KEY) + 1 :].decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return None
    try:
        labels = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(labels, list) and labels and all(isinstance(x, str) for x in labels) and len(set(labels)) == len(labels):
        return labels
    return None


def write(
    dataset: Dataset,
    folder: Path,
    *,
    save_dataset_meta: bool = False,
    image_ext: str | None = None,
    save_media: bool = True,
    **_: object,
) -> None:
    """Write ``dataset`` in the ``imagenet`` layout into the (existing, empty) ``folder``."""
    folder = Path(folder)
    if not save_media or any(not s.has_media for _, s in dataset):
        raise FormatError("the imagenet layout is image files: it cannot be written without media")
    Image = pillow()
    ext = image_ext or DEFAULT_EXT
    ext = ext if ext.startswith(".") else "." + ext
    ext = ext.lower()
    if ext not in Image.registered_extensions():
        raise FormatError(f"unknown image extension '{ext}' (e.g. .png, .jpg, .bmp)")
    if save_dataset_meta:
        log.warning(
            "the imagenet layout has no dataset_meta.json (Datumaro cannot open a folder holding one): "
            "the class list is kept in the image files' metadata"
        )
    folders = class_folders(dataset)
    _warn_losses(dataset, folders, ext)
    several = len(dataset.subsets) > 1
    if several:
        log.info("the imagenet layout has no subsets: file names get their subset as a prefix")
    labels_text = json.dumps(list(dataset.categories), ensure_ascii=False)
    carried: set[str] = set()
    for name, subset in dataset:
        assert subset.images is not None
        for item_id, label, image in zip(subset.item_ids(), subset.labels.tolist(), subset.images):
            stem = "_".join(item_id.split(SEP)[1:]) if SEP in item_id else item_id
            if several:
                stem = f"{name}_{stem}"
            if "/" in stem or "\\" in stem or stem in ("", ".", ".."):
                raise FormatError(f"item id {item_id!r} cannot be a file name")
            label_dir = folders[label] if label != NO_LABEL else NO_LABEL_DIR
            target = _class_folder(folder, label_dir)
            target.mkdir(parents=True, exist_ok=True)
            first = label_dir not in carried
            carried.add(label_dir)
            save_image(target / f"{stem}{ext}", image, Image, labels_text if first else None)


def class_folders(dataset: Dataset) -> list[str]:
    """The folder of each class: its name, nested only for a child class (``a/b`` whose parent is ``a``)."""
    parents = dataset.parents or [""] * len(dataset.categories)
    folders = []
    for name, parent in zip(dataset.categories, parents):
        nested = "/" in name and parent and name == f"{parent}/{name.rsplit('/', 1)[1]}"
        folders.append(name if nested else folder_name(name))
    return folders


def _warn_losses(dataset: Dataset, folders: list[str], ext: str) -> None:
    """Warn about what Datumaro will not read back as it was."""
    used = {int(v) for _, s in dataset for v in np.unique(s.labels) if v != NO_LABEL}
    empty = [c for i, c in enumerate(dataset.categories) if i not in used]
    if empty:
        log.warning(
            "classes without images get no folder (Datumaro cannot open an empty one); "
            "Datumaro will not know them: %s", ", ".join(printable(c, 80) for c in empty),
        )
    escaped = [printable(f"'{c}' as '{f}'", 160) for c, f in zip(dataset.categories, folders) if "/" in c and c != f]
    if escaped:
        log.warning("class names with '/' are written as folder names without it: %s", ", ".join(escaped))
    kept = [f for i, f in enumerate(folders) if i in used]
    if kept != sorted(kept) and ext in (".png", ".jpg", ".jpeg"):
        log.warning(
            "Datumaro numbers imagenet classes by sorted folder name, not in this dataset's order "
            "(datamaestro reads the order back from the image metadata)"
        )
    elif ext not in (".png", ".jpg", ".jpeg") and (kept != sorted(kept) or empty or escaped):
        log.warning("%s files carry no class list: reading back gives the sorted folder names", ext)


def _class_folder(folder: Path, name: str) -> Path:
    """The folder ``name`` (``a/b`` nests) in ``folder``, refusing names that would leave it."""
    parts = name.split("/")
    if any(part in ("", ".", "..") or "\\" in part for part in parts):
        raise FormatError(f"class name {name!r} cannot be a folder name")
    return folder.joinpath(*parts)


def save_image(path: Path, image: np.ndarray, Image: Any, labels: Optional[str] = None) -> None:
    """Write an ``(H, W)`` or ``(C, H, W)`` uint8 image with Pillow (with the class list ``labels``, JSON)."""
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 3:
        array = array[0] if array.shape[0] == 1 else np.ascontiguousarray(array[:3].transpose(1, 2, 0))
    options: dict[str, Any] = {}
    if labels is not None and path.suffix in (".png",):
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_itxt(LABELS_KEY, labels)
        options["pnginfo"] = info
    elif labels is not None and path.suffix in (".jpg", ".jpeg"):
        options["comment"] = f"{LABELS_KEY}={labels}".encode()
    Image.fromarray(array).save(path, **options)
