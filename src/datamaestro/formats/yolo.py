"""The ``yolo`` layout (darknet, as Datumaro reads and writes it): obj.data, obj.names, lists, one .txt per image.

Strict form (written): ``obj.data`` (``classes = N``, ``<subset> =
data/<subset>.txt``, ``names = data/obj.names``, ``backup = backup/``),
``obj.names`` (one class a line), ``<subset>.txt`` (image paths, the
``data/`` prefix meaning the folder itself), and ``obj_<subset>_data/`` with
each image and its ``<id>.txt``: one ``label x_centre y_centre width height``
line per box, normalised to the image size (read from the image header, or
from ``images.meta`` lines ``id height width`` when there are no images).
Loose forms (read): ``obj.names`` with ``Annotations/*.txt`` or
``labels/<subset>/*.txt`` beside images of the same name under another
folder (``Images/``, ``images/<subset>/``). Each of the four numbers must be
in [0, 1]; a malformed line is refused naming its file and line.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Optional

from datamaestro.errors import FormatError
from datamaestro.formats.annotations import AnnotatedDataset, Item, Object
from datamaestro.formats.dataset import DEFAULT_SUBSET, check_line_names
from datamaestro.formats.imagenet import IMAGE_EXTENSIONS
from datamaestro.formats.images import image_size
from datamaestro.formats.layout_files import check_links, inside_folder, item_path, read_text, save_item_image
from datamaestro.formats.masks import check_size
from datamaestro.paths import printable

RESERVED_KEYS = ("classes", "names", "backup")
META_FILE = "images.meta"
NAMES_FILE = "obj.names"
_CONFIG_LINE = re.compile(r"^\s*(\w+)\s*=\s*(.+)$")


def read(folder: Path) -> AnnotatedDataset:
    """Read the ``yolo`` layout in ``folder`` (strict, or loose with Annotations/ or labels/)."""
    folder = Path(folder)
    check_links(folder)
    sizes = read_image_meta(folder)
    if (folder / "obj.data").is_file():
        return read_strict(folder, sizes)
    if (folder / NAMES_FILE).is_file():
        return read_loose(folder, sizes)
    raise FormatError(f"{printable(str(folder))}: no obj.data nor obj.names: not the yolo layout")


def read_names(path: Path) -> list[str]:
    """The class names of an ``obj.names`` file."""
    return [line.strip() for line in read_text(path).splitlines() if line.strip()]


def read_image_meta(folder: Path) -> dict[str, tuple[int, int]]:
    """Image sizes from ``images.meta`` (``id height width`` lines), when there is one."""
    path = folder / META_FILE
    sizes: dict[str, tuple[int, int]] = {}
    if not path.is_file():
        return sizes
    for number, line in enumerate(read_text(path).splitlines(), 1):
        try:
            fields = shlex.split(line, comments=True)
            if fields:
                sizes[fields[0]] = (int(fields[1]), int(fields[2]))
                check_size(*sizes[fields[0]], f"{printable(str(path))}, line {number}")
        except (ValueError, IndexError):
            raise FormatError(f"{printable(str(path))}, line {number}: expected 'ID HEIGHT WIDTH'") from None
    return sizes


def local(path: str) -> str:
    """A path of obj.data or a list, without its ``data/`` prefix (which stands for the folder)."""
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path[len("data/"):] if path.startswith("data/") else path


def read_strict(folder: Path, sizes: dict[str, tuple[int, int]]) -> AnnotatedDataset:
    """The strict layout: obj.data names the class file and each subset's list."""
    config_path = folder / "obj.data"
    config = {}
    for line in read_text(config_path).splitlines():
        match = _CONFIG_LINE.match(line)
        if match:
            config[match.group(1)] = match.group(2).strip()
    if "names" not in config:
        raise FormatError(f"{printable(str(config_path))}: no 'names = ...' line")
    categories = read_names(inside_folder(folder, local(config["names"]), str(config_path)))
    dataset = AnnotatedDataset({}, categories)
    for subset, list_file in config.items():
        if subset in RESERVED_KEYS:
            continue
        list_path = inside_folder(folder, local(list_file), str(config_path))
        if not list_path.is_file():
            raise FormatError(f"{printable(str(config_path))}: the list of '{printable(subset)}' ({list_file}) is missing")
        items = []
        for line in read_text(list_path).splitlines():
            if line.strip():
                image = inside_folder(folder, local(line), str(list_path))
                relative = local(line).split("/", 1)
                item_id = str(Path(relative[-1]).with_suffix("")) if len(relative) > 1 else Path(relative[0]).stem
                items.append(read_item(item_id, image, image.with_suffix(".txt"), categories, sizes))
        dataset.subsets[subset] = items
    return dataset


def read_loose(folder: Path, sizes: dict[str, tuple[int, int]]) -> AnnotatedDataset:
    """The loose layouts: obj.names, then ``[Aa]nnotations/`` or ``[Ll]abels/`` label files beside images."""
    categories = read_names(folder / NAMES_FILE)
    dataset = AnnotatedDataset({}, categories)
    label_dirs = [folder / d for d in ("Annotations", "annotations", "Labels", "labels") if (folder / d).is_dir()]
    if not label_dirs:
        raise FormatError(f"{printable(str(folder))}: obj.names but no Annotations/ or labels/ folder")
    images = loose_images(folder, {d.name for d in label_dirs})
    for labels in label_dirs:
        for path in sorted(labels.glob("*.txt")) + sorted(labels.glob("*/*.txt")):
            subset = path.parent.name if path.parent != labels else DEFAULT_SUBSET
            image = images.get((subset, path.stem))
            item = read_item(path.stem, image, path, categories, sizes)
            dataset.subsets.setdefault(subset, []).append(item)
    return dataset


def loose_images(folder: Path, skipped: set[str]) -> dict[tuple[str, str], Path]:
    """Images of a loose layout by (subset, name): ``<dir>/<name>.jpg`` (default) or ``<dir>/<subset>/<name>.jpg``."""
    images: dict[tuple[str, str], Path] = {}
    for path in sorted(folder.glob("*/*")) + sorted(folder.glob("*/*/*")):
        top = path.relative_to(folder).parts[0]
        if top in skipped or path.suffix.lower() not in IMAGE_EXTENSIONS or not path.is_file() or path.is_symlink():
            continue
        depth = len(path.relative_to(folder).parts)
        subset = path.parent.name if depth == 3 else DEFAULT_SUBSET
        images.setdefault((subset, path.stem), path)
    return images


def read_item(
    item_id: str, image: Optional[Path], labels: Path, categories: list[str], sizes: dict[str, tuple[int, int]]
) -> Item:
    """One item: its image, its size, and the boxes of its label file (none when it has no label file)."""
    image = image if image is not None and image.is_file() else None
    size = sizes.get(item_id) or (image_size(image) if image is not None else None)
    item = Item(item_id, image=image, size=size)
    if labels.is_file():
        item.objects = read_boxes(labels, size, len(categories))
    return item


def read_boxes(path: Path, size: Optional[tuple[int, int]], classes: int) -> list[Object]:
    """The boxes of a label file, in pixels (corner form)."""
    objects = []
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        where = f"{printable(str(path))}, line {number}"
        fields = line.split()
        if len(fields) != 5:
            raise FormatError(f"{where}: expected 5 fields (label x_centre y_centre width height), got {len(fields)}")
        try:
            label = int(fields[0])
            xc, yc, w, h = (float(v) for v in fields[1:])
        except ValueError:
            raise FormatError(f"{where}: expected a class number and four numbers") from None
        if not 0 <= label < classes:
            raise FormatError(f"{where}: the class {label} is not in obj.names ({classes} classes)")
        if not all(0.0 <= v <= 1.0 for v in (xc, yc, w, h)):
            raise FormatError(f"{where}: the box {xc} {yc} {w} {h} is outside [0, 1] (normalised to the image size)")
        if size is None:
            raise FormatError(f"{where}: the image size is unknown (no image file, no images.meta)")
        height, width = size
        x0, y0 = (xc - w * 0.5) * width, (yc - h * 0.5) * height
        objects.append(Object(label, (x0, y0, x0 + w * width, y0 + h * height), id=number - 1))
    return objects


def write(
    dataset: AnnotatedDataset,
    folder: Path,
    *,
    save_dataset_meta: bool = False,
    image_ext: Optional[str] = None,
    save_media: bool = True,
    **_: object,
) -> None:
    """Write ``dataset`` in the strict ``yolo`` layout into the (existing, empty) ``folder``."""
    check_line_names(dataset.categories, NAMES_FILE)
    (folder / NAMES_FILE).write_text("".join(f"{c}\n" for c in dataset.categories), encoding="utf-8")
    config = [f"classes = {len(dataset.categories)}"]
    meta = []
    for subset, items in dataset:
        name = "train" if subset in ("", DEFAULT_SUBSET) else subset
        if name in RESERVED_KEYS or not re.fullmatch(r"\w+", name):
            raise FormatError(f"the subset '{printable(name)}' cannot be a yolo subset (a word, not {', '.join(RESERVED_KEYS)})")
        data = folder / f"obj_{name}_data"
        data.mkdir()
        paths = []
        for item in items:
            size = item_size(item)
            ext = image_ext or (item.image.suffix if item.image is not None else ".jpg")
            ext = ext if ext.startswith(".") else "." + ext
            if save_media and (item.image is not None or item.pixels is not None):
                save_item_image(item, item_path(data, item.id, ext, f"item {item.id!r}"))
            if not save_media or (item.image is None and item.pixels is None):
                meta.append(f"{shlex.quote(item.id)} {size[0]} {size[1]}")
            paths.append(f"data/obj_{name}_data/{item.id}{ext}")
            label_file = item_path(data, item.id, ".txt", f"item {item.id!r}")
            label_file.parent.mkdir(parents=True, exist_ok=True)
            label_file.write_text(box_lines(item, size), encoding="utf-8")
        (folder / f"{name}.txt").write_text("".join(f"{p}\n" for p in paths), encoding="utf-8")
        config.append(f"{name} = data/{name}.txt")
    config += ["names = data/obj.names", "backup = backup/"]
    (folder / "obj.data").write_text("".join(f"{line}\n" for line in config), encoding="utf-8")
    if meta:
        (folder / META_FILE).write_text("".join(f"{line}\n" for line in meta), encoding="utf-8")
    if save_dataset_meta:
        import json

        text = json.dumps({"labels": list(dataset.categories)}, indent=4, ensure_ascii=False)
        (folder / "dataset_meta.json").write_text(text + "\n", encoding="utf-8")


def item_size(item: Item) -> tuple[int, int]:
    """``(height, width)`` of an item's image, which a yolo label file needs."""
    if item.size is not None:
        return item.size
    if item.pixels is not None:
        return int(item.pixels.shape[0]), int(item.pixels.shape[1])
    if item.image is not None:
        return image_size(item.image)
    raise FormatError(f"item {printable(repr(item.id))}: its image size is unknown; the yolo layout needs it")


def box_lines(item: Item, size: tuple[int, int]) -> str:
    """The label file of an item: its boxes (crowd regions left out, as Datumaro does), clipped to the
    image and normalised."""
    height, width = size
    lines = []
    for obj in item.objects:
        if obj.box is None or obj.label < 0 or obj.crowd:
            continue
        x0, y0, x1, y1 = obj.box
        x0, x1 = min(max(x0, 0.0), width), min(max(x1, 0.0), width)
        y0, y1 = min(max(y0, 0.0), height), min(max(y1, 0.0), height)
        values = ((x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height)
        lines.append(f"{obj.label} " + " ".join(f"{v:.6f}" for v in values))
    return "".join(f"{line}\n" for line in lines)
