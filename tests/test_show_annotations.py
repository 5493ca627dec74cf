"""End to end on a definition written here: prepare -> typed object -> loaders -> show and info,
for a detection dataset (boxes drawn) and a segmentation dataset (masks blended)."""

from __future__ import annotations

import json

import numpy as np
from annotatedfixtures import GREY, SERVED_BOXES, serve_shapes
from PIL import Image

import datamaestro
from datamaestro.data.detection import Detection
from datamaestro.data.segmentation import SemanticSegmentation
from datamaestro.formats.annotations import voc_palette
from datamaestro.viz import grid_layout

PALETTE = voc_palette(256)


def tiles(path, count: int, height: int = 40, width: int = 60, scale: int = 2) -> list[np.ndarray]:
    pixels = np.asarray(Image.open(path).convert("RGB"))
    layout = grid_layout(count, height, width, ncols=8, scale=scale, title_height=0)
    assert pixels.shape[:2] == (layout.size[1], layout.size[0])
    out = []
    for i in range(count):
        left, top, right, bottom = layout.tile_box(i)
        out.append(pixels[top:bottom, left:right][::scale, ::scale])  # back to image pixels
    return out


def test_detection_end_to_end(env, server, cli, tmp_path):
    serve_shapes(env, server)
    data = datamaestro.prepare_dataset("org.test.boxes")
    assert isinstance(data, Detection) and data.categories == ["cat", "dog"]
    assert data.train.categories == ["cat", "dog"] and len(data.train) == 2
    assert data.train.targets(1)["boxes"].tolist() == [box for _, box in SERVED_BOXES["b.png"]]
    batch = next(iter(data.train.batches(2, shuffle=False, resize=(20, 30))))
    assert batch.boxes[0, 0].tolist() == [2, 2, 25, 18] and batch.labels.tolist() == [[1, -1], [0, 1]]

    out = tmp_path / "boxes.png"
    r = cli("show", "org.test.boxes", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert f"wrote 2 train images to {out}" in r.stderr
    first, second = tiles(out, 2)
    dog, cat = PALETTE[2], PALETTE[1]
    # a.png: one dog box (4, 4)-(50, 36): its bottom and right edges in the dog colour, inside untouched
    assert first[35, 10:49].tolist() == [list(dog)] * 39
    assert first[20:35, 49].tolist() == [list(dog)] * 15
    assert first[30, 40].tolist() == [GREY] * 3 and first[38, 55].tolist() == [GREY] * 3
    assert first[4:20, 2:12].tolist() != [[[GREY] * 3] * 10] * 16  # the class name is written there
    assert second[29, 15].tolist() == list(cat) and second[19, 40].tolist() == list(dog)

    r = cli("show", "org.test.boxes", "--label", "cat", "-o", str(out))
    assert r.returncode == 0, r.stderr
    (only,) = tiles(out, 1)
    assert np.array_equal(only, second)
    r = cli("show", "org.test.boxes", "--terminal", "-n", "1")
    assert r.returncode == 0 and "\u2580" in r.stdout

    info = json.loads(cli("info", "--json", "org.test.boxes").stdout)
    assert info["splits"] == {"train": {
        "count": 2, "image_shape": [40, 60, 3], "image_dtype": "uint8", "objects": 3,
        "labels": {"cat": 1, "dog": 2}, "objects_per_class": {"cat": 1, "dog": 2}, "flags": {},
    }}
    text = cli("info", "org.test.boxes").stdout.splitlines()
    assert "  train: 2 images, 40x60x3 uint8" in text


def test_segmentation_end_to_end(env, server, cli, tmp_path):
    arrays = serve_shapes(env, server)
    data = datamaestro.prepare_dataset("org.test.regions")
    assert isinstance(data, SemanticSegmentation) and data.train.ignore_index == 255
    assert np.array_equal(data.train.mask(1), arrays["mask_b.png"])
    images, masks = next(iter(data.train.batches(2, shuffle=False, normalize=False)))
    assert np.array_equal(images[0], arrays["a.png"]) and np.array_equal(masks[1], arrays["mask_b.png"])

    out = tmp_path / "regions.png"
    r = cli("show", "org.test.regions", "-o", str(out))
    assert r.returncode == 0, r.stderr
    first, _ = tiles(out, 2)
    road, tree = PALETTE[1], PALETTE[2]

    def blended(colour):
        return [round(GREY * 0.5 + c * 0.5) for c in colour]

    assert first[4, 5].tolist() == blended(road) and first[12, 15].tolist() == blended(tree)
    assert first[0, 0].tolist() == [GREY] * 3  # background (black in VOC's colours): as it is
    assert first[18, 30].tolist() == [GREY] * 3  # ignored pixels: as they are

    info = json.loads(cli("info", "--json", "org.test.regions").stdout)
    masks_all = [arrays["mask_a.png"], arrays["mask_b.png"]]
    assert info["splits"]["train"] == {
        "count": 2, "image_shape": [40, 60, 3], "image_dtype": "uint8",
        "labels": {"background": 2, "road": 2, "tree": 2},
        "pixels_per_class": {name: int(sum((m == k).sum() for m in masks_all))
                             for k, name in enumerate(["background", "road", "tree"])},
        "ignored_pixels": 120,
    }
