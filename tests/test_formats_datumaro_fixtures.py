"""The files Datumaro wrote (shared fixtures) read exactly as Datumaro 1.x reads them.

Expected values were taken from Datumaro 1.13.12's own import of these
folders (ids, subsets, labels, label names, parents, image shapes), with
images given here channel first: Datumaro's (H, W, 3) is our (3, H, W).
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from datumaro_layouts import ASSETS, needs_assets

from datamaestro.formats import read

DATUMARO = ASSETS
pytestmark = needs_assets


def items(dataset):
    """(subset, id, label, shape) of every item, in Datumaro's order."""
    return [
        (name, item_id, int(label), tuple(image.shape))
        for name, subset in dataset
        for item_id, label, image in zip(subset.item_ids(), subset.labels, subset.images)
    ]


def test_mnist_fixture():
    ds = read(DATUMARO / "mnist_dataset", "mnist")
    assert ds.categories == [str(i) for i in range(10)]
    assert sorted(items(ds)) == sorted([
        ("train", "0", 5, (28, 28)), ("train", "1", 7, (28, 28)),
        ("test", "0", 0, (28, 28)), ("test", "1", 2, (28, 28)), ("test", "2", 1, (28, 28)),
    ])
    # pixels are the bytes after the 16-byte header, as Datumaro reads them
    raw = gzip.decompress((DATUMARO / "mnist_dataset/train-images-idx3-ubyte.gz").read_bytes())
    expected = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)
    assert np.array_equal(ds.subsets["train"].images, expected)
    assert ds.subsets["train"].images.dtype == np.uint8


def test_mnist_csv_fixture_matches_mnist_fixture():
    ds = read(DATUMARO / "mnist_csv_dataset", "mnist_csv")
    idx = read(DATUMARO / "mnist_dataset", "mnist")
    assert sorted(items(ds)) == sorted(items(idx))
    first = (DATUMARO / "mnist_csv_dataset/mnist_train.csv").read_text().splitlines()[0].split(",")
    assert ds.subsets["train"].images[0].reshape(-1).tolist() == [int(v) for v in first[1:]]


def test_cifar10_fixture():
    ds = read(DATUMARO / "cifar10_dataset", "cifar")
    assert ds.categories == ["airplane", "automobile", "bird", "cat"]
    assert ds.parents is None
    assert items(ds) == [
        ("data_batch_1", "image_1", 0, (3, 32, 32)),
        ("test_batch", "image_2", 1, (3, 32, 32)),
        ("test_batch", "image_3", 3, (3, 32, 32)),
        ("test_batch", "image_4", 2, (3, 32, 32)),
        ("test_batch", "image_5", 3, (3, 2, 2)),
    ]


def test_cifar100_fixture_with_superclasses_and_odd_sizes():
    ds = read(DATUMARO / "cifar100_dataset", "cifar")
    assert ds.categories == ["airplane", "automobile", "bird"]
    assert ds.parents == ["air_object", "ground_object", "air_object"]
    assert ds.coarse_names() == ["air_object", "ground_object"]
    assert items(ds) == [
        ("test", "image_1", 0, (3, 32, 32)),
        ("test", "image_2", 1, (3, 32, 32)),
        ("test", "image_3", 2, (3, 2, 2)),
        ("train", "image_1", 0, (3, 7, 8)),
        ("train", "image_2", 1, (3, 4, 5)),
        ("train", "image_3", 2, (3, 4, 5)),
    ]
    assert ds.coarse_labels(ds.subsets["train"]).tolist() == [0, 1, 0]
    train = ds.subsets["train"]
    assert all(im.dtype == np.uint8 for im in train.images)


def test_imagenet_fixture():
    pytest.importorskip("PIL")
    ds = read(DATUMARO / "imagenet_dataset", "imagenet")
    assert ds.categories == ["label_0", "label_1", "label_1/label_1_1"]
    assert ds.parents == ["", "", "label_1"]
    assert items(ds) == [
        ("default", "no_label:label_0_2", -1, (3, 10, 10)),
        ("default", "label_0:label_0_1", 0, (3, 8, 8)),
        ("default", "label_1:label_1_1", 1, (3, 8, 8)),
        ("default", "label_1/label_1_1:label_1_1", 2, (3, 8, 8)),
    ]
