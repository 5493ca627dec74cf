"""The coco layout: Datumaro's own assets read as Datumaro 1.13.12 reads them, RLE codec, round trips, hostile files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datumaro_layouts import ASSETS, needs_assets
from detection_compare import summary

from datamaestro.errors import FormatError
from datamaestro.formats.annotations import AnnotatedDataset, Item, Object, Rle
from datamaestro.formats.masks import counts_from_string, counts_to_string, decode_rle, encode_rle
from datamaestro.formats.registry import read, write

COCO = ASSETS / "coco_dataset"
POLYGON = [0.0, 0.0, 1.0, 0.0, 1.0, 2.0, 0.0, 2.0]


def test_rle_codec_matches_pycocotools_strings():
    """Pairs computed with pycocotools.mask.encode (Datumaro's dependency)."""
    assert counts_to_string([0, 20, 30]) == "0d0n0"
    assert counts_from_string("0d0n0") == [0, 20, 30]
    assert counts_to_string([10, 10, 5, 10, 15]) == "::50:"
    assert counts_from_string("::50:") == [10, 10, 5, 10, 15]
    rng = np.random.default_rng(3)
    for _ in range(20):
        mask = (rng.random((7, 9)) < 0.4).astype(np.uint8)
        assert np.array_equal(decode_rle(encode_rle(mask)), mask)
        assert np.array_equal(decode_rle(encode_rle(mask, compressed=False)), mask)
    column_major = decode_rle(Rle(10, 5, [0, 20, 30]))
    assert column_major[:, :2].all() and not column_major[:, 2:].any()


@needs_assets
def test_instances_as_datumaro_reads_them():
    ds = read(COCO / "coco_instances", "coco")
    assert isinstance(ds, AnnotatedDataset)
    assert ds.categories == ["a", "b", "c"]  # ids 1, 2, 4: dense labels 0, 1, 2
    (a,) = ds.subsets["train"]
    assert (a.id, a.size, a.attributes) == ("a", (5, 10), {"id": 5})
    assert a.image == COCO / "coco_instances" / "images" / "train" / "a.jpg"
    assert a.objects == [Object(1, (2.0, 2.0, 5.0, 3.0), id=1)]
    (b,) = ds.subsets["val"]
    assert (b.id, b.size, b.attributes) == ("b", (10, 5), {"id": 40})
    assert b.objects == [
        Object(0, (0.0, 0.0, 1.0, 2.0), polygons=[POLYGON], id=1, attributes={"x": 1, "y": "hello"}),
        Object(1, (0.0, 0.0, 1.0, 9.0), crowd=True, rle=Rle(10, 5, [0, 20, 30]), id=2),
    ]
    assert int(decode_rle(b.objects[1].rle).sum()) == 20


@needs_assets
def test_captions_labels_image_info():
    captions = read(COCO / "coco_captions", "coco")
    assert captions.categories == []
    assert [i.attributes for i in captions.subsets["val"]] == [{"id": 40, "captions": ["world", "text"]}]
    labels = read(COCO / "coco_labels", "coco")
    assert labels.categories == ["a", "b"]
    assert [(i.id, i.labels) for _, items in labels for i in items] == [("a", [1]), ("b", [0, 1])]
    info = read(COCO / "coco_image_info", "coco")
    assert [(i.id, i.size, i.objects) for _, items in info for i in items] == [("a", (5, 10), []), ("b", (10, 5), [])]


@needs_assets
def test_panoptic_segments_become_rle_objects():
    ds = read(COCO / "coco_panoptic", "coco")
    (a,) = ds.subsets["train"]
    (segment,) = a.objects
    assert (segment.label, segment.id, segment.crowd, segment.box) == (0, 460551, False, (2.0, 0.0, 6.0, 4.0))
    # the PNG is 5x5 while the image is 10 wide: Datumaro reads a 5x5 mask of 25 pixels too
    assert decode_rle(segment.rle).shape == (5, 5) and int(decode_rle(segment.rle).sum()) == 25
    (b,) = ds.subsets["val"]
    assert [(o.label, o.id, o.crowd, int(decode_rle(o.rle).sum())) for o in b.objects] == [
        (0, 7, False, 20), (1, 20, True, 20),
    ]
    assert decode_rle(b.objects[1].rle)[:, 2:4].all()


@needs_assets
def test_keypoints_stuff_and_all_tasks_together():
    keypoints = read(COCO / "coco_person_keypoints", "coco")
    first = keypoints.subsets["val"][0].objects[0]
    assert first.attributes == {"x": 1, "y": "hello", "keypoints": [1, 2, 2, 3, 4, 2, 2, 3, 2], "num_keypoints": 3}
    stuff = read(COCO / "coco_stuff", "coco")
    (obj,) = stuff.subsets["train"][0].objects
    assert (obj.label, obj.crowd, obj.rle) == (0, True, Rle(5, 10, [10, 10, 5, 10, 15]))
    together = read(COCO / "coco", "coco")
    assert together.categories == ["a", "b", "c"]
    b = together.subsets["val"][0]
    assert b.labels == [0, 1] and b.attributes["captions"] == ["world", "text"]
    # instances, person_keypoints and stuff share annotation 2: one object; panoptic adds its segments 7 and 20
    assert [o.id for o in b.objects] == [1, 2, 7, 20]


@needs_assets
@pytest.mark.parametrize("variant", ["coco_roboflow", "mmdet_coco"])
def test_roboflow_and_mmdet_variants(variant):
    ds = read(COCO / variant, "coco")
    assert summary(ds) == summary(read(COCO / "coco_instances", "coco"))
    images = {"coco_roboflow": "train/a.jpg", "mmdet_coco": "train/a.jpg"}
    assert ds.subsets["train"][0].image == COCO / variant / images[variant]


@needs_assets
@pytest.mark.parametrize("name", ["coco_instances", "coco_labels", "coco_captions", "coco_person_keypoints", "coco"])
def test_write_and_read_back(tmp_path, name):
    source = read(COCO / name, "coco")
    write(source, tmp_path / "out", "coco")
    back = read(tmp_path / "out", "coco")
    assert back.categories == source.categories
    assert summary(back) == summary(source)
    for (_, items), (_, again) in zip(source, back):
        assert [i.attributes for i in again] == [i.attributes for i in items]
        assert [i.objects for i in again] == [i.objects for i in items]
        assert [i.image.read_bytes() for i in again] == [i.image.read_bytes() for i in items]


def test_flags_and_pixels_round_trip(tmp_path):
    item = Item("dir/x", pixels=np.full((3, 4, 3), 7, np.uint8), objects=[
        Object(1, (0.5, 1.0, 2.5, 3.0), difficult=True, occluded=True, attributes={"pose": "Left"}),
    ], labels=[0])
    write(AnnotatedDataset({"train": [item]}, ["a", "b"]), tmp_path / "out", "coco", image_ext=".png")
    (again,) = read(tmp_path / "out", "coco").subsets["train"]
    assert (again.id, again.size, again.labels) == ("dir/x", (3, 4), [0])
    assert again.objects == [Object(1, (0.5, 1.0, 2.5, 3.0), difficult=True, occluded=True, id=1,
                                    attributes={"pose": "Left"})]
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(again.image)), item.pixels)


def _coco(tmp_path, images, annotations, categories=({"id": 1, "name": "a"},)):
    folder = tmp_path / "coco"
    (folder / "annotations").mkdir(parents=True)
    (folder / "images" / "train").mkdir(parents=True)
    content = {"images": images, "annotations": annotations, "categories": list(categories)}
    (folder / "annotations" / "instances_train.json").write_text(json.dumps(content))
    return folder


@pytest.mark.parametrize("file_name", ["../../canary.jpg", "/etc/passwd", "images/../../../canary.jpg"])
def test_file_name_outside_refused(tmp_path, file_name):
    canary = tmp_path / "canary.jpg"
    canary.write_bytes(b"secret")
    folder = _coco(tmp_path, [{"id": 1, "file_name": file_name, "height": 2, "width": 2}], [])
    with pytest.raises(FormatError, match=r"instances_train\.json: refused the path"):
        read(folder, "coco")
    assert canary.read_bytes() == b"secret"


def test_rle_counts_not_covering_the_mask_refused(tmp_path):
    image = {"id": 1, "file_name": "a.jpg", "height": 10, "width": 5}
    bad = {"id": 3, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "segmentation": {"counts": [0, 20, 29], "size": [10, 5]}}
    folder = _coco(tmp_path, [image], [bad])
    with pytest.raises(FormatError, match=r"annotation 3: refused: the RLE counts sum to 49, not height x width"):
        read(folder, "coco")
    bad["segmentation"] = {"counts": "0d0n1", "size": [10, 5]}
    folder = _coco(tmp_path / "2", [image], [bad])
    with pytest.raises(FormatError, match="refused: the RLE counts sum to"):
        read(folder, "coco")


def test_huge_sizes_refused_before_allocating(tmp_path):
    folder = _coco(tmp_path, [{"id": 1, "file_name": "a.jpg", "height": 10**6, "width": 10**6}], [])
    with pytest.raises(FormatError, match="refused: a mask of 1000000x1000000"):
        read(folder, "coco")
    huge = {"counts": [10**12], "size": [10**6, 10**6]}
    folder = _coco(tmp_path / "2", [{"id": 1, "file_name": "a.jpg"}],
                   [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": huge}])
    with pytest.raises(FormatError, match="refused: a mask of 1000000x1000000"):
        read(folder, "coco")


def test_malformed_json_and_fields(tmp_path):
    folder = _coco(tmp_path, [], [])
    (folder / "annotations" / "instances_train.json").write_text("{")
    with pytest.raises(FormatError, match=r"instances_train\.json: not valid JSON"):
        read(folder, "coco")
    folder = _coco(tmp_path / "2", [{"id": "x", "file_name": "a.jpg"}], [])
    with pytest.raises(FormatError, match="'id' is 'x', not a int"):
        read(folder, "coco")
    folder = _coco(tmp_path / "3", [{"id": 1, "file_name": "a.jpg"}],
                   [{"id": 1, "image_id": 1, "category_id": 9, "bbox": [0, 0, 1, 1]}])
    with pytest.raises(FormatError, match="the category_id 9 is not in 'categories'"):
        read(folder, "coco")
