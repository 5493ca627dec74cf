"""datamaestro.compat: the blog's load_mnist and d2l's Fashion-MNIST helpers, against their stated shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from imagedatasets import DATASET, serve_digits

from datamaestro.compat import (
    FASHION_MNIST,
    get_fashion_mnist_labels,
    load_data_fashion_mnist,
    load_mnist,
    show_images,
)

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def blog_one_hot(labels: np.ndarray) -> np.ndarray:
    """The blog's _change_one_hot_label, as it is written there."""
    table = np.zeros((labels.size, 10))
    for idx, row in enumerate(table):
        row[labels[idx]] = 1
    return table


def test_load_mnist_defaults_are_the_blogs(env, server):
    arrays = serve_digits(env, server)
    (x_train, t_train), (x_test, t_test) = load_mnist(dataset=DATASET)
    assert x_train.shape == (20, 784) and x_train.dtype == np.float32
    assert x_test.shape == (8, 784)
    expected = arrays["train_images"].reshape(20, 784).astype(np.float32)
    expected /= 255.0
    assert np.array_equal(x_train, expected)
    assert t_train.dtype == np.uint8 and t_train.tolist() == arrays["train_labels"].tolist()
    assert t_test.tolist() == arrays["test_labels"].tolist()
    x_train[0, 0] = 7  # writable copies, as the blog's pickle gives
    assert load_mnist(dataset=DATASET)[0][0][0, 0] != 7


def test_load_mnist_options(env, server):
    arrays = serve_digits(env, server)
    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=False, flatten=False, one_hot_label=True, dataset=DATASET
    )
    assert x_train.shape == (20, 1, 28, 28) and x_train.dtype == np.uint8
    assert np.array_equal(x_train[:, 0], arrays["train_images"])
    assert t_train.shape == (20, 10) and t_train.dtype == np.float64
    assert np.array_equal(t_train, blog_one_hot(arrays["train_labels"]))
    assert np.array_equal(t_test, blog_one_hot(arrays["test_labels"]))
    (x_train, _), _ = load_mnist(flatten=False, dataset=DATASET)
    assert x_train.shape == (20, 1, 28, 28) and x_train.dtype == np.float32


def test_load_data_fashion_mnist_batches(env, server):
    arrays = serve_digits(env, server)
    train_iter, test_iter = load_data_fashion_mnist(6, dataset=DATASET)
    assert (len(train_iter), len(test_iter)) == (4, 2)
    batches = list(train_iter)
    assert [x.shape for x, _ in batches] == [(6, 1, 28, 28)] * 3 + [(2, 1, 28, 28)]
    assert all(x.dtype == np.float32 and y.dtype == np.int64 for x, y in batches)
    images = np.concatenate([x for x, _ in batches])[:, 0]
    labels = np.concatenate([y for _, y in batches])
    # a shuffled pass holds every item once, each with its own label
    expected = arrays["train_images"].astype(np.float32) / 255
    order = [int(np.flatnonzero((expected == im).all(axis=(1, 2)))[0]) for im in images]
    assert sorted(order) == list(range(20))
    assert labels.tolist() == arrays["train_labels"][order].tolist()
    second = np.concatenate([y for _, y in train_iter])
    assert sorted(second.tolist()) == sorted(labels.tolist())
    # the test set keeps its order
    x_test = np.concatenate([x for x, _ in test_iter])
    assert np.array_equal(x_test[:, 0], arrays["test_images"].astype(np.float32) / 255)
    resized, _ = load_data_fashion_mnist(6, resize=32, dataset=DATASET)
    x, y = next(iter(resized))
    assert x.shape == (6, 1, 32, 32) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1


def test_get_fashion_mnist_labels():
    assert get_fashion_mnist_labels([0, 9, np.int64(3), np.array(6)]) == [
        "t-shirt", "ankle boot", "dress", "shirt",
    ]


def test_show_images_grid():
    pytest.importorskip("PIL")
    from PIL import ImageFont

    from datamaestro.viz import grid_layout
    from datamaestro.viz.grid import PAD, _text_height

    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (18, 28, 28), dtype=np.uint8)
    batch = (images.astype(np.float32) / 255).reshape(18, 1, 28, 28)  # d2l's X
    titles = get_fashion_mnist_labels(range(10)) + ["bag"] * 8
    grid = show_images(batch, 2, 9, titles=titles)
    title = _text_height(ImageFont.load_default()) + 2 * PAD
    layout = grid_layout(18, 28, 28, ncols=9, scale=3, title_height=title)
    assert grid.size == layout.size and grid.mode == "L"
    pixels = np.asarray(grid)
    for i in range(18):
        left, top, right, bottom = layout.tile_box(i)
        assert np.array_equal(pixels[top:bottom, left:right], images[i].repeat(3, 0).repeat(3, 1))
    # only num_rows * num_cols images are drawn
    assert show_images(images, 1, 4, scale=1).size == grid_layout(4, 28, 28, ncols=4, scale=2).size


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason=f"Debian's dataset-fashion-mnist is not at {DEBIAN_FASHION}")
def test_real_fashion_mnist_shapes(env, server):
    for path in DEBIAN_FASHION.glob("*.gz"):
        server.files[f"/fashion/{path.name}"] = path.read_bytes()
    env.mirror("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", server.url("fashion/"))
    train_iter, test_iter = load_data_fashion_mnist(256)
    assert (len(train_iter), len(test_iter)) == (235, 40)
    x, y = next(iter(test_iter))
    assert x.shape == (256, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert get_fashion_mnist_labels(y[:3]) == ["ankle boot", "pullover", "trouser"]
    (x_train, t_train), (x_test, t_test) = load_mnist(dataset=FASHION_MNIST)
    assert x_train.shape == (60000, 784) and t_train.shape == (60000,) and x_test.shape == (10000, 784)
