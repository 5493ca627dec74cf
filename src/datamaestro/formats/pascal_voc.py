"""The Pascal VOC challenge folders (``VOCdevkit/VOC2007``, ``VOC2012``): one task's split as items to index.

The ``voc`` layout (``datamaestro.formats.voc``) reads a whole folder as
Datumaro does, every list of ``ImageSets/{Main,Segmentation,Layout,Action}``
merged by name. The challenge's own splits are per task, and differ: here a
detection split is ``ImageSets/Main/<split>.txt`` with the objects of each
``Annotations/<id>.xml`` (box as written, 1-based; difficult, truncated and
occluded flags; the pose as an attribute; the person layout parts are left
out), and a segmentation split is ``ImageSets/Segmentation/<split>.txt`` with
each image's ``SegmentationClass/<id>.png`` (palette indexes: 0 background,
1-20 the classes, 255 the void borders).
"""

from __future__ import annotations

from pathlib import Path

from datamaestro.errors import FormatError
from datamaestro.formats.annotations import Item
from datamaestro.formats.layout_files import inside_folder, read_text
from datamaestro.formats.voc import VOC_LABELS, dataset_frame, default_label_map, read_annotation
from datamaestro.paths import printable

#: the class names, as the masks index them: background (0), then the 20 classes (1-20)
CLASSES = list(VOC_LABELS)
#: the mask value of the void borders
VOID = 255


def split_ids(folder: Path, task: str, split: str) -> list[str]:
    """The image ids of ``ImageSets/<task>/<split>.txt``, in their order."""
    path = inside_folder(folder / "ImageSets" / task, f"{split}.txt", f"the {task} list {split}")
    if not path.is_file():
        raise FormatError(f"{printable(str(path))}: missing; the archive is not a Pascal VOC release")
    return [line.strip() for line in read_text(path).splitlines() if line.strip()]


def detection_items(folder: Path, split: str) -> list[Item]:
    """The images of the detection split ``split`` with their objects (classes 1-20)."""
    frame = dataset_frame(default_label_map())
    items = []
    for item_id in split_ids(folder, "Main", split):
        where = f"the VOC image {item_id!r}"
        item = Item(item_id)
        read_annotation(inside_folder(folder / "Annotations", item_id + ".xml", where), item, frame, folder)
        item.objects = [obj for obj in item.objects if 0 < obj.label < len(CLASSES)]
        for obj in item.objects:
            obj.group = None
            obj.attributes = {k: v for k, v in obj.attributes.items() if k == "pose"}
        item.image = item.image or inside_folder(folder / "JPEGImages", item_id + ".jpg", where)
        items.append(item)
    return items


def segmentation_items(folder: Path, split: str) -> list[Item]:
    """The images of the segmentation split ``split`` with their class masks."""
    items = []
    for item_id in split_ids(folder, "Segmentation", split):
        where = f"the VOC image {item_id!r}"
        image = inside_folder(folder / "JPEGImages", item_id + ".jpg", where)
        mask = inside_folder(folder / "SegmentationClass", item_id + ".png", where)
        items.append(Item(item_id, image=image, mask=mask))
    return items
