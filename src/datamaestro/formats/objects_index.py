"""The prepared index of annotated images (object detection, semantic segmentation), written at prepare time.

A definition reads its annotations into ``datamaestro.formats.annotations``
``Item``s and writes one index per split into its index folder; the typed
objects (``datamaestro.data.detection``, ``datamaestro.data.segmentation``)
read it back without parsing the annotations again. Files of a split ``S``:

- ``S_images.json``: ``{"paths": [...], "ids": [...]}`` (and ``"masks": [...]``
  for segmentation): paths relative to the image root, ``/``-separated;
- ``S_sizes.npy``: (N, 2) int32 image heights and widths (from the headers);
- detection: ``S_offsets.npy`` (N + 1,) int64: the objects of image ``i`` are
  ``offsets[i]:offsets[i + 1]`` of ``S_boxes.npy`` ((M, 4) float32 corner form,
  pixels), ``S_labels.npy`` ((M,) int64) and ``S_flags.npy`` ((M,) uint8 bits,
  ``FLAGS``); when some object has an instance mask, an id or attributes,
  ``S_objects.jsonl`` holds one JSON line per image (a list with one entry per
  object: ``null`` or ``{"polygons": ..., "rle": {"size": [h, w], "counts": ...},
  "id": ..., "attributes": ...}``) and ``S_lines.npy`` the (N + 1,) byte offsets
  of its lines;
- segmentation: ``S_class_offsets.npy`` (N + 1,) int64 into ``S_classes.npy``
  and ``S_pixels.npy`` ((K,) int64): the classes present in each mask and their
  pixel counts;

and ``classes.json`` (``{"categories": [...], "colours": [[r, g, b], ...] or
null, "ignore_index": int or null}``) for the whole folder.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Optional

import numpy as np

from datamaestro.errors import FormatError, UsageError
from datamaestro.formats.annotations import Colour, Item, Object, Rle
from datamaestro.formats.class_masks import read_class_mask
from datamaestro.formats.images import MAX_PIXELS, image_size
from datamaestro.formats.masks import decode_rle
from datamaestro.paths import is_valid_name, printable

#: the object flags, bit k of ``S_flags.npy`` for ``FLAGS[k]``
FLAGS = ("difficult", "truncated", "occluded", "crowd")
CLASSES_FILE = "classes.json"
#: at most this many bytes in one line of ``S_objects.jsonl``
MAX_LINE = 256 * 1024 * 1024
#: the largest class a mask pixel may hold (16-bit grey masks)
MAX_CLASS = 65535
WORKERS = 8


# -- paths ---------------------------------------------------------------------------------


def relative_path(root: Path, path: Path) -> str:
    """``path`` (absolute under ``root``, or relative to it) as the index writes it."""
    if path.is_absolute():
        try:
            path = path.relative_to(root)
        except ValueError:
            raise FormatError(f"{root}: refused path {printable(str(path))!r}: it is not under the image root") from None
    rel = path.as_posix()
    check_relative(root, rel)
    return rel


def check_relative(root: Path, rel: object) -> str:
    """``rel`` if it is a plain relative path (no absolute path, no ``..``), else a one-line error."""
    if not isinstance(rel, str) or not rel or PurePosixPath(rel).is_absolute() or "\\" in rel or "\0" in rel:
        raise FormatError(f"{root}: refused path {printable(str(rel))!r}: not a plain path inside the dataset folder")
    if any(part in ("..", "", ".") for part in rel.split("/")):
        raise FormatError(f"{root}: refused path {printable(rel)!r}: not a plain path inside the dataset folder")
    return rel


def split_file(folder: Path, split: str, name: str) -> Path:
    """The file ``<split>_<name>`` of ``folder`` (a split name is a plain name)."""
    if not is_valid_name(split):
        raise UsageError(f"refused split name {printable(split)!r}: use letters, digits, '.', '_' and '-'")
    return folder / f"{split}_{name}"


def image_file(item: Item) -> Path:
    """The image file of ``item`` (in-memory pixels are not indexed)."""
    if item.image is None:
        raise FormatError(f"item {printable(item.id)}: no image file (an index lists image files, not pixels)")
    return Path(item.image)


# -- the class names -----------------------------------------------------------------------


@dataclass
class Classes:
    """The class names of an index folder, their colours and the label of ignored pixels."""

    categories: list[str]
    colours: Optional[list[Colour]] = None
    ignore_index: Optional[int] = None


def write_classes(folder: Path, categories: Sequence[str], colours: Optional[Sequence[Colour]] = None,
                  ignore_index: Optional[int] = None) -> None:
    """Record the class names (and mask colours, ignored label) in ``classes.json``."""
    record = {
        "categories": list(categories),
        "colours": None if colours is None else [list(c) for c in colours],
        "ignore_index": ignore_index,
    }
    (folder / CLASSES_FILE).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


def read_classes(folder: Path) -> Classes:
    """The class names that ``write_classes`` recorded."""
    record = read_json(folder / CLASSES_FILE, 64 * 1024 * 1024)
    names, colours, ignore = (record.get(k) if isinstance(record, dict) else None for k in ("categories", "colours", "ignore_index"))
    ok = isinstance(names, list) and all(isinstance(n, str) for n in names)
    ok = ok and (colours is None or (isinstance(colours, list) and all(is_colour(c) for c in colours)))
    ok = ok and (ignore is None or (isinstance(ignore, int) and not isinstance(ignore, bool)))
    if not ok:
        raise FormatError(f"{folder / CLASSES_FILE}: expected class names, colours and an ignored label; prepare the dataset again")
    return Classes(list(names), None if colours is None else [tuple(c) for c in colours], ignore)  # type: ignore[arg-type]


def is_colour(value: object) -> bool:
    """Whether ``value`` is ``[r, g, b]`` with each in 0..255."""
    return isinstance(value, list) and len(value) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in value)


def check_regular(path: Path) -> None:
    """Refuse an index file that is a link, a FIFO, a device or a folder (checked without blocking)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        reason = "a symbolic link, not a file datamaestro wrote" if e.errno in (errno.ELOOP, errno.EMLINK) else e.strerror
        raise FormatError(f"{path}: cannot read the index ({reason}); prepare the dataset again") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FormatError(f"{path}: cannot read the index (not a regular file); prepare the dataset again")
    finally:
        os.close(fd)


def read_json(path: Path, limit: int) -> Any:
    """The JSON value of ``path``; a one-line error when it is missing, too large or not JSON."""
    try:
        check_regular(path)
        with open(path, "rb") as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise FormatError(f"{path}: more than {limit:,} bytes; prepare the dataset again")
        return json.loads(data.decode("utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        raise FormatError(f"{path}: cannot read the index ({one_line(e)}); prepare the dataset again") from None


def one_line(error: BaseException) -> str:
    """An error's message on one line, at most 200 characters."""
    return printable(" ".join(str(error).split()) or type(error).__name__, 200)


def read_array(path: Path, dtype: Any, shape: tuple[Optional[int], ...]) -> np.ndarray:
    """The array of ``path`` (no pickles), checked to have ``dtype`` and ``shape`` (None: any length)."""
    check_regular(path)
    try:
        array = np.load(path, allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as e:
        raise FormatError(f"{path}: cannot read the index ({e}); prepare the dataset again") from None
    good = array.dtype == np.dtype(dtype) and array.ndim == len(shape)
    good = good and all(want is None or have == want for have, want in zip(array.shape, shape))
    if not good:
        raise FormatError(f"{path}: expected {np.dtype(dtype)} of shape {shape}, found {array.dtype} {array.shape}; prepare the dataset again")
    return array


def check_offsets(path: Path, offsets: np.ndarray, total: int) -> None:
    """Refuse offsets that do not start at 0, go back, or end elsewhere than ``total``."""
    if offsets[0] != 0 or offsets[-1] != total or (np.diff(offsets) < 0).any():
        raise FormatError(f"{path}: offsets out of range (not rising from 0 to {total}); prepare the dataset again")


def check_sizes(path: Path, sizes: np.ndarray) -> None:
    """Refuse image sizes below 1 x 1 or above ``MAX_PIXELS`` pixels (what no image that was indexed has)."""
    wide = np.asarray(sizes, dtype=np.int64)
    if wide.size and (int(wide.min()) < 1 or int((wide[:, 0] * wide[:, 1]).max()) > MAX_PIXELS):
        raise FormatError(f"{path}: image sizes out of range (below 1 or over {MAX_PIXELS:,} pixels); prepare the dataset again")


def sizes_of(paths: list[Path]) -> np.ndarray:
    """(N, 2) int32 heights and widths of image files, from their headers."""
    with ThreadPoolExecutor(WORKERS) as pool:
        sizes = list(pool.map(image_size, paths))
    return np.array(sizes, dtype=np.int32).reshape(-1, 2)


def read_listing(path: Path, keys: tuple[str, ...]) -> dict[str, list[str]]:
    """``S_images.json``: lists of strings of one length, under ``keys``."""
    record = read_json(path, 1 << 30)
    lists = [record.get(k) if isinstance(record, dict) else None for k in keys]
    if not all(isinstance(v, list) and all(isinstance(s, str) for s in v) for v in lists) or len({len(v) for v in lists}) != 1:  # type: ignore[arg-type]
        raise FormatError(f"{path}: expected lists of {', '.join(keys)} of one length; prepare the dataset again")
    return dict(zip(keys, lists))  # type: ignore[arg-type]


# -- detection -----------------------------------------------------------------------------


def object_box(obj: Object) -> tuple[float, float, float, float]:
    """The box of ``obj``: its own, else the bounds of its polygons or RLE mask."""
    if obj.box is not None:
        return tuple(float(v) for v in obj.box)  # type: ignore[return-value]
    if obj.polygons:
        points = np.concatenate([np.asarray(p, dtype=np.float64) for p in obj.polygons]).reshape(-1, 2)
        return (float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()), float(points[:, 1].max()))
    if obj.rle is not None:
        ys, xs = np.nonzero(decode_rle(obj.rle))
        if xs.size:
            return (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
        return (0.0, 0.0, 0.0, 0.0)
    raise FormatError(f"an object of class {obj.label} has neither a box nor a mask")


def object_extras(obj: Object) -> Optional[dict[str, Any]]:
    """What ``S_objects.jsonl`` keeps of an object: its mask, id and attributes (None: nothing)."""
    extras: dict[str, Any] = {}
    if obj.polygons:
        extras["polygons"] = [[float(v) for v in p] for p in obj.polygons]
    if obj.rle is not None:
        extras["rle"] = {"size": [obj.rle.height, obj.rle.width], "counts": obj.rle.counts}
    if obj.id is not None:
        extras["id"] = obj.id
    if obj.attributes:
        extras["attributes"] = obj.attributes
    return extras or None


def flag_bits(obj: Object) -> int:
    """The flags of ``obj`` as bits (``FLAGS``)."""
    return sum(1 << k for k, name in enumerate(FLAGS) if getattr(obj, name))


def write_detection_index(folder: Path, split: str, root: Path, items: Iterable[Item]) -> int:
    """Write the detection index of ``split`` into ``folder`` from ``items`` (images under ``root``);
    returns the number of images. Every image must be a file inside ``root``."""
    items = list(items)
    rels = [relative_path(root, image_file(item)) for item in items]
    sizes = sizes_of([checked_file(root, rel) for rel in rels])
    objects = [obj for item in items for obj in item.objects]
    boxes = [object_box(obj) for obj in objects]
    counts = [len(item.objects) for item in items]
    json_record = {"paths": rels, "ids": [item.id for item in items]}
    split_file(folder, split, "images.json").write_text(json.dumps(json_record, ensure_ascii=False), encoding="utf-8")
    np.save(split_file(folder, split, "sizes.npy"), sizes)
    np.save(split_file(folder, split, "offsets.npy"), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
    np.save(split_file(folder, split, "boxes.npy"), np.array(boxes, dtype=np.float32).reshape(-1, 4))
    np.save(split_file(folder, split, "labels.npy"), np.array([o.label for o in objects], dtype=np.int64))
    np.save(split_file(folder, split, "flags.npy"), np.array([flag_bits(o) for o in objects], dtype=np.uint8))
    extras = [[object_extras(o) for o in item.objects] for item in items]
    if any(e is not None for line in extras for e in line):
        write_lines(split_file(folder, split, "objects.jsonl"), split_file(folder, split, "lines.npy"), extras)
    return len(items)


def write_lines(path: Path, offsets_path: Path, lines: list[list[Optional[dict[str, Any]]]]) -> None:
    """One JSON line per image, and the byte offsets of the lines."""
    encoded = [(json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8") for line in lines]
    path.write_bytes(b"".join(encoded))
    np.save(offsets_path, np.concatenate([[0], np.cumsum([len(e) for e in encoded])]).astype(np.int64))


def checked_file(root: Path, rel: str) -> Path:
    """``root / rel``, a regular file that does not lead out of ``root``."""
    path = root.joinpath(*rel.split("/"))
    real_root = root.resolve()
    real = path.resolve()
    if real_root not in real.parents:
        raise FormatError(f"{root}: refused path {printable(rel)!r}: it leads outside the dataset folder")
    if not real.is_file():
        raise FormatError(f"{root}: the file {printable(rel)!r} listed by the dataset is missing")
    return path


@dataclass
class DetectionIndex:
    """The detection index of one split, read back (arrays memory-mapped)."""

    paths: list[str]
    ids: list[str]
    sizes: np.ndarray
    offsets: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    flags: np.ndarray
    #: ``S_objects.jsonl`` and its line offsets, when some object has extras
    lines: Optional[tuple[Path, np.ndarray]] = None

    def __len__(self) -> int:
        return len(self.paths)

    def objects(self, i: int) -> slice:
        """Where the objects of image ``i`` are in the flat arrays."""
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))

    def extras(self, i: int) -> list[Optional[dict[str, Any]]]:
        """The extras (mask, id, attributes) of each object of image ``i``."""
        count = int(self.offsets[i + 1] - self.offsets[i])
        if self.lines is None:
            return [None] * count
        path, offsets = self.lines
        start, end = int(offsets[i]), int(offsets[i + 1])
        if end - start > MAX_LINE:
            raise FormatError(f"{path}: line {i + 1} is longer than {MAX_LINE:,} bytes; prepare the dataset again")
        try:
            check_regular(path)
            with open(path, "rb") as f:
                f.seek(start)
                line = json.loads(f.read(end - start).decode("utf-8"))
        except (OSError, ValueError, RecursionError) as e:
            raise FormatError(f"{path}: cannot read line {i + 1} ({one_line(e)}); prepare the dataset again") from None
        if not isinstance(line, list) or len(line) != count or not all(e is None or extras_ok(e) for e in line):
            raise FormatError(
                f"{path}: line {i + 1} does not list the {count} objects of its image (null or "
                "{polygons, rle, id, attributes}); prepare the dataset again"
            )
        return line


def extras_ok(extras: Any) -> bool:
    """Whether one object's extras have the types ``object_extras`` writes."""
    if not isinstance(extras, dict):
        return False
    polygons, rle = extras.get("polygons", []), extras.get("rle")
    numbers = isinstance(polygons, list) and all(
        isinstance(p, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p) for p in polygons
    )
    rle_ok = rle is None or (isinstance(rle, dict) and isinstance(rle.get("counts"), (str, list)))
    return numbers and rle_ok and isinstance(extras.get("attributes", {}), dict) and (
        extras.get("id") is None or (isinstance(extras["id"], int) and not isinstance(extras["id"], bool))
    )


def read_detection_index(folder: Path, split: str, root: Path) -> DetectionIndex:
    """The detection index of ``split`` in ``folder``, checked (paths, shapes, offsets)."""
    listing = read_listing(split_file(folder, split, "images.json"), ("paths", "ids"))
    for rel in listing["paths"]:
        check_relative(root, rel)
    n = len(listing["paths"])
    sizes = read_array(split_file(folder, split, "sizes.npy"), np.int32, (n, 2))
    offsets_file = split_file(folder, split, "offsets.npy")
    offsets = read_array(offsets_file, np.int64, (n + 1,))
    labels = read_array(split_file(folder, split, "labels.npy"), np.int64, (None,))
    m = labels.shape[0]
    check_offsets(offsets_file, offsets, m)
    check_sizes(split_file(folder, split, "sizes.npy"), sizes)
    boxes = read_array(split_file(folder, split, "boxes.npy"), np.float32, (m, 4))
    if not np.isfinite(boxes).all():
        raise FormatError(f"{split_file(folder, split, 'boxes.npy')}: boxes that are not finite numbers; prepare the dataset again")
    flags = read_array(split_file(folder, split, "flags.npy"), np.uint8, (m,))
    lines = None
    jsonl = split_file(folder, split, "objects.jsonl")
    if jsonl.exists():
        lines_file = split_file(folder, split, "lines.npy")
        line_offsets = read_array(lines_file, np.int64, (n + 1,))
        check_offsets(lines_file, line_offsets, jsonl.stat().st_size)
        lines = (jsonl, line_offsets)
    return DetectionIndex(listing["paths"], listing["ids"], sizes, offsets, boxes, labels, flags, lines)


def extras_rle(extras: dict[str, Any], where: str) -> Optional[Rle]:
    """The RLE mask of an object's extras, checked."""
    rle = extras.get("rle")
    if rle is None:
        return None
    size = rle.get("size") if isinstance(rle, dict) else None
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) for v in size)):
        raise FormatError(f"{where}: an RLE mask without a [height, width] size; prepare the dataset again")
    return Rle(height=size[0], width=size[1], counts=rle.get("counts"))


# -- segmentation --------------------------------------------------------------------------


def mask_file(item: Item) -> Path:
    """The class mask file of ``item``."""
    if not isinstance(item.mask, Path):
        raise FormatError(f"item {printable(item.id)}: no class mask file (an index lists mask files, not arrays)")
    return item.mask


def class_pixels(path: Path, colours: Optional[Sequence[Colour]], size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The classes present in one mask file and their pixel counts; refused when its size is not ``size``."""
    mask = read_class_mask(path, colours)
    if mask.shape != size:
        raise FormatError(f"{path}: the mask is {mask.shape[1]}x{mask.shape[0]}, its image {size[1]}x{size[0]}")
    values, counts = np.unique(mask, return_counts=True)
    return values.astype(np.int64), counts.astype(np.int64)


def write_segmentation_index(folder: Path, split: str, root: Path, items: Iterable[Item],
                             colours: Optional[Sequence[Colour]] = None) -> int:
    """Write the segmentation index of ``split`` into ``folder`` from ``items`` (images and class
    mask files under ``root``; ``colours`` read RGB masks); returns the number of images."""
    items = list(items)
    rels = [relative_path(root, image_file(item)) for item in items]
    masks = [relative_path(root, mask_file(item)) for item in items]
    sizes = sizes_of([checked_file(root, rel) for rel in rels])
    mask_paths = [checked_file(root, rel) for rel in masks]
    with ThreadPoolExecutor(WORKERS) as pool:
        found = list(pool.map(lambda k: class_pixels(mask_paths[k], colours, tuple(sizes[k])), range(len(items))))
    json_record = {"paths": rels, "ids": [item.id for item in items], "masks": masks}
    split_file(folder, split, "images.json").write_text(json.dumps(json_record, ensure_ascii=False), encoding="utf-8")
    np.save(split_file(folder, split, "sizes.npy"), sizes)
    counts = [len(values) for values, _ in found]
    np.save(split_file(folder, split, "class_offsets.npy"), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
    np.save(split_file(folder, split, "classes.npy"), np.concatenate([v for v, _ in found] or [np.zeros(0, np.int64)]))
    np.save(split_file(folder, split, "pixels.npy"), np.concatenate([c for _, c in found] or [np.zeros(0, np.int64)]))
    return len(items)


@dataclass
class SegmentationIndex:
    """The segmentation index of one split, read back."""

    paths: list[str]
    ids: list[str]
    masks: list[str]
    sizes: np.ndarray
    offsets: np.ndarray
    classes: np.ndarray
    pixels: np.ndarray

    def __len__(self) -> int:
        return len(self.paths)


def read_segmentation_index(folder: Path, split: str, root: Path) -> SegmentationIndex:
    """The segmentation index of ``split`` in ``folder``, checked (paths, shapes, offsets)."""
    listing = read_listing(split_file(folder, split, "images.json"), ("paths", "ids", "masks"))
    for rel in listing["paths"] + listing["masks"]:
        check_relative(root, rel)
    n = len(listing["paths"])
    sizes = read_array(split_file(folder, split, "sizes.npy"), np.int32, (n, 2))
    offsets_file = split_file(folder, split, "class_offsets.npy")
    offsets = read_array(offsets_file, np.int64, (n + 1,))
    classes = read_array(split_file(folder, split, "classes.npy"), np.int64, (None,))
    check_offsets(offsets_file, offsets, classes.shape[0])
    check_sizes(split_file(folder, split, "sizes.npy"), sizes)
    if classes.size and (int(classes.min()) < 0 or int(classes.max()) > MAX_CLASS):
        raise FormatError(f"{split_file(folder, split, 'classes.npy')}: classes out of 0..{MAX_CLASS}; prepare the dataset again")
    pixels = read_array(split_file(folder, split, "pixels.npy"), np.int64, (classes.shape[0],))
    if pixels.size and int(pixels.min()) < 0:
        raise FormatError(f"{split_file(folder, split, 'pixels.npy')}: negative pixel counts; prepare the dataset again")
    return SegmentationIndex(listing["paths"], listing["ids"], listing["masks"], sizes, offsets, classes, pixels)
