"""Loaders on numpy only: arrays, layouts, one-hot, seeded batches, resize, class names."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from makefiles import MNIST_FILES, md5, mnist_gz_files, write_module

import datamaestro
from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.tensor import IDX
from datamaestro.errors import FormatError, UsageError
from datamaestro.formats import idx
from datamaestro.loaders.arrays import image_layout, resize, target_size

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def split_on_disk(folder: Path, images: np.ndarray, labels: np.ndarray, categories=NAMES) -> LabelledImages:
    """A LabelledImages over IDX files holding ``images`` and ``labels``."""
    folder.mkdir(parents=True, exist_ok=True)
    idx.write(folder / "images.idx", images)
    idx.write(folder / "labels.idx", labels)
    return LabelledImages(
        images=IDX(path=folder / "images.idx"),
        labels=IDX(path=folder / "labels.idx"),
        categories=categories,
    )


def digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # the extremes, for exact ranges
    return images, (np.arange(n) % 10).astype(np.uint8)


@pytest.fixture
def mnist(tmp_path):
    images, labels = digits(100)
    return split_on_disk(tmp_path / "mnist", images, labels), images, labels


@pytest.fixture
def cifar(tmp_path):
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(12, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, size=12, dtype=np.uint8)
    return split_on_disk(tmp_path / "cifar", images, labels), images, labels


# --- arrays -----------------------------------------------------------------


def test_arrays_default_is_a_view_of_the_stored_data(mnist):
    split, images, labels = mnist
    x, y = split.arrays()
    assert x.shape == (100, 28, 28) and x.dtype == np.uint8
    assert y.shape == (100,) and y.dtype == np.uint8
    assert np.shares_memory(x, split.images.data()) or x.base is not None
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_arrays_normalize_is_float32_divided_by_255(mnist):
    split, images, _ = mnist
    x, _ = split.arrays(normalize=True)
    assert x.dtype == np.float32 and x.shape == (100, 28, 28)
    np.testing.assert_array_equal(x, images.astype(np.float32) / np.float32(255))
    assert x.min() == 0.0 and x.max() == 1.0
    assert x[0, 0, 1] == 1.0 and x[0, 0, 0] == 0.0


def test_arrays_flatten_and_one_hot(mnist):
    split, images, labels = mnist
    x, y = split.arrays(normalize=True, flatten=True, one_hot=True)
    assert x.shape == (100, 784) and x.dtype == np.float32
    np.testing.assert_array_equal(x[7], images[7].reshape(-1) / np.float32(255))
    assert y.shape == (100, 10) and y.dtype == np.float32
    assert y[3].tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert y[10].tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    np.testing.assert_array_equal(y, np.eye(10, dtype=np.float32)[labels])


def test_one_hot_width_follows_the_categories(tmp_path):
    images, labels = digits(4)
    split = split_on_disk(tmp_path, images, np.array([0, 1, 2, 3], np.uint8), categories=list("abcdefghijkl"))
    _, y = split.arrays(one_hot=True)
    assert y.shape == (4, 12)
    assert y[2].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]


def test_one_hot_without_categories_uses_largest_label(tmp_path):
    images, _ = digits(3)
    split = split_on_disk(tmp_path, images, np.array([0, 4, 2], np.uint8), categories=None)
    _, y = split.arrays(one_hot=True)
    assert y.tolist() == [[1, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 1, 0, 0]]


def test_one_hot_label_outside_categories_names_row(tmp_path):
    images, _ = digits(3)
    split = split_on_disk(tmp_path, images, np.array([0, 1, 7], np.uint8), categories=["a", "b", "c"])
    with pytest.raises(FormatError) as e:
        split.arrays(one_hot=True)
    assert str(e.value) == "label 7 at row 2 is outside the 3 classes (0 to 2)"


def test_layouts_of_grey_images(mnist):
    split, images, _ = mnist
    nchw, _ = split.arrays(layout="NCHW")
    nhwc, _ = split.arrays(layout="nhwc")
    assert nchw.shape == (100, 1, 28, 28) and nhwc.shape == (100, 28, 28, 1)
    np.testing.assert_array_equal(nchw[:, 0], images)
    np.testing.assert_array_equal(nhwc[..., 0], images)
    flat, _ = split.arrays(layout="NCHW", flatten=True)
    assert flat.shape == (100, 784)


def test_layouts_of_colour_images(cifar):
    split, images, _ = cifar
    stored, _ = split.arrays()
    assert stored.shape == (12, 3, 32, 32)
    nhwc, _ = split.arrays(layout="NHWC", normalize=True)
    assert nhwc.shape == (12, 32, 32, 3) and nhwc.dtype == np.float32
    np.testing.assert_array_equal(nhwc, images.transpose(0, 2, 3, 1) / np.float32(255))
    assert nhwc[4, 5, 6, 2] == images[4, 2, 5, 6] / np.float32(255)
    flat, _ = split.arrays(flatten=True)
    assert flat.shape == (12, 3072)
    np.testing.assert_array_equal(flat, images.reshape(12, -1))


def test_channels_last_source_moves_to_channels_first(tmp_path):
    images = np.random.default_rng(2).integers(0, 256, size=(5, 8, 6, 3), dtype=np.uint8)
    split = split_on_disk(tmp_path, images, np.zeros(5, np.uint8))
    x, _ = split.arrays(layout="NCHW")
    assert x.shape == (5, 3, 8, 6)
    np.testing.assert_array_equal(x, images.transpose(0, 3, 1, 2))
    assert image_layout(images) == "NHWC"
    assert image_layout(images.transpose(0, 3, 1, 2)) == "NCHW"
    assert image_layout(images[..., 0]) is None


def test_unknown_layout_and_odd_shapes_are_refused(mnist, tmp_path):
    split, _, _ = mnist
    with pytest.raises(UsageError) as e:
        split.arrays(layout="CHW")
    assert str(e.value) == "unknown layout 'CHW' (use 'NCHW', 'NHWC' or None)"
    with pytest.raises(FormatError) as e:
        image_layout(np.zeros((2, 5, 6, 7), np.uint8))
    assert str(e.value) == (
        "images of shape (2, 5, 6, 7) are not (N, H, W), (N, C, H, W) or (N, H, W, C) "
        "with 1, 3 or 4 channels"
    )


def test_images_and_labels_must_agree(tmp_path):
    images, _ = digits(5)
    split = split_on_disk(tmp_path, images, np.zeros(4, np.uint8))
    with pytest.raises(FormatError) as e:
        split.arrays()
    assert str(e.value) == "5 images but 4 labels; the split is inconsistent"


# --- batches ----------------------------------------------------------------


def test_seeded_shuffle_has_exact_content(mnist):
    split, images, labels = mnist
    order = np.random.default_rng([7, 0]).permutation(100)
    batches = split.batches(batch_size=32, seed=7)
    assert len(batches) == 4
    got = list(batches)
    assert [x.shape for x, _ in got] == [(32, 28, 28)] * 3 + [(4, 28, 28)]
    for i, (x, y) in enumerate(got):
        rows = order[32 * i : 32 * (i + 1)]
        assert x.dtype == np.float32 and y.dtype == np.uint8
        np.testing.assert_array_equal(x, images[rows] / np.float32(255))
        np.testing.assert_array_equal(y, labels[rows])
    seen = np.concatenate([y for _, y in got])
    assert sorted(seen.tolist()) == sorted(labels.tolist())


def test_first_seeded_permutation_is_pinned(tmp_path):
    images, labels = digits(10)
    split = split_on_disk(tmp_path, images, np.arange(10, dtype=np.uint8))
    assert [y.tolist() for _, y in split.batches(batch_size=4, seed=0)] == [
        [4, 6, 2, 7], [3, 5, 9, 0], [8, 1]
    ]


def test_each_call_reshuffles_and_runs_reproduce(mnist, tmp_path):
    split, images, labels = mnist
    first = np.concatenate([y for _, y in split.batches(batch_size=10, seed=3, normalize=False)])
    second = np.concatenate([y for _, y in split.batches(batch_size=10, seed=3, normalize=False)])
    assert first.tolist() != second.tolist()
    np.testing.assert_array_equal(first, labels[np.random.default_rng([3, 0]).permutation(100)])
    np.testing.assert_array_equal(second, labels[np.random.default_rng([3, 1]).permutation(100)])
    # A new object over the same files replays the same sequence of passes.
    again = LabelledImages(images=split.images, labels=split.labels)
    replay = [np.concatenate([y for _, y in again.batches(10, seed=3)]) for _ in range(2)]
    assert replay[0].tolist() == first.tolist() and replay[1].tolist() == second.tolist()
    # An explicit epoch picks a pass.
    third = np.concatenate([y for _, y in split.batches(10, seed=3, epoch=1)])
    assert third.tolist() == second.tolist()


def test_unseeded_calls_differ(mnist):
    split, _, _ = mnist
    a = np.concatenate([y for _, y in split.batches(batch_size=100)])
    b = np.concatenate([y for _, y in split.batches(batch_size=100)])
    assert sorted(a.tolist()) == sorted(b.tolist())
    assert a.tolist() != b.tolist()


def test_unshuffled_batches_and_drop_last(mnist):
    split, images, labels = mnist
    batches = split.batches(batch_size=30, shuffle=False, drop_last=True, normalize=False)
    assert len(batches) == 3
    got = list(batches)
    assert [x.shape[0] for x, _ in got] == [30, 30, 30]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in got]), images[:90])
    assert got[0][0].dtype == np.uint8
    np.testing.assert_array_equal(np.concatenate([y for _, y in got]), labels[:90])
    assert len(split.batches(batch_size=30, drop_last=False)) == 4


def test_batches_with_layout_flatten_and_one_hot(cifar):
    split, images, labels = cifar
    (x, y), = list(split.batches(batch_size=12, shuffle=False, layout="NHWC", one_hot=True))
    assert x.shape == (12, 32, 32, 3) and x.flags.c_contiguous
    np.testing.assert_array_equal(x, images.transpose(0, 2, 3, 1) / np.float32(255))
    np.testing.assert_array_equal(y, np.eye(10, dtype=np.float32)[labels])
    (x, _), = list(split.batches(batch_size=12, shuffle=False, flatten=True))
    assert x.shape == (12, 3072)


def test_batches_refuse_bad_arguments(mnist):
    split, _, _ = mnist
    with pytest.raises(UsageError) as e:
        split.batches(batch_size=0)
    assert str(e.value) == "batch_size must be a positive integer, not 0"
    with pytest.raises(UsageError) as e:
        split.batches(seed=-1)
    assert str(e.value) == "seed must be a non-negative integer or None, not -1"
    with pytest.raises(UsageError) as e:
        split.batches(interpolation="cubic")
    assert str(e.value) == "unknown interpolation 'cubic' (use bilinear or nearest)"


def test_memory_stays_bounded_by_a_batch(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(6000, 28, 28), dtype=np.uint8)
    split = split_on_disk(tmp_path, images, (np.arange(6000) % 10).astype(np.uint8))
    batches = split.batches(batch_size=64, seed=0)  # a float32 copy would be 18.8 MB
    tracemalloc.start()
    try:
        count = sum(x.shape[0] for x, _ in batches)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 6000
    assert peak < 1_000_000, peak


# --- resize -----------------------------------------------------------------

TINY = np.array([[[0, 4], [8, 12]]], dtype=np.uint8)


def test_bilinear_resize_of_a_tiny_array():
    out = resize(TINY, (4, 4))
    assert out.dtype == np.float32 and out.shape == (1, 4, 4)
    assert out[0].tolist() == [
        [0, 1, 3, 4],
        [2, 3, 5, 6],
        [6, 7, 9, 10],
        [8, 9, 11, 12],
    ]


def test_nearest_resize_of_a_tiny_array():
    assert resize(TINY, (4, 4), method="nearest")[0].tolist() == [
        [0, 0, 4, 4], [0, 0, 4, 4], [8, 8, 12, 12], [8, 8, 12, 12],
    ]
    big = np.arange(16, dtype=np.uint8).reshape(1, 4, 4)
    assert resize(big, (2, 2), method="nearest")[0].tolist() == [[5, 7], [13, 15]]
    assert resize(big, (2, 2))[0].tolist() == [[2.5, 4.5], [10.5, 12.5]]


def test_resize_follows_the_layout():
    colour = np.stack([TINY[0], TINY[0] + 1, TINY[0] + 2])[None]  # (1, 3, 2, 2)
    nchw = resize(colour, (4, 4), layout="NCHW")
    assert nchw.shape == (1, 3, 4, 4)
    assert nchw[0, 1, 1].tolist() == [3, 4, 6, 7]
    nhwc = resize(colour.transpose(0, 2, 3, 1), (4, 4), layout="NHWC")
    assert nhwc.shape == (1, 4, 4, 3)
    np.testing.assert_array_equal(nhwc, nchw.transpose(0, 2, 3, 1))


def test_resize_int_sets_the_shorter_edge():
    assert target_size(32, 28, 28) == (32, 32)
    assert target_size(32, 28, 56) == (32, 64)
    assert target_size(16, 40, 20) == (32, 16)
    assert target_size((10, 20), 28, 28) == (10, 20)
    with pytest.raises(UsageError) as e:
        target_size("big", 28, 28)
    assert str(e.value) == "resize expects an int or a (height, width) pair, not 'big'"


def test_bilinear_matches_pil_as_d2l_resize_does():
    from PIL import Image  # a test dependency ([test] extra)

    images, _ = digits(20, seed=4)
    ours = np.clip(np.rint(resize(images, 32)), 0, 255).astype(np.uint8)
    pil = np.stack([np.asarray(Image.fromarray(x).resize((32, 32), Image.BILINEAR)) for x in images])
    assert np.abs(ours.astype(int) - pil).max() <= 1  # PIL rounds its weights to 8 bits


def test_batches_resize_to_32(mnist):
    split, images, _ = mnist
    x, _ = next(split.batches(batch_size=8, shuffle=False, resize=(32, 32)))
    assert x.shape == (8, 32, 32) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_allclose(x, resize(images[:8], 32) / 255, rtol=1e-6)
    x, _ = next(split.batches(batch_size=8, shuffle=False, resize=32, layout="NCHW"))
    assert x.shape == (8, 1, 32, 32)
    x, _ = next(split.batches(batch_size=8, shuffle=False, resize=32, normalize=False))
    assert x.dtype == np.uint8
    np.testing.assert_array_equal(x, np.rint(resize(images[:8], 32)).astype(np.uint8))


def test_resize_nearest_in_batches(cifar):
    split, images, _ = cifar
    x, _ = next(split.batches(batch_size=2, shuffle=False, resize=(16, 16), interpolation="nearest",
                              normalize=False))
    assert x.shape == (2, 3, 16, 16)
    np.testing.assert_array_equal(x, images[:2, :, 1::2, 1::2])


# --- class names ------------------------------------------------------------


def test_text_labels(mnist):
    split, _, labels = mnist
    assert split.categories == NAMES
    assert split.text_labels(3) == "three"
    assert split.text_labels(np.uint8(9)) == "nine"
    assert split.text_labels([0, 2]) == ["zero", "two"]
    assert split.text_labels(labels[:3]) == ["zero", "one", "two"]
    _, one_hot = split.arrays(one_hot=True)
    assert split.text_labels(one_hot[4:6]) == ["four", "five"]
    with pytest.raises(UsageError) as e:
        split.text_labels([1, 10])
    assert str(e.value) == "label 10 is outside the 10 classes (0 to 9)"


def test_text_labels_needs_categories(tmp_path):
    images, labels = digits(2)
    split = split_on_disk(tmp_path, images, labels, categories=None)
    with pytest.raises(UsageError) as e:
        split.text_labels(1)
    assert str(e.value) == "this split has no class names (categories); text_labels needs them"


def test_categories_travel_from_the_dataset_to_its_splits(tmp_path):
    images, labels = digits(4)
    train = split_on_disk(tmp_path / "a", images, labels, categories=None)
    ds = ImageClassification(train=train, categories=NAMES)
    assert ds.train.categories == NAMES
    assert ds.train.text_labels([1]) == ["one"]


def test_loaders_json_round_trip_keeps_fields(mnist):
    split, _, _ = mnist
    list(split.batches(10, seed=1))
    back = datamaestro.from_json(split.to_json())
    assert back.to_json() == split.to_json()
    assert "_batches_calls" not in split.to_json()


# --- end to end, and adapters without their framework -----------------------

SOURCE = '''
from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.tensor import IDX
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader

{decorators}
@dataset(ImageClassification)
def digits(train_images, train_labels, test_images, test_labels):
    """Toy digits."""
    return {{
        "train": LabelledImages(images=IDX(path=train_images), labels=IDX(path=train_labels)),
        "test": LabelledImages(images=IDX(path=test_images), labels=IDX(path=test_labels)),
        "categories": {names!r},
    }}
'''


def test_prepared_dataset_loads_through_batches(env, server):
    files, arrays = mnist_gz_files(n_train=20, n_test=8)
    for name, data in files.items():
        server.files[f"/toy/{name}"] = data
    decorators = "\n".join(
        f"@filedownloader({var + '.idx'!r}, {server.url('toy/' + name)!r}, checksum='md5:{md5(files[name])}')"
        for var, name in MNIST_FILES.items()
    )
    write_module(env.use_registry(), "org.test", SOURCE.format(decorators=decorators, names=NAMES))
    ds = datamaestro.prepare_dataset("org.test.digits", quiet=True)
    x, y = ds.train.arrays(normalize=True, flatten=True)
    np.testing.assert_array_equal(x, arrays["train_images"].reshape(20, -1) / np.float32(255))
    batches = list(ds.test.batches(batch_size=5, seed=11, layout="NCHW"))
    order = np.random.default_rng([11, 0]).permutation(8)
    np.testing.assert_array_equal(batches[1][1], arrays["test_labels"][order[5:]])
    assert batches[0][0].shape == (5, 1, 28, 28)
    assert ds.test.text_labels(batches[0][1][:1]) == [NAMES[arrays["test_labels"][order[0]]]]


@pytest.mark.parametrize(
    "method, module, message",
    [
        (
            "to_torch", "torch",
            "torch is needed for PyTorch datasets (to_torch): pip install torch "
            "(or, in datamaestro's checkout, pip install -e '.[torch]')",
        ),
        (
            "to_tf", "tensorflow",
            "tensorflow is needed for TensorFlow datasets (to_tf): pip install tensorflow "
            "(or, in datamaestro's checkout, pip install -e '.[tf]')",
        ),
    ],
)
def test_adapters_without_their_framework_say_which_extra(mnist, monkeypatch, method, module, message):
    split, _, _ = mnist
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    import datamaestro.loaders.torch as adapter

    adapter.dataset_class.cache_clear()  # made again, with torch missing
    with pytest.raises(UsageError) as e:
        getattr(split, method)()
    assert str(e.value) == message


def test_loaders_import_no_framework():
    code = (
        "import sys, datamaestro.loaders, datamaestro.data.images; "
        "print(sorted(m for m in ('torch', 'tensorflow') if m in sys.modules))"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_normalize_mean_std_standardises_each_channel(cifar):
    split, images, _ = cifar
    mean, std = (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)
    x, _ = split.arrays(normalize=(mean, std))
    scaled = images / np.float32(255)
    expected = (scaled - np.float32(mean)[:, None, None]) / np.float32(std)[:, None, None]
    assert x.dtype == np.float32 and np.array_equal(x, expected.astype(np.float32))
    xh, _ = split.arrays(normalize=(mean, std), layout="NHWC")
    assert np.array_equal(xh, x.transpose(0, 2, 3, 1))
    batch, _ = next(iter(split.batches(4, shuffle=False, normalize=(mean, std), layout="NHWC")))
    assert np.array_equal(batch, xh[:4])
    one, _ = split.arrays(normalize=((0.5,), (0.5,)))
    assert np.array_equal(one, (scaled - np.float32(0.5)) / np.float32(0.5))


def test_normalize_mean_std_is_checked(mnist, cifar):
    grey, colour = mnist[0], cifar[0]
    for normalize, message in [
        (((0.5, 0.5), (0.2, 0.2)), r"^normalize=\(mean, std\) gives 2 values for images of 1 channels$"),
        (((0.5,), (0.0,)), r"^normalize=\(mean, std\) needs finite means and positive stds"),
        (((0.5, 0.4), (0.2,)), r"^normalize=\(mean, std\) needs as many means as stds"),
        ("yes", r"^normalize must be True, False or \(mean, std\), not 'yes'$"),
    ]:
        with pytest.raises(UsageError, match=message):
            grey.arrays(normalize=normalize)
    with pytest.raises(UsageError, match=r"gives 2 values for images of 3 channels$"):
        next(iter(colour.batches(4, normalize=((0.5, 0.5), (0.2, 0.2)))))


def test_transform_is_called_on_each_numpy_batch(mnist):
    split, images, _ = mnist
    shapes = []

    def negate(batch):
        shapes.append(batch.shape)
        return 1 - batch

    got = np.concatenate([x for x, _ in split.batches(20, shuffle=False, transform=negate)])
    assert np.array_equal(got, 1 - images / np.float32(255)) and shapes == [(20, 28, 28)] * 5
