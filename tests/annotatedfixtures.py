"""Small annotated image datasets built here: PNG images, boxes, polygons, RLE, palette masks,
their indexes, and a definition module serving them (detection and segmentation) on loopback."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from kindfixtures import sha256, tar_gz
from makefiles import write_module
from PIL import Image

from datamaestro.data.detection import ObjectDetection
from datamaestro.data.segmentation import Segmentation
from datamaestro.formats.annotations import Item, Object, Rle, voc_palette
from datamaestro.formats.objects_index import write_classes, write_detection_index, write_segmentation_index

#: a 4 x 3 mask written by hand: columns (0 0 1 1), (0 1 1 0), (0 0 0 0); runs 2, 2, 1, 2, 5
RLE_STRING = "22104"
RLE_MASK = np.array([[0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 0, 0]], dtype=bool)
GREY = 200
NAMES = ["cat", "dog"]
SEG_NAMES = ["background", "road", "tree"]


def png(array: np.ndarray, palette: bool = False) -> bytes:
    """``array`` as PNG bytes (a palette image with VOC's colours when ``palette``)."""
    if palette:
        image = Image.frombytes("P", (array.shape[1], array.shape[0]), np.ascontiguousarray(array).tobytes())
        image.putpalette([v for colour in voc_palette(256) for v in colour])
    else:
        image = Image.fromarray(array)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def pattern(height: int, width: int, k: int) -> np.ndarray:
    """A colour image with some structure (so that resizing changes it) over a grey ground."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.full((height, width, 3), GREY, dtype=np.uint8)
    image[..., 0] = (GREY + 7 * k + (x * 3) % 20).astype(np.uint8)
    image[..., 1] = (GREY - 5 * k + (y * 2) % 16).astype(np.uint8)
    return image


def detection_items(root: Path) -> list[Item]:
    """Three images under ``root/img`` (two 20x40, one 4x3) with boxes, flags, a polygon and an RLE."""
    (root / "img").mkdir(parents=True)
    for k, (height, width) in enumerate([(20, 40), (20, 40), (4, 3)]):
        (root / "img" / f"{k}.png").write_bytes(png(pattern(height, width, k)))
    return [
        Item(id="first", image=root / "img" / "0.png", objects=[
            Object(label=1, box=(2.0, 3.0, 10.0, 12.0), difficult=True, id=7, attributes={"pose": "left"}),
            Object(label=0, box=(0.5, 0.0, 4.0, 4.0), truncated=True, occluded=True,
                   polygons=[[1, 1, 4, 1, 4, 3, 1, 3]]),
        ]),
        Item(id="empty", image=root / "img" / "1.png"),
        Item(id="crowd", image=Path("img/2.png"), objects=[
            Object(label=1, rle=Rle(height=4, width=3, counts=RLE_STRING), crowd=True),
        ]),
    ]


def detection_split(tmp_path: Path) -> ObjectDetection:
    """The detection split of ``detection_items``, indexed."""
    root, index = tmp_path / "root", tmp_path / "index"
    index.mkdir(parents=True)
    assert write_detection_index(index, "train", root, detection_items(root)) == 3
    write_classes(index, NAMES)
    return ObjectDetection.from_index(root, index, "train", NAMES)


def class_mask(height: int, width: int, k: int) -> np.ndarray:
    """A mask of class 1 and 2 rectangles over 0, with a row of 255 (ignored)."""
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[2 + k : 8, 2:10] = 1
    mask[10:16, 12 + k : 22] = 2
    mask[18, :] = 255
    return mask


def segmentation_split(tmp_path: Path) -> Segmentation:
    """Three 20x24 images (one 24x32) with palette PNG masks, indexed."""
    root, index = tmp_path / "root", tmp_path / "index"
    (root / "img").mkdir(parents=True)
    (root / "masks").mkdir()
    index.mkdir(parents=True)
    items = []
    for k, (height, width) in enumerate([(20, 24), (20, 24), (24, 32)]):
        (root / "img" / f"{k}.png").write_bytes(png(pattern(height, width, k)))
        (root / "masks" / f"{k}.png").write_bytes(png(class_mask(height, width, k), palette=True))
        items.append(Item(id=f"s{k}", image=root / "img" / f"{k}.png", mask=root / "masks" / f"{k}.png"))
    assert write_segmentation_index(index, "train", root, items) == 3
    write_classes(index, SEG_NAMES, voc_palette(3), 255)
    return Segmentation.from_index(root, index, "train", SEG_NAMES, [list(c) for c in voc_palette(3)], 255)


# -- a definition module serving both kinds -------------------------------------------------

SOURCE = '''
import json
from pathlib import Path

from datamaestro.data.detection import Detection, ObjectDetection
from datamaestro.data.segmentation import SemanticSegmentation, Segmentation
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats.annotations import Item, Object
from datamaestro.formats.objects_index import read_classes, write_classes, write_detection_index, write_segmentation_index

DATA = archivedownloader("data", {url!r}, checksum="sha256:{digest}", subpath="shapes")


def _boxes(data: Path, out: Path) -> None:
    """The detection index, from boxes.json."""
    listing = json.loads((data / "boxes.json").read_text())
    items = [
        Item(id=name, image=data / name, objects=[Object(label=label, box=tuple(box)) for label, box in objects])
        for name, objects in listing.items()
    ]
    write_detection_index(out, "train", data, items)
    write_classes(out, ["cat", "dog"])


def _regions(data: Path, out: Path) -> None:
    """The segmentation index: each image with its mask."""
    items = [Item(id=name, image=data / name, mask=data / ("mask_" + name)) for name in ("a.png", "b.png")]
    write_segmentation_index(out, "train", data, items)
    write_classes(out, ["background", "road", "tree"], ignore_index=255)


@DATA
@derived("index", _boxes, DATA)
@dataset(Detection, url="https://example.org/shapes")
def boxes(data, index):
    """Shapes with boxes."""
    return {{"train": ObjectDetection.from_index(data, index, "train"), "categories": read_classes(index).categories}}


@DATA
@derived("index", _regions, DATA)
@dataset(SemanticSegmentation, url="https://example.org/shapes")
def regions(data, index):
    """Shapes with class masks."""
    classes = read_classes(index)
    return {{
        "train": Segmentation.from_index(data, index, "train"),
        "categories": classes.categories, "ignore_index": classes.ignore_index,
    }}
'''

#: the boxes of the served images: (label, box)
SERVED_BOXES = {"a.png": [(1, [4, 4, 50, 36])], "b.png": [(0, [10, 8, 30, 30]), (1, [34, 2, 58, 20])]}


def serve_shapes(env: Any, server: Any) -> dict[str, np.ndarray]:
    """Serve a tar.gz of two 40x60 images, their boxes and class masks; define ``org.test.boxes``
    and ``org.test.regions`` on it. Returns the images and masks by name."""
    arrays = {"a.png": np.full((40, 60, 3), GREY, np.uint8), "b.png": pattern(40, 60, 1)}
    masks = {name: class_mask(40, 60, k) for k, name in enumerate(arrays)}
    files = {f"shapes/{name}": png(array) for name, array in arrays.items()}
    files.update({f"shapes/mask_{name}": png(mask, palette=True) for name, mask in masks.items()})
    files["shapes/boxes.json"] = json.dumps(SERVED_BOXES).encode()
    archive = tar_gz(files)
    server.files["/shapes.tar.gz"] = archive
    source = SOURCE.format(url=server.url("shapes.tar.gz"), digest=sha256(archive))
    write_module(env.use_registry(), "org.test", source)
    return {**arrays, **{f"mask_{name}": mask for name, mask in masks.items()}}
