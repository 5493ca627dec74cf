"""The voc layout: Datumaro's own assets read exactly as Datumaro 1.13.12 reads them, written and read back, hostile files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from datumaro_layouts import ASSETS, needs_assets
from detection_compare import summary

from datamaestro.errors import FormatError
from datamaestro.formats.annotations import AnnotatedDataset, Item, Object, Rle, voc_palette
from datamaestro.formats.masks import encode_rle, mask_array
from datamaestro.formats.registry import read, write

VOC = ASSETS / "voc_dataset"
VOC_NAMES = [
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    "ignored",
]
ACTIONS = {
    "other": True, "jumping": False, "phoning": True, "playinginstrument": False, "reading": True,
    "ridingbike": False, "ridinghorse": True, "running": False, "takingphoto": True, "usingcomputer": False,
    "walking": True,
}


@needs_assets
def test_voc_dataset1_as_datumaro_reads_it():
    ds = read(VOC / "voc_dataset1", "voc")
    assert isinstance(ds, AnnotatedDataset)
    assert ds.categories == [*VOC_NAMES, "head", "hand", "foot"]
    assert ds.parts == {"person": ["head", "hand", "foot"]} and list(ds.actions) == ["person"]
    assert ds.colours is not None and ds.colours[:22] == [*voc_palette()[:21], (224, 224, 192)]
    assert {name: [i.id for i in items] for name, items in ds} == {"train": ["2007_000001"], "test": ["2007_000002"]}
    test = ds.subsets["test"][0]
    assert (test.size, test.labels, test.objects, test.mask) == ((10, 20), [], [], None)
    assert test.image == VOC / "voc_dataset1" / "JPEGImages" / "2007_000002.jpg"
    item = ds.subsets["train"][0]
    assert item.size == (10, 20)
    assert item.labels == [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21]
    cat, head, person = item.objects
    assert cat == Object(8, (1.0, 2.0, 3.0, 4.0), truncated=True, id=0, attributes={"pose": "Unspecified"})
    assert head == Object(22, (5.5, 6.0, 7.5, 8.0), group=person.group)
    assert person == Object(15, (4.0, 5.0, 6.0, 7.0), id=1, attributes=ACTIONS, group=2)
    # SegmentationClass and SegmentationObject are RGB PNGs: all pixels bicycle (0,128,0), instance 1 (128,0,0)
    assert np.array_equal(mask_array(item.mask), np.full((10, 20), 2))
    assert np.array_equal(mask_array(item.instance_mask), np.full((10, 20), 1))


@needs_assets
def test_voc_dataset2_odd_ids_labelmap_and_empty_lists():
    ds = read(VOC / "voc_dataset2", "voc")
    assert ds.categories == VOC_NAMES and ds.parts == {} and ds.actions == {}
    items = ds.subsets["trainval"]
    assert [i.id for i in items] == ["@", "a", "b", "c", "d"]
    assert all(i.image is None and i.size is None and i.labels == [] for i in items)
    assert items[0].objects == []
    boxes = [(o.label, o.box, o.occluded) for i in items[1:] for o in i.objects]
    assert boxes == [
        (0, (1.0, 2.0, 4.0, 6.0), True), (1, (2.0, 2.0, 7.0, 6.0), True),
        (2, (3.0, 1.0, 11.0, 6.0), False), (3, (4.0, 4.0, 8.0, 8.0), False),
    ]


@needs_assets
def test_voc_dataset3_comment_in_list():
    ds = read(VOC / "voc_dataset3", "voc")
    (item,) = ds.subsets["train"]
    assert (item.id, item.size, item.labels) == ("2007_000001", (10, 20), [])
    assert item.objects == [Object(8, (1.0, 2.0, 3.0, 4.0), truncated=True, id=0, attributes={"pose": "Unspecified"})]


@needs_assets
@pytest.mark.parametrize("name", ["voc_dataset1", "voc_dataset2", "voc_dataset3"])
def test_write_and_read_back(tmp_path, name):
    source = read(VOC / name, "voc")
    write(source, tmp_path / "out", "voc")
    back = read(tmp_path / "out", "voc")
    assert back.categories == source.categories and back.parts == source.parts and back.actions == source.actions
    assert summary(back, voc_masks=True) == summary(source, voc_masks=True)
    for (_, items), (_, back_items) in zip(source, back):
        for item, again in zip(items, back_items):
            assert again.objects == item.objects
            if item.image is not None:
                assert again.image is not None and again.image.read_bytes() == item.image.read_bytes()
            for kind in ("mask", "instance_mask"):
                value = getattr(item, kind)
                assert (value is None) == (getattr(again, kind) is None)
                if value is not None:
                    assert np.array_equal(mask_array(getattr(again, kind)), mask_array(value))
    if name == "voc_dataset1":  # masks are written as palette PNGs: the pixel values are the indexes
        assert isinstance(back.subsets["train"][0].mask, type(tmp_path))


def test_masks_from_coco_objects_and_background_first(tmp_path):
    """COCO-like objects (RLE, polygons) become VOC masks; a 'background' class is put first, as Datumaro does."""
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 1:3] = 1
    item = Item("x", pixels=np.zeros((4, 6, 3), np.uint8), size=(4, 6), objects=[
        Object(0, (1, 1, 3, 3), rle=encode_rle(mask)),
        Object(1, (4, 0, 6, 2), polygons=[[4, 0, 5, 0, 5, 1, 4, 1]], crowd=True),
    ])
    write(AnnotatedDataset({"train": [item]}, ["cat", "dog"]), tmp_path / "out", "voc")
    back = read(tmp_path / "out", "voc")
    assert back.categories == ["background", "cat", "dog"]
    (again,) = back.subsets["train"]
    assert [(o.label, o.box, o.crowd) for o in again.objects] == [(1, (1, 1, 3, 3), False), (2, (4, 0, 6, 2), True)]
    classes = mask_array(again.mask)
    assert classes[1:3, 1:3].tolist() == [[1, 1], [1, 1]] and classes[0, 4] == 2 and classes[0, 0] == 0
    assert sorted(np.unique(mask_array(again.instance_mask)).tolist()) == [0, 1, 2]
    assert (tmp_path / "out" / "ImageSets" / "Segmentation" / "train.txt").read_text() == "x\n"


def _voc(tmp_path, xml: str, ids: str = "a\n"):
    folder = tmp_path / "voc"
    (folder / "ImageSets" / "Main").mkdir(parents=True)
    (folder / "Annotations").mkdir()
    (folder / "ImageSets" / "Main" / "train.txt").write_text(ids)
    (folder / "Annotations" / "a.xml").write_text(xml)
    return folder


def test_xml_with_doctype_or_entities_refused(tmp_path):
    folder = _voc(tmp_path, '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
                  "<annotation><filename>&lol2;</filename></annotation>")
    with pytest.raises(FormatError, match=r"a\.xml: refused: the XML declares a DOCTYPE or entities"):
        read(folder, "voc")


def test_image_path_leading_outside_refused(tmp_path):
    canary = tmp_path / "canary.jpg"
    canary.write_bytes(b"secret")
    folder = _voc(tmp_path, "<annotation><filename>../../canary.jpg</filename></annotation>")
    with pytest.raises(FormatError, match=r"a\.xml: refused the path '\.\./\.\./canary\.jpg': only files inside"):
        read(folder, "voc")
    (folder / "Annotations" / "a.xml").write_text(f"<annotation><filename>{canary}</filename></annotation>")
    with pytest.raises(FormatError, match="refused the path"):
        read(folder, "voc")
    assert canary.read_bytes() == b"secret"


def test_list_id_leading_outside_refused(tmp_path):
    outside = tmp_path / "x.xml"
    outside.write_text("<annotation><object><name>cat</name></object></annotation>")
    folder = _voc(tmp_path, "<annotation/>", ids="../../x\n")
    with pytest.raises(FormatError, match=r"the voc item '\.\./\.\./x': refused the path"):
        read(folder, "voc")


def test_huge_size_and_bad_flag_refused(tmp_path):
    folder = _voc(tmp_path, "<annotation><size><width>100000</width><height>100000</height></size></annotation>")
    with pytest.raises(FormatError, match="refused: a mask of 100000x100000"):
        read(folder, "voc")
    (folder / "Annotations" / "a.xml").write_text(
        "<annotation><object><name>cat</name><difficult>yes</difficult></object></annotation>"
    )
    with pytest.raises(FormatError, match=r"a\.xml: <difficult> is 'yes', expected 0 or 1"):
        read(folder, "voc")


def test_unknown_mask_colour_refused(tmp_path):
    from PIL import Image

    folder = _voc(tmp_path, "<annotation/>")
    (folder / "SegmentationClass").mkdir()
    Image.new("RGB", (2, 2), (1, 2, 3)).save(folder / "SegmentationClass" / "a.png")
    with pytest.raises(FormatError, match=r"a\.png: the colour \(1, 2, 3\) is no class's colour"):
        read(folder, "voc")


def test_rle_in_objects_is_checked(tmp_path):
    item = Item("x", size=(2, 2), objects=[Object(0, (0, 0, 1, 1), rle=Rle(2, 2, [1, 2]))])
    with pytest.raises(FormatError, match="the RLE counts sum to 3, not height x width = 2 x 2 = 4"):
        write(AnnotatedDataset({"train": [item]}, ["cat"]), tmp_path / "out", "voc")
    assert not (tmp_path / "out").exists()


@needs_assets
def test_copy_keeps_the_assets_readable(tmp_path):
    shutil.copytree(VOC / "voc_dataset1", tmp_path / "v")
    assert len(read(tmp_path / "v", "voc")) == 2
