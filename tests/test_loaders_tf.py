"""The TensorFlow adapter (runs where tensorflow is importable: see docs/loaders.md)."""

from __future__ import annotations

import numpy as np
import pytest
from test_loaders import digits, split_on_disk

tf = pytest.importorskip("tensorflow")


@pytest.fixture
def mnist(tmp_path):
    images, labels = digits(30)
    return split_on_disk(tmp_path / "mnist", images, labels), images, labels


def test_examples_in_stored_order(mnist):
    split, images, labels = mnist
    data = split.to_tf()
    assert isinstance(data, tf.data.Dataset)
    examples = list(data.as_numpy_iterator())
    assert len(examples) == 30
    image, label = examples[4]
    assert image.shape == (28, 28, 1) and image.dtype == np.float32
    np.testing.assert_array_equal(image[..., 0], images[4] / np.float32(255))
    assert label == 4 and label.dtype == np.int64


def test_batches_are_seeded_and_reshuffle_each_pass(mnist):
    split, images, labels = mnist
    data = split.to_tf(batch_size=8, shuffle=True, seed=3)
    passes = [np.concatenate([y for _, y in data.as_numpy_iterator()]) for _ in range(2)]
    np.testing.assert_array_equal(passes[0], labels[np.random.default_rng([3, 0]).permutation(30)])
    np.testing.assert_array_equal(passes[1], labels[np.random.default_rng([3, 1]).permutation(30)])
    shapes = [x.shape for x, _ in data.as_numpy_iterator()]
    assert shapes == [(8, 28, 28, 1)] * 3 + [(6, 28, 28, 1)]
    assert len(list(split.to_tf(batch_size=8, drop_last=True).as_numpy_iterator())) == 3


def test_one_hot_and_resize(mnist):
    split, _, labels = mnist
    x, y = next(split.to_tf(batch_size=4, one_hot=True, resize=32, layout=None).as_numpy_iterator())
    assert x.shape == (4, 32, 32) and y.shape == (4, 10) and y.dtype == np.float32
    np.testing.assert_array_equal(y, np.eye(10, dtype=np.float32)[labels[:4]])


def test_image_folders_decode_as_the_passes_reach_them(tmp_path):
    from kindfixtures import decoded
    from test_folder_images import make_folder

    folder, raw = make_folder(tmp_path, [(12, 10)] * 5)
    examples = list(folder.to_tf().as_numpy_iterator())
    assert [int(y) for _, y in examples] == [0, 1, 0, 1, 0]
    image = examples[3][0]
    assert image.shape == (12, 10, 3) and image.dtype == np.float32
    np.testing.assert_array_equal(image, decoded(raw[3]) / np.float32(255))
    data = folder.to_tf(batch_size=2, shuffle=True, seed=1, resize=(6, 5), layout="NCHW")
    labels = [np.concatenate([y for _, y in data.as_numpy_iterator()]).tolist() for _ in range(2)]
    parity = np.array([0, 1, 0, 1, 0])
    assert labels == [parity[np.random.default_rng([1, k]).permutation(5)].tolist() for k in range(2)]
    assert [x.shape for x, _ in data.as_numpy_iterator()] == [(2, 3, 6, 5)] * 2 + [(1, 3, 6, 5)]


def test_texts_are_strings(tmp_path):
    from datamaestro.data.npy import NPY
    from datamaestro.data.text import LabelledTexts
    from datamaestro.loaders.text import text_files, write_texts

    write_texts(tmp_path, "s", [("é", 1), ("", 0), ("abc", 1)])
    blob, offsets, labels = text_files(tmp_path, "s")
    split = LabelledTexts(texts=blob, offsets=NPY(path=offsets), labels=NPY(path=labels))
    examples = [(x.decode("utf-8"), int(y)) for x, y in split.to_tf().as_numpy_iterator()]
    assert examples == [("é", 1), ("", 0), ("abc", 1)]
    x, y = next(split.to_tf(batch_size=2, one_hot=True).as_numpy_iterator())
    assert x.tolist() == ["é".encode(), b""] and y.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    write_texts(tmp_path, "empty", [])
    blob, offsets, labels = text_files(tmp_path, "empty")
    empty = LabelledTexts(texts=blob, offsets=NPY(path=offsets), labels=NPY(path=labels))
    assert list(empty.to_tf().as_numpy_iterator()) == []


def test_to_tf_does_not_shift_the_epochs_of_batches(mnist):
    split, _, labels = mnist
    split.to_tf(batch_size=8, shuffle=True, seed=3)  # probes the split: not a pass of batches()
    first = np.concatenate([y for _, y in split.batches(8, seed=3)])
    np.testing.assert_array_equal(first, labels[np.random.default_rng([3, 0]).permutation(30)])
