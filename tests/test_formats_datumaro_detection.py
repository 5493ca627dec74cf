"""voc, coco and yolo against Datumaro itself (env DATUMARO_PYTHON), conversions between the seven layouts, filters, export."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from datumaro_layouts import ASSETS, needs_assets, write_all
from detection_compare import datumaro, needs_datumaro, summary

from datamaestro.cli.commands.convert import write_output
from datamaestro.errors import FormatError
from datamaestro.formats.annotations import AnnotatedDataset, Item, Object, from_classification, to_classification
from datamaestro.formats.dataset import Dataset
from datamaestro.formats.filters import apply_filters
from datamaestro.formats.registry import from_data, read, write

SOURCES = {
    "voc": ASSETS / "voc_dataset" / "voc_dataset1",
    "coco": ASSETS / "coco_dataset" / "coco_instances",
    "yolo": ASSETS / "yolo_dataset" / "labels",
}


@needs_datumaro
@needs_assets
@pytest.mark.parametrize("fmt", ["voc", "coco", "yolo"])
def test_datumaro_reads_what_we_write(tmp_path, fmt):
    write(read(SOURCES[fmt], fmt), tmp_path / "ours", fmt)
    ours = summary(read(tmp_path / "ours", fmt), voc_masks=fmt == "voc")
    assert datumaro("import", str(tmp_path / "ours"), fmt) == ours


@needs_datumaro
@needs_assets
@pytest.mark.parametrize("fmt", ["voc", "coco", "yolo"])
def test_we_read_what_datumaro_writes(tmp_path, fmt):
    # (Datumaro's coco export also writes stuff and panoptic files of the same masks: the instances alone here)
    datumaro("export", str(SOURCES[fmt]), fmt, str(tmp_path / "theirs"), "coco_instances" if fmt == "coco" else fmt)
    theirs = datumaro("import", str(tmp_path / "theirs"), fmt)
    assert summary(read(tmp_path / "theirs", fmt), voc_masks=fmt == "voc") == theirs


@needs_datumaro
def test_datumaro_reads_our_conversion_from_classification(tmp_path):
    mnist = read(write_all(tmp_path / "dm") / "mnist_dataset", "mnist")
    # (Datumaro's coco import drops labels_*.json when instances_*.json is there: its labels task alone here)
    for fmt, theirs in (("voc", "voc"), ("coco", "coco_labels")):
        write(mnist, tmp_path / fmt, fmt, image_ext=".png")
        assert datumaro("import", str(tmp_path / fmt), theirs) == summary(read(tmp_path / fmt, fmt))


def test_classification_through_detection_layouts_and_back(tmp_path):
    """cifar -> voc -> coco -> cifar: pixels (PNG) and labels survive; yolo keeps no image-level labels."""
    cifar = read(write_all(tmp_path / "dm") / "cifar10_dataset", "cifar")
    write(cifar, tmp_path / "voc", "voc", image_ext=".png")
    voc = read(tmp_path / "voc", "voc")
    assert voc.categories == ["background", "airplane", "automobile", "bird", "cat"]  # put first, as Datumaro does
    assert [[voc.categories[k] for k in i.labels] for i in voc.subsets["test_batch"]] == [
        ["automobile"], ["cat"], ["bird"], ["cat"],
    ]
    write(voc, tmp_path / "coco", "coco")
    write(read(tmp_path / "coco", "coco"), tmp_path / "cifar", "cifar")
    back = read(tmp_path / "cifar", "cifar")
    for name, subset in cifar:
        assert back.subsets[name].labels.tolist() == (subset.labels + 1).tolist()  # after the added background
        assert back.subsets[name].item_ids() == subset.item_ids()
        assert all(np.array_equal(a, b) for a, b in zip(back.subsets[name].images, subset.images))
    write(voc, tmp_path / "yolo", "yolo")
    assert to_classification(read(tmp_path / "yolo", "yolo")).subsets["data_batch_1"].labels.tolist() == [-1]


def test_voc_warns_when_subsets_share_ids(tmp_path, caplog):
    mnist = read(write_all(tmp_path / "dm") / "mnist_dataset", "mnist")
    write(mnist, tmp_path / "voc", "voc", image_ext=".png")
    assert "items '0', '1' of subset 'train' replace those of subset 'test'" in caplog.text


@needs_assets
def test_detection_to_classification_layouts(tmp_path):
    voc = read(SOURCES["voc"], "voc")
    write(voc, tmp_path / "imagenet", "imagenet")
    imagenet = read(tmp_path / "imagenet", "imagenet")
    assert sorted(imagenet.subsets["default"].item_ids()) == ["aeroplane:train_2007_000001", "no_label:test_2007_000002"]
    with pytest.raises(FormatError, match="item '@' of subset 'trainval' has no image while others have"):
        to_classification(AnnotatedDataset({"trainval": [Item("@"), Item("a", pixels=np.zeros((2, 2), np.uint8))]}, []))
    coco = read(ASSETS / "coco_dataset" / "coco_labels", "coco")
    write(coco, tmp_path / "csv", "cifar")
    cifar = read(tmp_path / "csv", "cifar")
    assert {n: s.labels.tolist() for n, s in cifar} == {"train": [1], "val": [0]}


def test_from_classification_and_back_keeps_everything():
    images = np.arange(2 * 3 * 4 * 5, dtype=np.uint8).reshape(2, 3, 4, 5)
    dataset = Dataset({"train": __import__("datamaestro.formats.dataset").formats.dataset.Subset(images, [1, -1], ["x", "y"])}, ["a", "b"])
    annotated = from_classification(dataset)
    x, y = annotated.subsets["train"]
    assert (x.id, x.labels, x.size, x.pixels.shape, y.labels) == ("x", [1], (4, 5), (4, 5, 3), [])
    back = to_classification(annotated)
    assert np.array_equal(back.subsets["train"].images, images) and back.subsets["train"].labels.tolist() == [1, -1]


def _annotated() -> AnnotatedDataset:
    pixels = np.zeros((8, 8, 3), np.uint8)
    return AnnotatedDataset({
        "train": [
            Item("1", pixels=pixels, size=(8, 8), objects=[Object(0, (1, 1, 4, 4)), Object(1, (2, 2, 6, 6))]),
            Item("2", pixels=pixels, size=(8, 8), labels=[2]),
            Item("3", pixels=pixels, size=(8, 8)),
        ],
        "test": [Item("4", pixels=pixels, size=(8, 8), objects=[Object(1, (0, 0, 8, 8))])],
    }, ["cat", "dog", "bird"])


@pytest.mark.parametrize("text, kept", [
    ("label=cat", {"train": ["1"], "test": []}),
    ("label=dog,bird", {"train": ["1", "2"], "test": ["4"]}),
    ('/item[annotation/label="dog" and subset="test"]', {"train": [], "test": ["4"]}),
    ("/item[annotation/label_id=-1]", {"train": ["3"], "test": []}),
    ("subset=test", {"test": ["4"]}),
    ('/item[id="2" or id="4"]', {"train": ["2"], "test": ["4"]}),
])
def test_filters_keep_whole_annotated_items(text, kept):
    filtered = apply_filters(_annotated(), [text])
    assert {name: [i.id for i in items] for name, items in filtered} == kept
    if text == "label=cat":  # the dog of item 1 stays: items are filtered, not annotations
        assert [o.label for o in filtered.subsets["train"][0].objects] == [0, 1]


class _Detection:
    """A prepared data object of the detection kind: it gives its own annotated dataset."""

    def export_dataset(self) -> AnnotatedDataset:
        return _annotated()


@pytest.mark.parametrize("fmt", ["voc", "coco", "yolo", "mnist"])
def test_export_of_a_detection_data_object(tmp_path, fmt):
    dataset = from_data(_Detection())
    args = argparse.Namespace(
        filter=["label=dog"], output_dir=str(tmp_path / fmt), output_format=fmt, save_dataset_meta=False,
        image_ext=".png", overwrite=False, save_media=True,
    )
    assert write_output(dataset, args) == 0
    back = read(tmp_path / fmt, fmt)
    ids = {name: (s.item_ids() if isinstance(back, Dataset) else [i.id for i in s]) for name, s in back}
    assert ids == {"train": ["1"], "test": ["4"]}
    if fmt in ("voc", "coco", "yolo"):
        names = back.categories
        assert [(names[o.label], o.box) for o in back.subsets["test"][0].objects] == [
            ("dog", pytest.approx((0, 0, 8, 8)))
        ]
