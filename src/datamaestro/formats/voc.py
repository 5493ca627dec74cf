"""The ``voc`` layout (Pascal VOC, as Datumaro reads and writes it): Annotations XML, ImageSets lists, masks.

A folder holds ``Annotations/<id>.xml`` (size, objects with a box, the
difficult/truncated/occluded flags, pose, body parts, actions, extra
attributes), ``ImageSets/{Main,Segmentation,Layout,Action}/<subset>.txt``
(the items of each subset; the union makes the dataset),
``ImageSets/Main/<class>_<subset>.txt`` (image-level labels: ``id 1`` when
present), ``JPEGImages/<id>.jpg``, ``SegmentationClass/<id>.png`` (class
colours) and ``SegmentationObject/<id>.png`` (instance colours, VOC's
palette), and ``labelmap.txt`` (``name:r,g,b:parts:actions``) or
``dataset_meta.json``; without either, VOC's 21 classes, ``ignored``, and the
parts head, hand, foot. Boxes are read as written (Datumaro's
``dm-zero-based`` mode). Class masks whose pixel values already are the class
indexes (VOC's own palette PNGs) stay files; others are decoded to arrays.
"""

from __future__ import annotations

import json
import logging
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.annotations import AnnotatedDataset, Colour, Item, Object, voc_palette
from datamaestro.formats.dataset import META_FILE, check_line_names
from datamaestro.formats.imagenet import IMAGE_EXTENSIONS
from datamaestro.formats.images import image_size
from datamaestro.formats.layout_files import (
    check_links,
    image_files,
    inside_folder,
    item_path,
    parse_xml,
    read_json,
    read_text,
    save_item_image,
)
from datamaestro.formats.masks import (
    check_size,
    decode_rle,
    indexes_are_pixels,
    load_colour_mask,
    mask_array,
    polygons_mask,
    save_palette_png,
)
from datamaestro.paths import printable

log = logging.getLogger("datamaestro")

#: name -> (colour or None, parts, actions)
LabelMap = dict[str, tuple[Optional[Colour], list[str], list[str]]]

VOC_LABELS = (
    "background aeroplane bicycle bird boat bottle bus car cat chair cow diningtable dog horse "
    "motorbike person pottedplant sheep sofa train tvmonitor"
).split()
VOC_PARTS = ["head", "hand", "foot"]
VOC_ACTIONS = (
    "other jumping phoning playinginstrument reading ridingbike ridinghorse running takingphoto "
    "usingcomputer walking"
).split()
TASKS = ("Main", "Segmentation", "Layout", "Action")
FLAGS = ("difficult", "truncated", "occluded")
LABELMAP_FILE = "labelmap.txt"


def default_label_map() -> LabelMap:
    """VOC's own classes with their palette colours, ``ignored`` (colour 255), person's parts and actions."""
    palette = voc_palette()
    label_map: LabelMap = {name: (palette[i], [], []) for i, name in enumerate(VOC_LABELS)}
    label_map["person"] = (palette[15], list(VOC_PARTS), list(VOC_ACTIONS))
    label_map["ignored"] = (palette[255], [], [])
    return label_map


def parse_label_map(path: Path) -> LabelMap:
    """The classes of a ``labelmap.txt``: ``name:r,g,b:part,part:action,action`` lines."""
    label_map: LabelMap = {}
    for number, line in enumerate(read_text(path).splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        where = f"{printable(str(path))}, line {number}"
        if len(fields) != 4:
            raise FormatError(f"{where}: expected 4 ':'-separated fields (name:r,g,b:parts:actions)")
        name, colour_text, parts, actions = fields
        if name in label_map:
            raise FormatError(f"{where}: the label '{printable(name)}' is defined twice")
        colour = None
        if colour_text:
            try:
                rgb = tuple(int(c) for c in colour_text.split(","))
            except ValueError:
                rgb = ()
            if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
                raise FormatError(f"{where}: the colour {printable(colour_text)!r} is not r,g,b (0..255)")
            colour = (rgb[0], rgb[1], rgb[2])
        label_map[name] = (colour, _names(parts), _names(actions))
    return label_map


def _names(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def parse_meta(path: Path) -> LabelMap:
    """The classes of Datumaro's ``dataset_meta.json`` (labels, label_map, segmentation_colors, parts, actions)."""
    meta = read_json(path)
    if not _meta_ok(meta):
        raise FormatError(
            f"{printable(str(path))}: expected a JSON object with lists 'labels' and 'segmentation_colors' "
            "([r, g, b] or null) and objects 'label_map', 'parts' and 'actions'"
        )
    parts, actions = meta.get("parts") or {}, meta.get("actions") or {}
    label_map: LabelMap = {}
    for i, name in enumerate(meta.get("labels") or []):
        label_map[str(name)] = (None, list(parts.get(str(i), [])), list(actions.get(str(i), [])))
    colours = meta.get("segmentation_colors") or []
    for i, name in enumerate((meta.get("label_map") or {}).values()):
        colour, p, a = label_map.get(str(name), (None, [], []))
        if i < len(colours) and colours[i] is not None:
            colour = (int(colours[i][0]), int(colours[i][1]), int(colours[i][2]))
        label_map[str(name)] = (colour, p, a)
    return label_map


def _meta_ok(meta: Any) -> bool:
    """Whether a ``dataset_meta.json`` has the types ``parse_meta`` reads."""
    if not isinstance(meta, dict):
        return False
    kinds = {"labels": list, "segmentation_colors": list, "label_map": dict, "parts": dict, "actions": dict}
    if not all(isinstance(meta.get(k) or kind(), kind) for k, kind in kinds.items()):
        return False
    names = [*(meta.get("parts") or {}).values(), *(meta.get("actions") or {}).values()]
    colours = meta.get("segmentation_colors") or []
    return all(isinstance(n, list) for n in names) and all(
        c is None or (isinstance(c, list) and len(c) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in c))
        for c in colours
    )


def load_label_map(folder: Path) -> LabelMap:
    """The label map of a voc folder: dataset_meta.json, else labelmap.txt, else VOC's default."""
    if (folder / META_FILE).is_file():
        return parse_meta(folder / META_FILE)
    if (folder / LABELMAP_FILE).is_file():
        return parse_label_map(folder / LABELMAP_FILE)
    return default_label_map()


def dataset_frame(label_map: LabelMap) -> AnnotatedDataset:
    """An empty dataset with the categories (labels, then parts), colours, parts and actions of ``label_map``."""
    categories = list(label_map)
    for _, parts, _ in label_map.values():
        categories += [p for p in parts if p not in categories]
    palette = voc_palette(max(256, len(categories)))
    coloured = any(colour is not None for colour, _, _ in label_map.values())
    colours = [
        (label_map[name][0] or palette[i]) if coloured and name in label_map else palette[i]
        for i, name in enumerate(categories)
    ]
    part_map = {name: list(desc[1]) for name, desc in label_map.items() if desc[1]}
    action_map = {name: list(desc[2]) for name, desc in label_map.items() if desc[2]}
    return AnnotatedDataset({}, categories, colours, part_map, action_map)


def read(folder: Path) -> AnnotatedDataset:
    """Read the ``voc`` layout in ``folder``."""
    folder = Path(folder)
    check_links(folder)
    if not (folder / "ImageSets").is_dir():
        raise FormatError(f"{printable(str(folder))}: no ImageSets folder: not the voc layout")
    dataset = dataset_frame(load_label_map(folder))
    subsets = subset_lists(folder, dataset.categories + [a for names in dataset.actions.values() for a in names])
    if not subsets:
        raise FormatError(f"{printable(str(folder))}: no list in ImageSets/{{Main,Segmentation,Layout,Action}}")
    images = image_files(folder / "JPEGImages", IMAGE_EXTENSIONS)
    for subset, ids in subsets.items():
        labels = class_lists(folder, subset, dataset.categories)
        dataset.subsets[subset] = [read_item(folder, item_id, dataset, images, labels) for item_id in ids]
    return dataset


def subset_lists(folder: Path, prefixes: list[str]) -> dict[str, list[str]]:
    """The item ids of each subset, from every task's ``<subset>.txt`` list (first seen first); a
    ``<class>_<subset>.txt`` or ``<action>_<subset>.txt`` beside a ``<subset>.txt`` is not a subset."""
    subsets: dict[str, dict[str, None]] = {}
    for task in TASKS:
        lists = folder / "ImageSets" / task
        if not lists.is_dir():
            continue
        stems = {path.stem for path in lists.glob("*.txt")}
        for path in sorted(lists.glob("*.txt")):
            if any(path.stem.startswith(f"{p}_") and path.stem[len(p) + 1 :] in stems for p in prefixes):
                continue
            ids = subsets.setdefault(path.stem, {})
            for line in read_text(path).splitlines():
                item_id = list_id(line, task)
                if item_id:
                    ids.setdefault(item_id, None)
    return {name: list(ids) for name, ids in subsets.items()}


def list_id(line: str, task: str) -> str:
    """The item id of a list line ('' for blanks and comments): Layout and Action lines have more after it."""
    line = line.strip()
    if not line or line.startswith("#"):
        return ""
    if task in ("Layout", "Action"):
        quoted = line.split('"')
        return quoted[1] if len(quoted) == 3 else line.split()[0]
    return line


def class_lists(folder: Path, subset: str, categories: list[str]) -> dict[str, list[int]]:
    """Image-level labels of a subset: item id -> the classes whose ``<class>_<subset>.txt`` says 1."""
    labels: dict[str, list[int]] = {}
    for index, name in enumerate(categories):
        path = folder / "ImageSets" / "Main" / f"{name}_{subset}.txt"
        if "/" in name or name in (".", "..") or not path.is_file():
            continue
        for number, line in enumerate(read_text(path).splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.rsplit(maxsplit=1)
            if len(fields) != 2 or fields[1] not in ("-1", "0", "1"):
                raise FormatError(
                    f"{printable(str(path))}, line {number}: expected 'ID 1', 'ID 0' or 'ID -1'"
                )
            if fields[1] == "1":
                labels.setdefault(fields[0], []).append(index)
    return labels


def read_item(
    folder: Path, item_id: str, dataset: AnnotatedDataset, images: dict[str, Path], labels: dict[str, list[int]]
) -> Item:
    """One item: its annotation file (when there is one), image, labels and masks."""
    where = f"the voc item {item_id!r}"
    item = Item(item_id, labels=list(labels.get(item_id, [])))
    xml_path = inside_folder(folder / "Annotations", item_id + ".xml", where)
    if xml_path.is_file():
        read_annotation(xml_path, item, dataset, folder)
    if item.image is None:
        item.image = images.get(item_id)
    if item.size is None and item.image is not None:
        item.size = image_size(item.image)
    colours = dataset.colours or voc_palette()
    class_path = inside_folder(folder / "SegmentationClass", item_id + ".png", where)
    if class_path.is_file():
        item.mask = class_path if indexes_are_pixels(class_path, colours) else load_colour_mask(class_path, colours)
    instance_path = inside_folder(folder / "SegmentationObject", item_id + ".png", where)
    if instance_path.is_file():
        palette = voc_palette()
        item.instance_mask = (
            instance_path if indexes_are_pixels(instance_path, palette) else load_colour_mask(instance_path, palette)
        )
    return item


def read_annotation(path: Path, item: Item, dataset: AnnotatedDataset, folder: Path) -> None:
    """Fill ``item`` from its ``Annotations/<id>.xml``: size, image file, objects and their parts."""
    root = parse_xml(path)
    where = printable(str(path))
    if root.tag != "annotation":
        raise FormatError(f"{where}: the root element is <{root.tag}>, not <annotation>")
    height, width = _number(root, "size/height", int, where), _number(root, "size/width", int, where)
    if height and width:
        check_size(height, width, where)
        item.size = (height, width)
    filename = root.findtext("filename")
    if filename:
        image = inside_folder(folder / "JPEGImages", filename, str(path))
        item.image = image if image.is_file() else None
    for number, element in enumerate(root.iterfind("object")):
        obj, parts = read_object(element, dataset, where)
        obj.id = number
        if parts:
            obj.group = number + 1
            for part in parts:
                part.group = obj.group
        item.objects += [*parts, obj]


def _number(element: ET.Element, xpath: str, kind: type, where: str) -> Any:
    """The number at ``xpath`` (None when absent)."""
    found = element.find(xpath)
    if found is None or found.text is None:
        return None
    try:
        return kind(found.text.strip())
    except ValueError:
        raise FormatError(f"{where}: <{xpath}> is {printable(found.text)!r}, not a number") from None


def read_object(element: ET.Element, dataset: AnnotatedDataset, where: str) -> tuple[Object, list[Object]]:
    """An ``<object>``: its label, box, flags and attributes, and its ``<part>`` objects."""
    label = label_of(element, dataset, where)
    attributes: dict[str, Any] = {}
    flags = {key: _flag(element, key, where) for key in FLAGS}
    pose = element.find("pose")
    if pose is not None:
        attributes["pose"] = pose.text
    point = element.find("point")
    if point is not None:
        attributes["point"] = [_required(point, "x", where), _required(point, "y", where)]
    crowd = False
    for attribute in element.iterfind("attributes/attribute"):
        key, value = attribute.findtext("name") or "", attribute.findtext("value")
        if key == "is_crowd":
            crowd = str(value).lower() in ("true", "1")
        else:
            attributes[key] = value
    name = dataset.categories[label]
    actions = {action: False for action in dataset.actions.get(name, [])}
    found = element.find("actions")
    for action in [] if found is None else list(found):
        actions[action.tag] = _flag(found, action.tag, where)  # type: ignore[arg-type]
    attributes.update(actions)
    obj = Object(
        label, box(element, where), difficult=flags["difficult"], truncated=flags["truncated"],
        occluded=flags["occluded"], crowd=crowd, attributes=attributes,
    )
    parts = [Object(label_of(part, dataset, where), box(part, where)) for part in element.findall("part")]
    return obj, parts


def label_of(element: ET.Element, dataset: AnnotatedDataset, where: str) -> int:
    """The class index of an object's ``<name>``."""
    name = element.findtext("name")
    if name is None:
        raise FormatError(f"{where}: an object has no <name>")
    if name not in dataset.categories:
        raise FormatError(f"{where}: the label '{printable(name)}' is not in the label map (labelmap.txt)")
    return dataset.categories.index(name)


def _flag(element: ET.Element, key: str, where: str) -> bool:
    found = element.find(key)
    if found is None:
        return False
    if found.text not in ("0", "1"):
        raise FormatError(f"{where}: <{key}> is {printable(str(found.text))!r}, expected 0 or 1")
    return found.text == "1"


def _required(element: ET.Element, key: str, where: str) -> float:
    value = _number(element, key, float, where)
    if value is None:
        raise FormatError(f"{where}: <{key}> is missing")
    if not math.isfinite(value):
        raise FormatError(f"{where}: <{key}> is {value}, not a finite number")
    return float(value)


def box(element: ET.Element, where: str) -> tuple[float, float, float, float]:
    """The ``<bndbox>`` of an object or part, as written."""
    found = element.find("bndbox")
    if found is None:
        raise FormatError(f"{where}: an object has no <bndbox>")
    x0, y0 = _required(found, "xmin", where), _required(found, "ymin", where)
    return x0, y0, _required(found, "xmax", where), _required(found, "ymax", where)


# --- writing -------------------------------------------------------------------------------------


def write_label_map(dataset: AnnotatedDataset) -> tuple[LabelMap, list[int]]:
    """The label map to write (a ``background`` first when no class has colour 0,0,0, as Datumaro does)
    and the new index of each of the dataset's categories."""
    part_names = {p for parts in dataset.parts.values() for p in parts}
    names = [c for c in dataset.categories if c not in part_names or c in dataset.parts]
    given = dataset.colours or []
    colours: list[Optional[Colour]] = [
        given[dataset.categories.index(n)] if dataset.categories.index(n) < len(given) else None for n in names
    ]
    if not any(c is not None and tuple(c) == (0, 0, 0) for c in colours) and not (
        not given and "background" in names
    ):
        names.insert(0, "background")
        colours.insert(0, (0, 0, 0) if given else None)
    palette = voc_palette(max(256, len(names)))
    label_map: LabelMap = {
        name: (tuple(colour) if colour is not None else palette[i], list(dataset.parts.get(name, [])),  # type: ignore[misc]
               list(dataset.actions.get(name, [])))
        for i, (name, colour) in enumerate(zip(names, colours))
    }
    order = dataset_frame(label_map).categories
    return label_map, [order.index(c) for c in dataset.categories]


def write(
    dataset: AnnotatedDataset,
    folder: Path,
    *,
    save_dataset_meta: bool = False,
    image_ext: Optional[str] = None,
    save_media: bool = True,
    **_: object,
) -> None:
    """Write ``dataset`` in the ``voc`` layout into the (existing, empty) ``folder``."""
    label_map, remap = write_label_map(dataset)
    frame = dataset_frame(label_map)
    for name in ("Annotations", "JPEGImages", "SegmentationClass", "SegmentationObject"):
        (folder / name).mkdir()
    for task in TASKS:
        (folder / "ImageSets" / task).mkdir(parents=True)
    seen: dict[str, str] = {}
    for subset, items in dataset:
        lists = SubsetLists()
        if "_" in subset:
            log.warning("Datumaro does not read voc subsets whose name has '_' (as '%s'); datamaestro does", subset)
        clashes = [item.id for item in items if seen.setdefault(item.id, subset) != subset]
        if clashes:
            log.warning(
                "the voc layout has one annotation file and image per item id: items %s of subset '%s' replace "
                "those of subset '%s' with the same ids", ", ".join(printable(repr(c), 40) for c in clashes[:5]),
                printable(subset), printable(seen[clashes[0]]),
            )
        for item in items:
            write_item(folder, item, frame, remap, lists, image_ext if save_media else None, save_media)
        lists.save(folder, subset, frame, label_map)
    if save_dataset_meta:
        write_meta(folder, label_map)
    else:
        write_label_map_file(folder / LABELMAP_FILE, label_map)


class SubsetLists:
    """What the ImageSets lists of one subset hold, gathered item by item."""

    def __init__(self) -> None:
        self.main: list[str] = []
        self.labels: dict[str, list[int]] = {}
        self.segmentation: list[str] = []
        self.layout: dict[str, list[int]] = {}
        self.actions: dict[str, dict[int, dict[str, bool]]] = {}

    def save(self, folder: Path, subset: str, frame: AnnotatedDataset, label_map: LabelMap) -> None:
        """Write the lists of ``subset``."""
        sets = folder / "ImageSets"
        _lines(sets / "Main" / f"{subset}.txt", self.main)
        _lines(sets / "Segmentation" / f"{subset}.txt", self.segmentation)
        if self.layout:
            _lines(sets / "Layout" / f"{subset}.txt", [f"{_quoted(i)} {n: d}" for i, ns in self.layout.items() for n in ns])
        if self.actions:
            _lines(sets / "Action" / f"{subset}.txt", list(self.actions))
            for action in sorted({a for actions in label_map.values() for a in actions[2]}):
                lines = [
                    f"{i} {n + 1} {1 if values.get(action) else -1: d}"
                    for i, objects in self.actions.items() for n, values in objects.items()
                ]
                _lines(sets / "Action" / f"{action}_{subset}.txt", lines)
        if self.labels:
            for index, name in enumerate(label_map):
                lines = [f"{i} {1 if index in ls else -1: d}" for i, ls in self.labels.items()]
                _lines(sets / "Main" / f"{name}_{subset}.txt", lines)


def _quoted(item_id: str) -> str:
    return f'"{item_id}"' if len(item_id.split()) > 1 else item_id


def _lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def write_item(
    folder: Path,
    item: Item,
    frame: AnnotatedDataset,
    remap: list[int],
    lists: SubsetLists,
    image_ext: Optional[str],
    save_media: bool,
) -> None:
    """Write one item's annotation file, image and masks, and note it in the lists."""
    where = f"item {item.id!r}"
    ext = image_ext or (item.image.suffix if item.image is not None else ".jpg")
    ext = ext if ext.startswith(".") else "." + ext
    if save_media and (item.image is not None or item.pixels is not None):
        save_item_image(item, item_path(folder / "JPEGImages", item.id, ext, where))
    lists.main.append(item.id)
    if item.labels:
        lists.labels[item.id] = [remap[label] for label in item.labels]
    root = annotation_xml(item, frame, remap, lists, item.id + ext)
    xml_path = item_path(folder / "Annotations", item.id, ".xml", where)
    xml_path.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(root)
    xml_path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n")
    class_mask, instance_mask = item_masks(item, remap)
    if class_mask is not None or instance_mask is not None:
        lists.segmentation.append(item.id)
    if class_mask is not None:
        target = item_path(folder / "SegmentationClass", item.id, ".png", where)
        target.parent.mkdir(parents=True, exist_ok=True)
        save_palette_png(target, class_mask, frame.colours or voc_palette())
    if instance_mask is not None:
        target = item_path(folder / "SegmentationObject", item.id, ".png", where)
        target.parent.mkdir(parents=True, exist_ok=True)
        save_palette_png(target, instance_mask, voc_palette())


def item_masks(item: Item, remap: list[int]) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """The class mask (in the written label order) and instance mask of an item; from its objects'
    polygons and RLE when it has no mask files."""
    table = np.array(remap + [0] * (256 - len(remap)), dtype=np.int64)
    class_mask = None if item.mask is None else table[np.clip(mask_array(item.mask).astype(np.int64), 0, 255)]
    instance_mask = None if item.instance_mask is None else mask_array(item.instance_mask)
    if class_mask is not None or instance_mask is not None:
        return class_mask, instance_mask
    shaped = [o for o in item.objects if o.polygons or o.rle is not None]
    if not shaped or item.size is None:
        return None, None
    height, width = item.size
    class_mask = np.zeros((height, width), dtype=np.int64)
    instance_mask = np.zeros((height, width), dtype=np.uint8)
    for number, obj in enumerate(shaped[:255], 1):
        pixels = decode_rle(obj.rle) if obj.rle is not None else polygons_mask(obj.polygons, height, width)
        if pixels.shape != (height, width):
            raise FormatError(f"item {printable(repr(item.id))}: a mask of {pixels.shape} in an image of {item.size}")
        class_mask[pixels != 0] = remap[obj.label] if obj.label >= 0 else 0
        instance_mask[pixels != 0] = number
    return class_mask, instance_mask


def annotation_xml(
    item: Item, frame: AnnotatedDataset, remap: list[int], lists: SubsetLists, filename: str
) -> ET.Element:
    """The ``<annotation>`` element of an item."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = item.id.split("_")[0] if "_" in item.id else ""
    ET.SubElement(root, "filename").text = filename
    source = ET.SubElement(root, "source")
    for key in ("database", "annotation", "image"):
        ET.SubElement(source, key).text = "Unknown"
    if item.size is not None or item.pixels is not None:
        height, width = item.size or item.pixels.shape[:2]  # type: ignore[union-attr]
        size = ET.SubElement(root, "size")
        ET.SubElement(size, "width").text = str(width)
        ET.SubElement(size, "height").text = str(height)
        depth = "" if item.pixels is None else str(item.pixels.shape[2] if item.pixels.ndim == 3 else 1)
        ET.SubElement(size, "depth").text = depth
    segmented = item.mask is not None or item.instance_mask is not None
    ET.SubElement(root, "segmented").text = str(int(segmented))
    part_names = {p for parts in frame.parts.values() for p in parts}
    names = [frame.categories[remap[o.label]] if o.label >= 0 else "" for o in item.objects]
    main = [o for o, n in zip(item.objects, names) if o.box is not None and n and (n not in part_names or n in frame.parts)]
    parts = [o for o, n in zip(item.objects, names) if o.box is not None and n in part_names and n not in frame.parts]
    for number, obj in enumerate(main):
        object_xml(root, obj, frame, remap, [p for p in parts if obj.group is not None and p.group == obj.group])
        if obj.group is not None and any(p.group == obj.group for p in parts):
            lists.layout.setdefault(item.id, []).append(number + 1)
        actions = frame.actions.get(frame.categories[remap[obj.label]], [])
        if actions:
            values = {a: bool(obj.attributes.get(a, False)) for a in actions}
            lists.actions.setdefault(item.id, {})[number] = values
    return root


def object_xml(root: ET.Element, obj: Object, frame: AnnotatedDataset, remap: list[int], parts: list[Object]) -> None:
    """Append an ``<object>`` (with its parts, actions and extra attributes) to ``root``."""
    element = ET.SubElement(root, "object")
    name = frame.categories[remap[obj.label]]
    ET.SubElement(element, "name").text = name
    if "pose" in obj.attributes:
        ET.SubElement(element, "pose").text = str(obj.attributes["pose"])
    for key in ("truncated", "occluded", "difficult"):
        ET.SubElement(element, key).text = str(int(getattr(obj, key)))
    box_xml(element, obj.box)
    for part in parts:
        part_element = ET.SubElement(element, "part")
        ET.SubElement(part_element, "name").text = frame.categories[remap[part.label]]
        box_xml(part_element, part.box)
    actions = frame.actions.get(name, [])
    if actions:
        actions_element = ET.SubElement(element, "actions")
        for action in actions:
            ET.SubElement(actions_element, action).text = str(int(bool(obj.attributes.get(action, False))))
    extra = {k: v for k, v in obj.attributes.items() if k not in ("pose", *actions, *FLAGS)}
    if obj.crowd:
        extra["is_crowd"] = True
    if extra:
        attributes = ET.SubElement(element, "attributes")
        for key, value in extra.items():
            attribute = ET.SubElement(attributes, "attribute")
            ET.SubElement(attribute, "name").text = str(key)
            ET.SubElement(attribute, "value").text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def box_xml(parent: ET.Element, corners: Optional[tuple[float, float, float, float]]) -> None:
    """Append a ``<bndbox>`` (numbers written as Python writes floats)."""
    if corners is None:
        return
    element = ET.SubElement(parent, "bndbox")
    for key, value in zip(("xmin", "ymin", "xmax", "ymax"), corners):
        ET.SubElement(element, key).text = str(float(value))


def write_label_map_file(path: Path, label_map: LabelMap) -> None:
    """Write ``labelmap.txt``."""
    check_line_names(list(label_map), "labelmap.txt", ":")
    lines = ["# label:color_rgb:parts:actions"]
    for name, (colour, parts, actions) in label_map.items():
        rgb = ",".join(str(int(c)) for c in colour) if colour else ""
        lines.append(":".join([name, rgb, ",".join(parts), ",".join(actions)]))
    _lines(path, lines)


def write_meta(folder: Path, label_map: LabelMap) -> None:
    """Write Datumaro's ``dataset_meta.json`` for the voc layout."""
    meta: dict[str, Any] = {"labels": list(label_map)}
    meta["label_map"] = {str(i): name for i, name in enumerate(label_map)}
    meta["segmentation_colors"] = [list(c) if c else None for c, _, _ in label_map.values()]
    parts = {str(i): list(desc[1]) for i, desc in enumerate(label_map.values()) if desc[1]}
    actions = {str(i): list(desc[2]) for i, desc in enumerate(label_map.values()) if desc[2]}
    if parts:
        meta["parts"] = parts
    if actions:
        meta["actions"] = actions
    text = json.dumps(meta, indent=4, ensure_ascii=False)
    (folder / META_FILE).write_text(text + "\n", encoding="utf-8")
