"""The ``coco`` layout (as Datumaro reads and writes it): ``annotations/<task>_<subset>.json`` and ``images/<subset>/``.

Tasks read: ``instances``, ``person_keypoints`` and ``stuff`` (objects: box
``[x, y, w, h]`` turned into corners, ``iscrowd``, polygons or RLE masks,
compressed or not, the annotation's ``attributes`` and ``score``; keypoints
go to the object's attributes), ``labels`` (image-level labels),
``captions`` (the item attribute ``captions``, a list), ``image_info``
(items only) and ``panoptic`` (each segment of the PNG an object with an RLE
mask). Every task's files of a subset describe the same items (by image id);
an annotation already read from another task (same id, label and box) is
not repeated. Category ids, possibly with gaps, become dense labels in id
order, merged across files by name; written back as 1..N. Also read: the
roboflow variant (``<subset>/_annotations.coco.json`` beside its images)
and mmdet's (``annotations/`` with images in ``<subset>/``). Written:
``instances_<subset>.json`` always, ``labels_<subset>.json`` and
``captions_<subset>.json`` when items have labels or captions.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.annotations import AnnotatedDataset, Item, Object, Rle
from datamaestro.formats.images import image_size, open_image
from datamaestro.formats.layout_files import check_links, inside_folder, item_path, read_json, save_item_image
from datamaestro.formats.masks import check_size, encode_rle, polygon_area, rle_area, rle_counts
from datamaestro.paths import printable

TASKS = ("instances", "person_keypoints", "stuff", "panoptic", "labels", "captions", "image_info")
ANNOTATION_FILE = re.compile(r"^(" + "|".join(TASKS) + r")_(.+)\.json$")
ROBOFLOW_FILE = "_annotations.coco.json"
FLAGS = ("difficult", "truncated", "occluded")


@dataclass
class Source:
    """One annotation file: its task, its subset, and where its images are."""

    task: str
    subset: str
    path: Path
    images: Path


def find_sources(folder: Path) -> list[Source]:
    """The annotation files of a coco folder (standard, mmdet or roboflow), instances first."""
    sources = []
    annotations = folder / "annotations"
    if annotations.is_dir():
        for path in sorted(annotations.glob("*.json")):
            match = ANNOTATION_FILE.match(path.name)
            if not match:
                continue
            task, subset = match.groups()
            images = folder / "images" / subset
            if not images.is_dir():
                images = folder / subset if (folder / subset).is_dir() else folder / "images"
            sources.append(Source(task, subset, path, images))
    else:
        for path in sorted(folder.glob(f"*/{ROBOFLOW_FILE}")):
            sources.append(Source("instances", path.parent.name, path, path.parent))
    return sorted(sources, key=lambda s: TASKS.index(s.task))


class Reader:
    """Items of every subset, merged over the annotation files."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.categories: list[str] = []
        self.items: dict[str, dict[int, Item]] = {}

    def read(self) -> AnnotatedDataset:
        """Every annotation file of the folder, merged into one dataset."""
        sources = find_sources(self.folder)
        if not sources:
            raise FormatError(
                f"{printable(str(self.folder))}: no annotations/<task>_<subset>.json nor "
                f"<subset>/{ROBOFLOW_FILE}: not the coco layout"
            )
        for source in sources:
            self.read_source(source)
        subsets = {name: list(items.values()) for name, items in self.items.items()}
        return AnnotatedDataset(subsets, self.categories)

    def read_source(self, source: Source) -> None:
        """Add the images and annotations of one file."""
        content = read_json(source.path)
        where = printable(str(source.path))
        if not isinstance(content, dict):
            raise FormatError(f"{where}: expected a JSON object with images and annotations")
        labels = self.category_map(_list(content, "categories", where, default=[]), where)
        items = self.items.setdefault(source.subset, {})
        for info in _list(content, "images", where):
            image_id = _field(info, "id", int, where)
            if image_id not in items:
                items[image_id] = self.new_item(info, source.images, where)
        for annotation in _list(content, "annotations", where, default=[]):
            image_id = _field(annotation, "image_id", int, where)
            item = items.get(image_id)
            if item is None:
                continue  # (Datumaro skips annotations of unknown images too)
            self.add_annotation(source, annotation, item, labels, where)

    def category_map(self, categories: list[Any], where: str) -> dict[int, int]:
        """COCO category id -> label index (dense, in id order, merged by name across files)."""
        found = sorted((_field(c, "id", int, where), str(_field(c, "name", str, where))) for c in categories)
        labels = {}
        for category_id, name in found:
            if name not in self.categories:
                self.categories.append(name)
            labels[category_id] = self.categories.index(name)
        return labels

    def new_item(self, info: Any, images: Path, where: str) -> Item:
        """The item of an ``images`` record (its file kept inside ``images``)."""
        image_id = _field(info, "id", int, where)
        file_name = str(_field(info, "file_name", str, where))
        path = inside_folder(images, file_name, where)
        height, width = info.get("height"), info.get("width")
        size = None
        if isinstance(height, int) and isinstance(width, int) and height > 0 and width > 0:
            check_size(height, width, f"{where}: image {image_id}")
            size = (height, width)
        image = path if path.is_file() else None
        if size is None and image is not None:
            size = image_size(image)
        item_id = os.path.splitext(file_name)[0]
        return Item(item_id, image=image, size=size, attributes={"id": image_id})

    def add_annotation(self, source: Source, annotation: Any, item: Item, labels: dict[int, int], where: str) -> None:
        """Add one annotation record to its item, as its task means it."""
        if not isinstance(annotation, dict):
            raise FormatError(f"{where}: an annotation is not a JSON object")
        if source.task == "captions":
            item.attributes.setdefault("captions", []).append(str(_field(annotation, "caption", str, where)))
        elif source.task == "labels":
            item.labels.append(label_of(annotation, labels, where))
        elif source.task == "panoptic":
            item.objects += panoptic_objects(source, annotation, item, labels, where)
        elif source.task != "image_info":
            add_object(item, read_object(annotation, item, labels, where))


def read(folder: Path) -> AnnotatedDataset:
    """Read the ``coco`` layout in ``folder`` (also its roboflow and mmdet variants)."""
    check_links(Path(folder))
    return Reader(Path(folder)).read()


def _list(content: dict, key: str, where: str, default: Optional[list] = None) -> list:
    value = content.get(key, default)
    if not isinstance(value, list):
        raise FormatError(f"{where}: '{key}' must be a list")
    return value


def _field(record: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(record, dict) or key not in record:
        raise FormatError(f"{where}: a record has no '{key}'")
    value = record[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise FormatError(f"{where}: '{key}' is {printable(repr(value), 80)}, not a {kind.__name__}")
    return value


def label_of(annotation: dict, labels: dict[int, int], where: str) -> int:
    """The label of an annotation's ``category_id`` (-1 for 0 or none, as Datumaro reads it)."""
    category = annotation.get("category_id")
    if not category:
        return -1
    if category not in labels:
        raise FormatError(f"{where}: the category_id {printable(repr(category), 40)} is not in 'categories'")
    return labels[category]


def read_object(annotation: dict, item: Item, labels: dict[int, int], where: str) -> Object:
    """An object of an instances (or person_keypoints, stuff) annotation."""
    attributes = annotation.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise FormatError(f"{where}: annotation {printable(repr(annotation.get('id')), 40)}: 'attributes' must be an object")
    attributes = dict(attributes)
    flags = {key: bool(attributes.pop(key)) for key in FLAGS if isinstance(attributes.get(key), bool)}
    for key in ("score", "keypoints", "num_keypoints"):
        if key in annotation:
            attributes[key] = annotation[key]
    obj = Object(
        label_of(annotation, labels, where), id=_field(annotation, "id", int, where),
        crowd=bool(annotation.get("iscrowd", 0)), attributes=attributes, difficult=flags.get("difficult", False),
        truncated=flags.get("truncated", False), occluded=flags.get("occluded", False),
    )
    bbox = annotation.get("bbox")
    if bbox is not None:
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(_is_number(v) and math.isfinite(v) for v in bbox)):
            raise FormatError(f"{where}: annotation {obj.id}: bbox must be [x, y, width, height]")
        x, y, w, h = (float(v) for v in bbox)
        obj.box = (x, y, x + w, y + h)
    segmentation = annotation.get("segmentation")
    if isinstance(segmentation, list) and segmentation and segmentation != [[]]:
        obj.polygons = [polygon(p, where, obj.id) for p in segmentation]
    elif isinstance(segmentation, dict):
        obj.rle = read_rle(segmentation, item, f"{where}: annotation {obj.id}")
    elif segmentation is not None and not isinstance(segmentation, list):
        raise FormatError(f"{where}: annotation {obj.id}: the segmentation must be polygons (a list) or an RLE (an object)")
    return obj


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def polygon(points: Any, where: str, ann_id: Optional[int]) -> list[float]:
    """One polygon: an even count (at least 6) of numbers."""
    if not isinstance(points, list) or not all(_is_number(v) and math.isfinite(v) for v in points):
        raise FormatError(f"{where}: annotation {ann_id}: a polygon must be a list of finite numbers")
    if len(points) % 2 or len(points) < 6:
        raise FormatError(f"{where}: annotation {ann_id}: a polygon has {len(points)} values, not 3 or more x, y pairs")
    return [float(v) for v in points]


def read_rle(segmentation: dict, item: Item, where: str) -> Rle:
    """An RLE mask, checked: its size is [height, width] and its counts cover exactly that many pixels."""
    size, counts = segmentation.get("size"), segmentation.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) for v in size)):
        raise FormatError(f"{where}: the RLE size must be [height, width]")
    if not isinstance(counts, (str, list)):
        raise FormatError(f"{where}: the RLE counts must be a string or a list of numbers")
    rle = Rle(size[0], size[1], counts)
    rle_counts(rle, where)
    if item.size is not None and (rle.height, rle.width) != item.size:
        raise FormatError(f"{where}: the mask is {rle.height}x{rle.width}, the image {item.size[0]}x{item.size[1]}")
    return rle


def add_object(item: Item, obj: Object) -> None:
    """Add ``obj`` to the item, or complete the same object read from another task's file."""
    for known in item.objects:
        same_mask = (not known.polygons or not obj.polygons or known.polygons == obj.polygons) and (
            known.rle is None or obj.rle is None or known.rle == obj.rle
        )
        if (known.id, known.label, known.box, known.crowd) == (obj.id, obj.label, obj.box, obj.crowd) and same_mask:
            known.attributes.update({k: v for k, v in obj.attributes.items() if k not in known.attributes})
            known.polygons = known.polygons or obj.polygons
            known.rle = known.rle or obj.rle
            return
    item.objects.append(obj)


def panoptic_objects(source: Source, annotation: dict, item: Item, labels: dict[int, int], where: str) -> list[Object]:
    """The segments of one image's panoptic PNG, each an object with an RLE mask."""
    folder = source.path.parent / source.path.stem
    png = inside_folder(folder, str(_field(annotation, "file_name", str, where)), where)
    with open_image(png) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=np.int64)
    ids = rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]
    objects = []
    for segment in _list(annotation, "segments_info", where):
        segment_id = _field(segment, "id", int, where)
        obj = Object(
            label_of(segment, labels, where), id=segment_id, crowd=bool(segment.get("iscrowd", 0)),
            rle=encode_rle(ids == segment_id), attributes=dict(segment.get("attributes") or {}),
        )
        bbox = segment.get("bbox")
        if isinstance(bbox, list) and len(bbox) == 4 and all(_is_number(v) for v in bbox):
            obj.box = (float(bbox[0]), float(bbox[1]), float(bbox[0] + bbox[2]), float(bbox[1] + bbox[3]))
        objects.append(obj)
    return objects


# --- writing -------------------------------------------------------------------------------------


def write(
    dataset: AnnotatedDataset,
    folder: Path,
    *,
    save_dataset_meta: bool = False,
    image_ext: Optional[str] = None,
    save_media: bool = True,
    **_: object,
) -> None:
    """Write ``dataset`` in the ``coco`` layout into the (existing, empty) ``folder``."""
    (folder / "annotations").mkdir()
    categories = [{"id": i + 1, "name": name, "supercategory": ""} for i, name in enumerate(dataset.categories)]
    for subset, items in dataset:
        images_folder = folder / "images" / subset
        images_folder.mkdir(parents=True)
        images: list[dict[str, Any]] = []
        annotations: list[dict[str, Any]] = []
        labels: list[dict[str, Any]] = []
        captions: list[dict[str, Any]] = []
        image_ids = item_image_ids(items)
        next_id = 1 + max((o.id or 0 for item in items for o in item.objects), default=0)
        for item, image_id in zip(items, image_ids):
            ext = image_ext or (item.image.suffix if item.image is not None else ".jpg")
            ext = ext if ext.startswith(".") else "." + ext
            if save_media and (item.image is not None or item.pixels is not None):
                save_item_image(item, item_path(images_folder, item.id, ext, f"item {item.id!r}"))
            images.append(image_record(item, image_id, item.id + ext))
            for obj in item.objects:
                if obj.id is None:
                    obj_id, next_id = next_id, next_id + 1
                else:
                    obj_id = obj.id
                annotations.append(annotation_record(obj, obj_id, image_id))
            labels += [{"id": len(labels) + 1, "image_id": image_id, "category_id": label + 1} for label in item.labels]
            for caption in item.attributes.get("captions", []):
                captions.append({"id": len(captions) + 1, "image_id": image_id, "category_id": 0, "caption": caption})
        _dump(folder / "annotations" / f"instances_{subset}.json", images, categories, annotations)
        if labels:
            _dump(folder / "annotations" / f"labels_{subset}.json", images, categories, labels)
        if captions:
            _dump(folder / "annotations" / f"captions_{subset}.json", images, [], captions)
    if save_dataset_meta:
        text = json.dumps({"labels": list(dataset.categories)}, indent=4, ensure_ascii=False)
        (folder / "dataset_meta.json").write_text(text + "\n", encoding="utf-8")


def item_image_ids(items: Sequence[Item]) -> list[int]:
    """The COCO image id of each item: its own (attribute ``id``) when all are distinct integers, else 1..N."""
    ids = [item.attributes.get("id") for item in items]
    if all(isinstance(i, int) and not isinstance(i, bool) for i in ids) and len(set(ids)) == len(ids):
        return [int(i) for i in ids]  # type: ignore[arg-type]
    return list(range(1, len(items) + 1))


def image_record(item: Item, image_id: int, file_name: str) -> dict[str, Any]:
    """The ``images`` entry of an item."""
    size = item.size
    if size is None and item.pixels is not None:
        size = (int(item.pixels.shape[0]), int(item.pixels.shape[1]))
    if size is None and item.image is not None:
        size = image_size(item.image)
    height, width = size or (0, 0)
    return {
        "id": image_id, "width": width, "height": height, "file_name": file_name, "license": 0,
        "flickr_url": "", "coco_url": "", "date_captured": 0,
    }


def annotation_record(obj: Object, obj_id: int, image_id: int) -> dict[str, Any]:
    """The ``annotations`` entry of an object."""
    segmentation: Any = []
    if obj.rle is not None:
        segmentation = {"counts": obj.rle.counts, "size": [obj.rle.height, obj.rle.width]}
        area = float(rle_area(obj.rle))
    elif obj.polygons:
        segmentation = [list(p) for p in obj.polygons]
        area = sum(polygon_area(p) for p in obj.polygons)
    else:
        area = 0.0 if obj.box is None else (obj.box[2] - obj.box[0]) * (obj.box[3] - obj.box[1])
    bbox = [] if obj.box is None else [obj.box[0], obj.box[1], obj.box[2] - obj.box[0], obj.box[3] - obj.box[1]]
    record: dict[str, Any] = {
        "id": obj_id, "image_id": image_id, "category_id": obj.label + 1 if obj.label >= 0 else 0,
        "segmentation": segmentation, "area": area, "bbox": [float(v) for v in bbox], "iscrowd": int(obj.crowd),
    }
    attributes = {k: v for k, v in obj.attributes.items() if k not in ("score", "keypoints", "num_keypoints")}
    attributes.update({key: True for key in FLAGS if getattr(obj, key)})
    for key in ("score", "keypoints", "num_keypoints"):
        if key in obj.attributes:
            record[key] = obj.attributes[key]
    if attributes:
        record["attributes"] = attributes
    return record


def _dump(path: Path, images: list, categories: list, annotations: list) -> None:
    content = {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {"contributor": "", "date_created": "", "description": "", "url": "", "version": "", "year": ""},
        "categories": categories, "images": images, "annotations": annotations,
    }
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
