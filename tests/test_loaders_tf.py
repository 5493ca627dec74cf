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
