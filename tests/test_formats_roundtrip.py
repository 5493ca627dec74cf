"""Every layout written and read back: same ids, labels, class names and pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datumaro_layouts import write_all

from datamaestro.errors import UsageError
from datamaestro.formats import Dataset, Subset, apply_filters, read, write
from datamaestro.formats.dataset import to_grey, to_rgb

ARRAY_FORMATS = ["mnist", "mnist_csv", "cifar"]
ALL_FORMATS = ARRAY_FORMATS + ["imagenet"]


def grey_dataset(n_train: int = 7, n_test: int = 3, size: tuple[int, int] = (28, 28)) -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset(
        {
            "train": Subset(rng.integers(0, 256, (n_train, *size), dtype=np.uint8), rng.integers(0, 10, n_train)),
            "test": Subset(rng.integers(0, 256, (n_test, *size), dtype=np.uint8), rng.integers(0, 10, n_test)),
        },
        [f"class {i}" for i in range(10)],
    )


def assert_same(expected: Dataset, got: Dataset, fmt: str) -> None:
    assert got.categories == expected.categories
    if fmt == "imagenet":  # one folder for all subsets
        assert sorted(got.subsets) == ["default"]
        want = sorted(
            (int(label), to_rgb(im).tobytes() if im.ndim == 3 else im.tobytes())
            for _, s in expected for label, im in zip(s.labels, s.images)
        )
        have = sorted((int(label), im.tobytes()) for _, s in got for label, im in zip(s.labels, s.images))
        assert have == want
        return
    renamed = (lambda n: n.replace("_", "-")) if fmt == "mnist_csv" else (lambda n: n)
    assert sorted(got.subsets) == sorted(renamed(n) for n in expected.subsets)
    for name, subset in expected:
        back = got.subsets[renamed(name)]
        assert back.item_ids() == subset.item_ids()
        assert back.labels.tolist() == subset.labels.tolist()
        assert back.labels.dtype == np.int64
        assert len(back.images) == len(subset.images)
        for a, b in zip(subset.images, back.images):
            a = to_grey(a) if fmt.startswith("mnist") else to_rgb(a)
            assert b.dtype == np.uint8
            assert np.array_equal(a, b)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_synthetic_grey_round_trip(tmp_path: Path, fmt: str):
    if fmt == "imagenet":
        pytest.importorskip("PIL")
    ds = grey_dataset()
    write(ds, tmp_path / "out", fmt)
    assert_same(ds, read(tmp_path / "out", fmt), fmt)


@pytest.mark.parametrize(
    "source,source_format",
    [
        ("mnist_dataset", "mnist"),
        ("mnist_csv_dataset", "mnist_csv"),
        ("cifar10_dataset", "cifar"),
        ("cifar100_dataset", "cifar"),
        ("imagenet_dataset", "imagenet"),
    ],
)
@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_fixture_round_trip(tmp_path: Path, source: str, source_format: str, fmt: str):
    dm = write_all(tmp_path / "dm")
    if "imagenet" in (fmt, source_format):
        pytest.importorskip("PIL")
    ds = read(dm / source, source_format)
    write(ds, tmp_path / "out", fmt)
    back = read(tmp_path / "out", fmt)
    assert_same(ds, back, fmt)
    if fmt == "cifar" and ds.parents:
        assert back.parents == ds.parents  # superclasses survive (CIFAR-100 'meta')
        assert (tmp_path / "out/meta").is_file() and not (tmp_path / "out/batches.meta").exists()
    if fmt == "cifar" and not ds.parents:
        assert (tmp_path / "out/batches.meta").is_file()


def test_cifar_writes_published_layout_for_32x32(tmp_path: Path):
    from datamaestro.formats import safe_pickle

    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    ds = Dataset({"data_batch_1": Subset(images, [0, 1, 2, 1])}, ["a", "b", "c"])
    write(ds, tmp_path / "out", "cifar")
    batch = safe_pickle.load(tmp_path / "out/data_batch_1")
    assert batch["batch_label"] == "training batch 1 of 5"
    assert batch["data"].dtype == np.uint8 and batch["data"].shape == (4, 3072)
    assert np.array_equal(batch["data"].reshape(4, 3, 32, 32), images)
    assert batch["labels"] == [0, 1, 2, 1]
    assert batch["filenames"] == ["0.png", "1.png", "2.png", "3.png"]
    assert "image_sizes" not in batch
    assert safe_pickle.load(tmp_path / "out/batches.meta") == {"label_names": ["a", "b", "c"]}


def test_odd_sizes_and_ids_survive_mnist_layouts(tmp_path: Path):
    rng = np.random.default_rng(2)
    images = [rng.integers(0, 256, s, dtype=np.uint8) for s in [(7, 8), (28, 28), (2, 2)]]
    ds = Dataset({"train": Subset(images, [1, 0, 2], ["a", "b", "c"])}, ["x", "y", "z"])
    for fmt in ARRAY_FORMATS:
        write(ds, tmp_path / fmt, fmt)
        assert_same(ds, read(tmp_path / fmt, fmt), fmt)
    assert (tmp_path / "mnist/train-meta.gz").is_file()
    assert (tmp_path / "mnist_csv/meta_train.csv").read_text() == "a,7,8\nb,28,28\nc,2,2\n"


def test_unlabelled_items_round_trip(tmp_path: Path):
    ds = grey_dataset(3, 1)
    ds.subsets["train"].labels[1] = -1
    for fmt in ARRAY_FORMATS:
        write(ds, tmp_path / fmt, fmt)
        assert read(tmp_path / fmt, fmt).subsets["train"].labels.tolist() == ds.subsets["train"].labels.tolist()


@pytest.mark.parametrize("fmt", ["mnist", "mnist_csv", "cifar"])
def test_custom_label_files(tmp_path: Path, fmt: str):
    ds = grey_dataset()
    write(ds, tmp_path / "out", fmt, save_dataset_meta=True)
    meta = json.loads((tmp_path / "out/dataset_meta.json").read_text())
    assert meta == {"labels": [f"class {i}" for i in range(10)]}
    if fmt != "cifar":
        assert (tmp_path / "out/labels.txt").read_text() == "".join(f"class {i}\n" for i in range(10))
        # labels.txt alone gives the names...
        (tmp_path / "out/dataset_meta.json").unlink()
        (tmp_path / "out/labels.txt").write_text("\n".join(f"L{i}" for i in range(10)) + "\n\n")
        assert read(tmp_path / "out", fmt).categories == [f"L{i}" for i in range(10)]
    # ...and dataset_meta.json wins over labels.txt
    (tmp_path / "out/dataset_meta.json").write_text(json.dumps({"label_map": {str(i): f"M{i}" for i in range(10)}}))
    assert read(tmp_path / "out", fmt).categories == [f"M{i}" for i in range(10)]


def test_mnist_without_label_files_has_digit_names(tmp_path: Path):
    write(grey_dataset(), tmp_path / "out", "mnist")
    (tmp_path / "out/labels.txt").unlink()
    assert read(tmp_path / "out", "mnist").categories == [str(i) for i in range(10)]


def test_imagenet_jpeg_and_png(tmp_path: Path):
    dm = write_all(tmp_path / "dm")
    pytest.importorskip("PIL")
    ds = read(dm / "cifar10_dataset", "cifar")
    write(ds, tmp_path / "jpg", "imagenet", image_ext=".jpg")
    names = sorted(p.relative_to(tmp_path / "jpg").as_posix() for p in (tmp_path / "jpg").rglob("*.jpg"))
    assert names == [
        "airplane/data_batch_1_image_1.jpg", "automobile/test_batch_image_2.jpg",
        "bird/test_batch_image_4.jpg", "cat/test_batch_image_3.jpg", "cat/test_batch_image_5.jpg",
    ]
    back = read(tmp_path / "jpg", "imagenet")
    assert sorted(tuple(im.shape) for im in back.subsets["default"].images) == sorted(
        tuple(im.shape) for _, s in ds for im in s.images
    )
    write(ds, tmp_path / "png", "imagenet")
    assert len(list((tmp_path / "png").rglob("*.png"))) == 5


def test_filters(tmp_path):
    dm = write_all(tmp_path / "dm")
    ds = read(dm / "cifar10_dataset", "cifar")
    only = apply_filters(ds, ["label=cat"])
    assert {n: s.item_ids() for n, s in only} == {"data_batch_1": [], "test_batch": ["image_3", "image_5"]}
    assert apply_filters(ds, ["label=1,0", "subset=test_batch"]).subsets["test_batch"].item_ids() == ["image_2"]
    with pytest.raises(UsageError, match=r"^filter 'label=dog': no label 'dog' \(labels: airplane, automobile, bird, cat\)$"):
        apply_filters(ds, ["label=dog"])
    with pytest.raises(UsageError, match="^invalid filter 'colour=red'"):
        apply_filters(ds, ["colour=red"])


def test_output_must_be_new_or_empty_and_failure_leaves_nothing(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="the output folder is not empty"):
        write(grey_dataset(), out, "mnist")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    write(grey_dataset(), out, "mnist", overwrite=True)
    assert not (out / "keep.txt").exists()
    # a label that does not fit in MNIST's bytes: nothing is left behind
    bad = Dataset({"train": Subset(np.zeros((1, 28, 28), np.uint8), [300])}, [str(i) for i in range(301)])
    from datamaestro.errors import FormatError

    with pytest.raises(FormatError, match="label 300 does not fit"):
        write(bad, tmp_path / "new", "mnist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_colour_to_grey_is_pillows_luma():
    Image = pytest.importorskip("PIL.Image")
    from datamaestro.formats.dataset import to_grey_stack

    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (4, 3, 9, 7), dtype=np.uint8)
    pillow = np.stack([np.asarray(Image.fromarray(im.transpose(1, 2, 0)).convert("L")) for im in images])
    assert np.array_equal(to_grey_stack(images), pillow)
    assert np.array_equal(to_grey(images[0]), pillow[0])


def test_csv_header_row_and_crlf_are_read_as_datumaro_does(tmp_path: Path):
    folder = tmp_path / "csv"
    folder.mkdir()
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    rows = [",".join(["4", *["9"] * 784]), ",".join(["-1", *["0"] * 783, "255"])]
    (folder / "mnist_test.csv").write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode())
    ds = read(folder, "mnist_csv")
    subset = ds.subsets["test"]
    assert subset.labels.tolist() == [4, -1]
    assert subset.images.shape == (2, 28, 28)
    assert (subset.images[0] == 9).all() and subset.images[1, 27, 27] == 255


def test_idx_read_gz(tmp_path):
    dm = write_all(tmp_path / "dm")
    from datamaestro.formats import idx

    labels = idx.read_gz(dm / "mnist_dataset/t10k-labels-idx1-ubyte.gz")
    assert labels.tolist() == [0, 2, 1]
    images = idx.read_gz(dm / "mnist_dataset/t10k-images-idx3-ubyte.gz")
    assert images.shape == (3, 28, 28)  # Datumaro's header holds the pixel count
