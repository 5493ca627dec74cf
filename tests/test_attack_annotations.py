"""Hostile voc, coco and yolo folders: every one is refused with one line naming the file, nothing outside is read.

Each test builds its hostile input in ``tmp_path``; files and folders that
links point at live in ``outside/``, beside the input folder, with a canary
that must stay intact.
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest

from datamaestro.errors import DatamaestroError
from datamaestro.formats import registry
from datamaestro.formats.annotations import AnnotatedDataset, Item, Object

XML = (
    "<annotation><size><width>10</width><height>10</height></size><object><name>cat</name>"
    "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>"
)
CANARY = "CANARY"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(CANARY)
    return folder


def voc_folder(root: Path, xml: str | bytes = XML) -> Path:
    folder = root / "voc"
    for name in ("ImageSets/Main", "Annotations", "JPEGImages"):
        (folder / name).mkdir(parents=True)
    (folder / "ImageSets/Main/train.txt").write_text("a\n")
    (folder / "Annotations/a.xml").write_bytes(xml.encode() if isinstance(xml, str) else xml)
    (folder / "labelmap.txt").write_text("background:0,0,0::\ncat:128,0,0::\n")
    return folder


def coco_folder(root: Path, images: list | None = None, annotations: list | None = None, raw: str = "") -> Path:
    folder = root / "coco"
    (folder / "annotations").mkdir(parents=True)
    (folder / "images/train").mkdir(parents=True)
    content = {
        "images": images if images is not None else [{"id": 1, "file_name": "a.jpg", "height": 10, "width": 10}],
        "annotations": annotations or [], "categories": [{"id": 1, "name": "cat"}],
    }
    (folder / "annotations/instances_train.json").write_text(raw or json.dumps(content))
    return folder


def yolo_folder(root: Path, labels: str | bytes = "0 0.5 0.5 0.1 0.1\n", names: str = "cat\n") -> Path:
    folder = root / "yolo"
    (folder / "obj_train_data").mkdir(parents=True)
    (folder / "obj.data").write_text("classes = 1\ntrain = data/train.txt\nnames = data/obj.names\n")
    (folder / "obj.names").write_text(names)
    (folder / "train.txt").write_text("data/obj_train_data/a.jpg\n")
    (folder / "images.meta").write_text("a 10 10\n")
    (folder / "obj_train_data/a.txt").write_bytes(labels.encode() if isinstance(labels, str) else labels)
    return folder


def refused(folder: Path, layout: str, *words: str) -> str:
    """Read ``folder``, expecting a one-line refusal holding ``words``."""
    with pytest.raises(DatamaestroError) as info:
        registry.read(folder, layout)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
    return message


def ann(**fields: object) -> list:
    return [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], **fields}]


# -- XML ------------------------------------------------------------------------------------------


BILLION_LAUGHS = (
    '<!DOCTYPE annotation [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
)


@pytest.mark.parametrize(
    "xml",
    [
        BILLION_LAUGHS + XML.replace("<name>cat", "<name>&c;cat"),
        '<?xml version="1.0"?><!-- a comment --><?pi x?>' + BILLION_LAUGHS + XML,
        '<!DOCTYPE annotation SYSTEM "file:///etc/passwd">' + XML,
        ('<?xml version="1.0" encoding="UTF-16"?>' + BILLION_LAUGHS + XML.replace("<name>cat", "<name>&c;cat")).encode(
            "utf-16"
        ),
        ('<?xml version="1.0" encoding="UTF-16BE"?>' + BILLION_LAUGHS + XML).encode("utf-16-be"),
    ],
    ids=["internal", "after-comment-and-pi", "external", "utf-16", "utf-16-be-no-bom"],
)
def test_voc_xml_declarations_refused_in_any_encoding(tmp_path, xml):
    refused(voc_folder(tmp_path, xml), "voc", "a.xml", "DOCTYPE")


def test_voc_deeply_nested_xml_is_read_without_recursion(tmp_path):
    deep = XML.replace("</annotation>", "<x>" * 100_000 + "</x>" * 100_000 + "</annotation>")
    dataset = registry.read(voc_folder(tmp_path, deep), "voc")
    assert [len(item.objects) for item in dataset.subsets["train"]] == [1]


@pytest.mark.parametrize("value", ["1e309", "nan", "-inf"])
def test_voc_non_finite_box_refused(tmp_path, value):
    refused(voc_folder(tmp_path, XML.replace("<xmin>1</xmin>", f"<xmin>{value}</xmin>")), "voc", "a.xml", "<xmin>")


@pytest.mark.parametrize(("height", "word"), [("99999999", "pixels"), ("-3", "invalid"), ("1e9", "not a number")])
def test_voc_image_size_refused_before_allocating(tmp_path, height, word):
    folder = voc_folder(tmp_path, XML.replace("<height>10</height>", f"<height>{height}</height>"))
    refused(folder, "voc", "a.xml", word)


def test_voc_imageset_naming_parent_is_refused(tmp_path, outside):
    folder = voc_folder(tmp_path)
    (folder / "ImageSets/Main/train.txt").write_text("../../outside/secret\n")
    refused(folder, "voc", "../../outside/secret")


@pytest.mark.parametrize("meta", ["[" * 100_000 + "]" * 100_000, '{"labels": 5}', '{"labels": ["cat"], "parts": [1]}',
                                  '{"labels": ["cat"], "segmentation_colors": [[1]]}'])
def test_voc_bad_dataset_meta_refused(tmp_path, meta):
    folder = voc_folder(tmp_path)
    (folder / "dataset_meta.json").write_text(meta)
    refused(folder, "voc", "dataset_meta.json")


# -- links and special files ----------------------------------------------------------------------


def test_voc_links_leading_outside_are_refused(tmp_path, outside):
    (outside / "a.xml").write_text(XML)
    (outside / "Sets/Main").mkdir(parents=True)
    (outside / "Sets/Main/train.txt").write_text("a\n")
    cases = {
        "Annotations/a.xml": outside / "a.xml",
        "JPEGImages/a.jpg": outside / "secret.txt",
        "labelmap.txt": outside / "secret.txt",
        "ImageSets": outside / "Sets",
    }
    for number, (name, target) in enumerate(cases.items()):
        folder = voc_folder(tmp_path / str(number))
        planted = folder / name
        if planted.is_dir():
            for child in sorted(planted.rglob("*"), reverse=True):
                child.unlink() if child.is_file() else child.rmdir()
            planted.rmdir()
        elif planted.exists():
            planted.unlink()
        planted.symlink_to(target)
        refused(folder, "voc", str(planted), "symbolic link", "outside")
    assert (outside / "secret.txt").read_text() == CANARY


def test_links_inside_the_folder_are_followed(tmp_path):
    folder = voc_folder(tmp_path)
    (folder / "Annotations/a.xml").rename(folder / "Annotations/b.xml")
    (folder / "Annotations/a.xml").symlink_to("b.xml")
    assert len(registry.read(folder, "voc").subsets["train"][0].objects) == 1


def test_coco_and_yolo_links_leading_outside_are_refused(tmp_path, outside):
    coco = coco_folder(tmp_path / "c")
    (coco / "images/train/a.jpg").symlink_to(outside / "secret.txt")
    refused(coco, "coco", "a.jpg", "symbolic link")
    coco = coco_folder(tmp_path / "c2")
    (coco / "annotations/instances_train.json").rename(outside / "i.json")
    (coco / "annotations/instances_train.json").symlink_to(outside / "i.json")
    refused(coco, "coco", "instances_train.json", "symbolic link")
    yolo = yolo_folder(tmp_path / "y")
    (yolo / "obj_train_data/a.txt").unlink()
    (yolo / "obj_train_data/a.txt").symlink_to(outside / "secret.txt")
    message = refused(yolo, "yolo", "a.txt", "symbolic link")
    assert CANARY not in message
    yolo = yolo_folder(tmp_path / "y2")
    (yolo / "obj_train_data/a.txt").rename(outside / "a.txt")
    (yolo / "obj_train_data").rmdir()
    (yolo / "obj_train_data").symlink_to(outside)
    refused(yolo, "yolo", "obj_train_data", "symbolic link")
    assert (outside / "secret.txt").read_text() == CANARY


@pytest.fixture
def no_hang():
    """Fail a test that blocks for more than 20 s (instead of hanging the run)."""

    def expired(*_: object) -> None:
        raise AssertionError("blocked on a FIFO")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_annotation_fifo_is_refused_not_waited_on(tmp_path, no_hang):
    coco = coco_folder(tmp_path)
    (coco / "annotations/instances_train.json").unlink()
    os.mkfifo(coco / "annotations/instances_train.json")
    refused(coco, "coco", "instances_train.json", "not a regular file")
    voc = voc_folder(tmp_path / "v")
    (voc / "labelmap.txt").unlink()
    os.mkfifo(voc / "labelmap.txt")
    os.mkfifo(voc / "Annotations/b.xml")
    (voc / "ImageSets/Main/train.txt").write_text("a\nb\n")
    dataset = registry.read(voc, "voc")  # (not regular files: skipped, VOC's own label map used)
    assert [len(item.objects) for item in dataset.subsets["train"]] == [1, 0]


# -- COCO -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../outside/secret.txt", "/etc/passwd", "a\0b.jpg", "..\\..\\x.jpg", "C:/x.jpg",
                                  "sub/../../x.jpg"])
def test_coco_file_name_escaping_is_refused(tmp_path, outside, name):
    refused(coco_folder(tmp_path, [{"id": 1, "file_name": name}]), "coco", "instances_train.json", "refused the path")


@pytest.mark.parametrize(
    ("annotations", "word"),
    [
        (ann(segmentation={"size": [10, 10]}), "counts"),
        (ann(segmentation={"size": [10, 10], "counts": ["a", "b"]}), "whole numbers"),
        (ann(segmentation={"size": [10, 10], "counts": [50.0, 50.0]}), "whole numbers"),
        (ann(segmentation={"size": [10, 10], "counts": [-5, 105]}), "negative"),
        (ann(segmentation={"size": [2**70, 1], "counts": [2**70]}), "pixels"),
        (ann(segmentation=[[1, 2, 3, 4, 5, 6, 7]]), "7 values"),
        (ann(segmentation=5), "segmentation must be"),
        (ann(segmentation="abc"), "segmentation must be"),
        (ann(attributes=[1, 2]), "'attributes' must be an object"),
        (ann(bbox=[1, 2, 3]), "bbox"),
    ],
)
def test_coco_unexpected_annotation_types_refused(tmp_path, annotations, word):
    refused(coco_folder(tmp_path, annotations=annotations), "coco", "instances_train.json", word)


@pytest.mark.parametrize("raw", ["[NaN, 0, 1, 1]", "[1e309, 0, 1, 1]", "[0, -Infinity, 1, 1]"])
def test_coco_non_finite_numbers_refused(tmp_path, raw):
    content = (
        '{"images": [{"id": 1, "file_name": "a.jpg", "height": 10, "width": 10}], "categories": [{"id": 1, "name": "c"}],'
        f' "annotations": [{{"id": 1, "image_id": 1, "category_id": 1, "bbox": {raw}}}]}}'
    )
    refused(coco_folder(tmp_path, raw=content), "coco", "bbox")
    polygon = content.replace(f'"bbox": {raw}', f'"segmentation": [[1, 1, 5, 5, 9, 1, {raw[1:-1]}]]')
    refused(coco_folder(tmp_path / "p", raw=polygon), "coco", "finite")


def test_coco_rle_with_more_runs_than_pixels_refused(tmp_path):
    runs = ann(segmentation={"size": [10, 10], "counts": [0] * 1_000_000 + [100]})
    refused(coco_folder(tmp_path, annotations=runs), "coco", "1000001 runs")
    text = ann(segmentation={"size": [10, 10], "counts": "1" * 1_000_000})
    refused(coco_folder(tmp_path / "s", annotations=text), "coco", "more than 101 runs")


def test_coco_huge_image_size_refused(tmp_path):
    images = [{"id": 1, "file_name": "a.jpg", "height": 10**12, "width": 10**12}]
    refused(coco_folder(tmp_path, images), "coco", "image 1", "pixels")


def test_coco_deep_json_refused(tmp_path):
    refused(coco_folder(tmp_path, raw="[" * 100_000 + "]" * 100_000), "coco", "nested too deep")


# -- YOLO -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "1e309", "-0.1", "1.5"])
def test_yolo_box_outside_unit_refused(tmp_path, value):
    refused(yolo_folder(tmp_path, f"0 {value} 0.5 0.1 0.1\n"), "yolo", "a.txt, line 1", "outside [0, 1]")


def test_yolo_binary_and_huge_label_files_refused(tmp_path):
    refused(yolo_folder(tmp_path, bytes(range(256)) * 8), "yolo", "a.txt", "UTF-8")
    folder = yolo_folder(tmp_path / "h")
    with open(folder / "obj_train_data/a.txt", "r+b") as f:
        f.truncate(300 * 1024**2)  # (sparse: no disk used)
    refused(folder, "yolo", "a.txt", "more than")


def test_yolo_label_and_meta_out_of_range_refused(tmp_path):
    refused(yolo_folder(tmp_path, "99999999999999999999 0.5 0.5 0.1 0.1\n"), "yolo", "not in obj.names")
    folder = yolo_folder(tmp_path / "m")
    (folder / "images.meta").write_text("a 99999999 99999999\n")
    refused(folder, "yolo", "images.meta", "pixels")
    (folder / "train.txt").write_text("data/../../outside/secret.txt\n")
    (folder / "images.meta").write_text("a 10 10\n")
    refused(folder, "yolo", "train.txt", "refused the path")


def test_yolo_thousands_of_names_read(tmp_path):
    names = "".join(f"n{i}\n" for i in range(20_000))
    dataset = registry.read(yolo_folder(tmp_path, "19999 0.5 0.5 0.1 0.1\n", names), "yolo")
    assert len(dataset.categories) == 20_000
    assert dataset.subsets["train"][0].objects[0].label == 19_999


# -- writing --------------------------------------------------------------------------------------


def small_dataset(item_id: str = "a") -> AnnotatedDataset:
    item = Item(item_id, size=(10, 10), objects=[Object(0, (1.0, 1.0, 5.0, 5.0))])
    return AnnotatedDataset({"train": [item]}, ["cat"])


@pytest.mark.parametrize("layout", ["voc", "coco", "yolo"])
def test_write_over_planted_links_leaves_their_targets(tmp_path, outside, layout):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("obj.names", "obj.data", "labelmap.txt", "annotations", "Annotations", "ImageSets"):
        (out / name).symlink_to(outside / "secret.txt" if "." in name else outside)
    registry.write(small_dataset(), out, layout, overwrite=True, save_media=False)
    assert not any(p.is_symlink() for p in out.rglob("*"))
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == CANARY
    linked = tmp_path / "linked"
    linked.symlink_to(outside)
    registry.write(small_dataset(), linked, layout, overwrite=True, save_media=False)
    assert sorted(os.listdir(outside)) == ["secret.txt"] and (outside / "secret.txt").read_text() == CANARY


@pytest.mark.parametrize("layout", ["voc", "yolo"])
def test_write_refuses_item_ids_leading_out(tmp_path, outside, layout):
    with pytest.raises(DatamaestroError, match="refused the path"):
        registry.write(small_dataset("../../outside/x"), tmp_path / "out", layout, save_media=False)
    assert not (tmp_path / "out").exists()
    assert sorted(os.listdir(outside)) == ["secret.txt"]


def test_coco_writes_a_hostile_id_only_as_a_name_then_refuses_it(tmp_path, outside):
    out = registry.write(small_dataset("../../outside/x"), tmp_path / "out", "coco", save_media=False)
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    refused(out, "coco", "instances_train.json", "refused the path")


def test_cli_convert_hostile_coco_one_line_no_output(cli, tmp_path, outside):
    source = coco_folder(tmp_path, [{"id": 1, "file_name": "../../outside/secret.txt"}])
    out = tmp_path / "out"
    result = cli("convert", "-if", "coco", "-i", str(source), "-f", "voc", "-o", str(out))
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "instances_train.json" in result.stderr and "refused the path" in result.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    linked = coco_folder(tmp_path / "l")
    (linked / "images/train/a.jpg").symlink_to(outside / "secret.txt")
    result = cli("convert", "-if", "coco", "-i", str(linked), "-f", "yolo", "-o", str(out))
    assert result.returncode != 0 and result.stderr.count("\n") == 1 and "symbolic link" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(("fmt", "name", "file", "char"), [
    ("yolo", "cat\ndog", "obj.names", "\\n"), ("voc", "cat:dog", "labelmap.txt", ":"),
    ("mnist_csv", "a\rb", "labels.txt", "\\r"), ("mnist", "two\nlines", "labels.txt", "\\n"),
])
def test_class_names_that_would_shift_labels_are_refused_when_written(tmp_path, fmt, name, file, char):
    import numpy as np

    from datamaestro.formats.dataset import Dataset, Subset

    items = [Item(id="a", pixels=np.zeros((4, 4, 3), np.uint8), size=(4, 4), objects=[Object(label=1, box=(0, 0, 2, 2))])]
    annotated = AnnotatedDataset({"train": items}, ["ok", name])
    classified = Dataset({"train": Subset(np.zeros((1, 28, 28), np.uint8), np.array([1]))}, ["ok", name])
    data = classified if fmt in ("mnist_csv", "mnist") else annotated
    with pytest.raises(DatamaestroError, match=re.escape(f"cannot be written in {file}: it holds '{char}'")):
        registry.write(data, tmp_path / "out", fmt)
    assert not (tmp_path / "out").exists()
