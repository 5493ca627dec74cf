"""The built-in CIFAR-10 and CIFAR-100 definitions, prepared from local copies.

The archives are built here in the published layout (protocol-2 pickles with
bytes keys, a 2-D uint8 ``data`` array); as their md5 differs from the
published one, they are taken with ``--from DIR --no-verify``.
"""

from __future__ import annotations

import io
import json
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from datamaestro.api import from_json, prepare_dataset, to_json
from datamaestro.config import load_settings
from datamaestro.data.cifar import CoarseImageClassification, CoarseLabelledImages
from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.download.context import Request
from datamaestro.errors import DownloadError


def batch(rng: np.random.Generator, n: int, keys: dict[bytes, object]) -> tuple[bytes, np.ndarray]:
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    content = {b"data": data, b"filenames": [b"img_%d.png" % i for i in range(n)], **keys}
    return pickle.dumps(content, protocol=2), data


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def cifar10_archive(folder: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(10)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    files = {"cifar-10-batches-py/batches.meta": pickle.dumps({b"label_names": names, b"num_vis": 3072}, protocol=2)}
    train, train_labels = [], []
    for k in range(1, 6):
        labels = rng.integers(0, 10, 3).tolist()
        raw, data = batch(rng, 3, {b"labels": labels, b"batch_label": b"training batch %d of 5" % k})
        files[f"cifar-10-batches-py/data_batch_{k}"] = raw
        train.append(data)
        train_labels += labels
    test_labels = rng.integers(0, 10, 4).tolist()
    raw, test = batch(rng, 4, {b"labels": test_labels, b"batch_label": b"testing batch 1 of 1"})
    files["cifar-10-batches-py/test_batch"] = raw
    files["cifar-10-batches-py/readme.html"] = b"<html></html>"
    (folder / "cifar-10-python.tar.gz").write_bytes(tar_gz(files))
    return {
        "train_images": np.concatenate(train).reshape(-1, 3, 32, 32),
        "train_labels": np.array(train_labels),
        "test_images": test.reshape(-1, 3, 32, 32),
        "test_labels": np.array(test_labels),
    }


def cifar100_archive(folder: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(100)
    fine = [b"apple", b"bee", b"maple", b"oak"]
    coarse = [b"fruit_and_vegetables", b"insects", b"trees"]
    parent = [0, 1, 2, 2]
    meta = pickle.dumps({b"fine_label_names": fine, b"coarse_label_names": coarse}, protocol=2)
    files = {"cifar-100-python/meta": meta}
    out = {}
    for split, labels in (("train", [0, 1, 2, 3, 1]), ("test", [3, 2, 0])):
        n = len(labels)
        raw, data = batch(rng, n, {b"fine_labels": labels, b"coarse_labels": [parent[v] for v in labels]})
        files[f"cifar-100-python/{split}"] = raw
        out[f"{split}_images"] = data.reshape(-1, 3, 32, 32)
        out[f"{split}_labels"] = np.array(labels)
        out[f"{split}_coarse"] = np.array([parent[v] for v in labels])
    (folder / "cifar-100-python.tar.gz").write_bytes(tar_gz(files))
    return out


def local_request(folder: Path, no_verify: bool = True) -> Request:
    return Request(source_dir=folder, no_verify=no_verify)


def test_cifar10(tmp_path: Path):
    expected = cifar10_archive(tmp_path)
    ds = prepare_dataset("edu.toronto.cs.kriz.cifar-10", settings=load_settings(None), request=local_request(tmp_path))
    assert isinstance(ds, ImageClassification) and isinstance(ds.train, LabelledImages)
    assert ds.categories[:3] == ["airplane", "automobile", "bird"] and len(ds.categories) == 10
    assert ds.train.categories == ds.categories
    images, labels = ds.train.images.data(), ds.train.labels.data()
    assert images.shape == (15, 3, 32, 32) and images.dtype == np.uint8
    assert labels.shape == (15,) and labels.dtype == np.int64
    assert isinstance(images, np.memmap)
    assert np.array_equal(images, expected["train_images"])
    assert labels.tolist() == expected["train_labels"].tolist()
    assert np.array_equal(ds.test.images.data(), expected["test_images"])
    assert ds.test.labels.data().tolist() == expected["test_labels"].tolist()
    # the loaders work on it as on MNIST
    x, y = ds.train.arrays(normalize=True, layout="NHWC")
    assert x.shape == (15, 32, 32, 3) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.array_equal(x[0], expected["train_images"][0].transpose(1, 2, 0) / np.float32(255))
    assert ds.train.text_labels(int(labels[0])) == ds.categories[int(labels[0])]
    # JSON round trip gives the same typed objects and arrays
    back = from_json(json.dumps(to_json("edu.toronto.cs.kriz.cifar-10", ds)))
    assert type(back) is ImageClassification and back.categories == ds.categories
    assert np.array_equal(back.test.images.data(), expected["test_images"])


def test_cifar100_fine_and_coarse(tmp_path: Path):
    expected = cifar100_archive(tmp_path)
    ds = prepare_dataset("edu.toronto.cs.kriz.cifar-100", settings=load_settings(None), request=local_request(tmp_path))
    assert isinstance(ds, CoarseImageClassification)
    assert ds.categories == ["apple", "bee", "maple", "oak"]
    assert ds.coarse_categories == ["fruit_and_vegetables", "insects", "trees"]
    for split in ("train", "test"):
        data = getattr(ds, split)
        assert isinstance(data, CoarseLabelledImages) and isinstance(data, LabelledImages)
        assert data.coarse_categories == ds.coarse_categories
        assert np.array_equal(data.images.data(), expected[f"{split}_images"])
        assert data.labels.data().dtype == np.int64
        assert data.labels.data().tolist() == expected[f"{split}_labels"].tolist()
        assert data.coarse_labels.data().tolist() == expected[f"{split}_coarse"].tolist()
    back = from_json(to_json("edu.toronto.cs.kriz.cifar-100", ds))
    assert isinstance(back, CoarseImageClassification)
    assert back.train.coarse_labels.data().tolist() == expected["train_coarse"].tolist()


def test_cifar_archive_size_is_checked(tmp_path: Path):
    cifar10_archive(tmp_path)
    size = (tmp_path / "cifar-10-python.tar.gz").stat().st_size
    with pytest.raises(DownloadError, match=f"got {size} bytes, expected 170498071"):
        prepare_dataset("edu.toronto.cs.kriz.cifar-10", settings=load_settings(None), request=local_request(tmp_path, False))
