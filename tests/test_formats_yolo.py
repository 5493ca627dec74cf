"""The yolo layout: Datumaro's own assets read as Datumaro 1.13.12 reads them, round trips, hostile label files."""

from __future__ import annotations

import numpy as np
import pytest
from datumaro_layouts import ASSETS, needs_assets
from detection_compare import summary

from datamaestro.errors import FormatError
from datamaestro.formats.annotations import AnnotatedDataset, Item, Object
from datamaestro.formats.registry import read, write

YOLO = ASSETS / "yolo_dataset"
NAMES = [f"label_{i}" for i in range(10)]
# Datumaro: x = (xc - w/2) * W, w * W with W=15, H=10 (the image header)
BOXES = [
    (2, (-7.499999999799334e-06, 1.9999999999999998, 3.9999975, 4.0)),
    (4, (3.0000074999999997, 3.0000000000000004, 5.0000025, 6.0)),
]


@needs_assets
@pytest.mark.parametrize("variant, subsets, image", [
    ("strict", ["train"], "obj_train_data/1.jpg"),
    ("annotations", ["default"], "Images/1.jpg"),
    ("labels", ["train", "val"], "images/train/1.jpg"),
])
def test_assets_as_datumaro_reads_them(variant, subsets, image):
    ds = read(YOLO / variant, "yolo")
    assert isinstance(ds, AnnotatedDataset) and ds.categories == NAMES
    assert list(ds.subsets) == subsets
    item = ds.subsets[subsets[0]][0]
    assert (item.id, item.size, item.image) == ("1", (10, 15), YOLO / variant / image)
    assert [(o.label, o.box, o.id) for o in item.objects] == [(label, box, i) for i, (label, box) in enumerate(BOXES)]


@needs_assets
def test_write_and_read_back(tmp_path):
    source = read(YOLO / "labels", "yolo")
    write(source, tmp_path / "out", "yolo")
    assert (tmp_path / "out" / "obj.data").read_text() == (
        "classes = 10\ntrain = data/train.txt\nval = data/val.txt\nnames = data/obj.names\nbackup = backup/\n"
    )
    assert (tmp_path / "out" / "train.txt").read_text() == "data/obj_train_data/1.jpg\n"
    assert (tmp_path / "out" / "obj_val_data" / "1.txt").read_text() == (YOLO / "labels/labels/val/1.txt").read_text()
    back = read(tmp_path / "out", "yolo")
    assert summary(back) == summary(source)


def test_no_media_keeps_sizes_in_images_meta(tmp_path):
    item = Item("a b", size=(20, 40), objects=[Object(1, (4, 2, 12, 10)), Object(0, (0, 0, 1, 1), crowd=True)])
    write(AnnotatedDataset({"default": [item]}, ["x", "y"]), tmp_path / "out", "yolo", save_media=False)
    assert (tmp_path / "out" / "images.meta").read_text() == "'a b' 20 40\n"
    (again,) = read(tmp_path / "out", "yolo").subsets["train"]
    assert (again.id, again.size, again.image) == ("a b", (20, 40), None)
    assert [(o.label, o.box) for o in again.objects] == [(1, pytest.approx((4, 2, 12, 10)))]  # no crowd region


def test_pixels_written_as_images(tmp_path):
    item = Item("p", pixels=np.full((6, 8), 200, np.uint8), objects=[Object(0, (-2, 1, 4, 9))])
    write(AnnotatedDataset({"train": [item]}, ["x"]), tmp_path / "out", "yolo")
    (again,) = read(tmp_path / "out", "yolo").subsets["train"]
    assert again.size == (6, 8) and again.image == tmp_path / "out" / "obj_train_data" / "p.jpg"
    assert [o.box for o in again.objects] == [pytest.approx((0.0, 1.0, 4.0, 6.0), abs=1e-5)]  # clipped to the image


def _yolo(tmp_path, label_lines: str, listed: str = "data/obj_train_data/1.jpg\n"):
    from PIL import Image

    folder = tmp_path / "yolo"
    (folder / "obj_train_data").mkdir(parents=True)
    (folder / "obj.data").write_text("classes = 2\ntrain = data/train.txt\nnames = data/obj.names\n")
    (folder / "obj.names").write_text("a\nb\n")
    (folder / "train.txt").write_text(listed)
    Image.new("RGB", (4, 2)).save(folder / "obj_train_data" / "1.jpg")
    (folder / "obj_train_data" / "1.txt").write_text(label_lines)
    return folder


@pytest.mark.parametrize("line, problem", [
    ("0 0.5 0.5 1.5 0.2", r"line 2: the box 0.5 0.5 1.5 0.2 is outside \[0, 1\]"),
    ("0 -0.1 0.5 0.5 0.2", r"line 2: the box -0.1 0.5 0.5 0.2 is outside \[0, 1\]"),
    ("0 0.5 0.5 0.5", "line 2: expected 5 fields"),
    ("0 0.5 x 0.5 0.5", "line 2: expected a class number and four numbers"),
    ("7 0.5 0.5 0.5 0.5", r"line 2: the class 7 is not in obj.names \(2 classes\)"),
])
def test_bad_label_lines_name_file_and_line(tmp_path, line, problem):
    folder = _yolo(tmp_path, f"1 0.5 0.5 0.5 0.5\n{line}\n")
    with pytest.raises(FormatError, match=r"obj_train_data/1\.txt, " + problem):
        read(folder, "yolo")


@pytest.mark.parametrize("listed", ["data/../../canary.jpg\n", "/etc/passwd\n"])
def test_list_path_outside_refused(tmp_path, listed):
    canary = tmp_path / "canary.jpg"
    canary.write_bytes(b"secret")
    folder = _yolo(tmp_path, "", listed)
    with pytest.raises(FormatError, match=r"train\.txt: refused the path"):
        read(folder, "yolo")
    assert canary.read_bytes() == b"secret"


def test_names_path_outside_refused(tmp_path):
    folder = _yolo(tmp_path, "")
    (folder / "obj.data").write_text("classes = 2\nnames = ../outside.names\n")
    with pytest.raises(FormatError, match=r"obj\.data: refused the path '\.\./outside\.names'"):
        read(folder, "yolo")
