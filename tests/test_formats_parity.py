"""What Datumaro's layouts need from our writers and readers (issue 11's numbered items).

Every expected byte layout is spelled out here with struct/gzip/pickle, and
every check reads real files written in a temporary folder.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from datumaro_layouts import png_bytes, write_all

from datamaestro.errors import FormatError, UnsafePathError, UsageError
from datamaestro.formats import Dataset, Subset, apply_filters, read, write
from datamaestro.formats.dataset import to_grey_stack

FASHION = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]


def fashion_like(n: int = 12) -> Dataset:
    rng = np.random.default_rng(4)
    return Dataset(
        {"train": Subset(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % 10)},
        list(FASHION),
    )


# --- 1 and 2: imagenet output that Datumaro opens, names and numbering kept ----------


def test_imagenet_output_holds_only_images_and_keeps_the_class_list(tmp_path, caplog):
    pytest.importorskip("PIL")
    ds = fashion_like(8)  # classes 8 and 9 have no image
    with caplog.at_level(logging.WARNING, logger="datamaestro"):
        write(ds, tmp_path / "out", "imagenet", save_dataset_meta=True)
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*"))
    # no dataset_meta.json, no empty folder, no nested folder for 'T-shirt/top'
    assert files == sorted(
        [f"{d}" for d in ["T-shirt%2Ftop", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker"]]
        + [f"{d}/{i}.png" for i, d in enumerate(
            ["T-shirt%2Ftop", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker"])]
    )
    assert [r.getMessage() for r in caplog.records] == [
        "the imagenet layout has no dataset_meta.json (Datumaro cannot open a folder holding one): "
        "the class list is kept in the image files' metadata",
        "classes without images get no folder (Datumaro cannot open an empty one); "
        "Datumaro will not know them: Bag, Ankle boot",
        "class names with '/' are written as folder names without it: 'T-shirt/top' as 'T-shirt%2Ftop'",
        "Datumaro numbers imagenet classes by sorted folder name, not in this dataset's order "
        "(datamaestro reads the order back from the image metadata)",
    ]
    back = read(tmp_path / "out", "imagenet")
    assert back.categories == FASHION  # names, order, and the classes without images
    subset = back.subsets["default"]
    assert sorted(zip(subset.item_ids(), subset.labels.tolist())) == sorted(
        (f"{FASHION[i] if i else 'T-shirt%2Ftop'}:{i}", i) for i in range(8)
    )
    assert np.array_equal(subset.images[np.argsort(subset.labels)], ds.subsets["train"].images)


def test_imagenet_class_list_in_jpeg_comments(tmp_path):
    pytest.importorskip("PIL")
    write(fashion_like(10), tmp_path / "out", "imagenet", image_ext=".jpg")
    assert read(tmp_path / "out", "imagenet").categories == FASHION


def test_imagenet_without_metadata_reads_sorted_folders(tmp_path):
    """Files from elsewhere: the folder names, sorted, as Datumaro numbers them."""
    for name in ["zebra/a.png", "apple/b.png", "apple/c.png"]:
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / name).write_bytes(png_bytes(np.full((2, 3), 9, np.uint8)))
    pytest.importorskip("PIL")
    ds = read(tmp_path / "in", "imagenet")
    assert ds.categories == ["apple", "zebra"]
    assert ds.subsets["default"].labels.tolist() == [0, 0, 1]


def test_nested_classes_stay_nested(tmp_path):
    pytest.importorskip("PIL")
    ds = read(write_all(tmp_path / "dm") / "imagenet_dataset", "imagenet")
    write(ds, tmp_path / "out", "imagenet")
    assert (tmp_path / "out/label_1/label_1_1").is_dir()
    back = read(tmp_path / "out", "imagenet")
    assert back.categories == ["label_0", "label_1", "label_1/label_1_1"]
    assert back.parents == ["", "", "label_1"]
    assert sorted(back.subsets["default"].item_ids()) == sorted(ds.subsets["default"].item_ids())


@pytest.mark.parametrize("fmt", ["mnist", "mnist_csv", "cifar"])
def test_slash_names_keep_names_and_numbers(tmp_path, fmt):
    ds = fashion_like()
    write(ds, tmp_path / "out", fmt)
    back = read(tmp_path / "out", fmt)
    assert back.categories == FASHION
    assert next(iter(back.subsets.values())).labels.tolist() == ds.subsets["train"].labels.tolist()


# --- 3: mnist_csv subsets with '_' and odd sizes ------------------------------------


def test_mnist_csv_subset_names_with_underscore(tmp_path, caplog):
    images = [np.full((32, 30), 7, np.uint8), np.full((2, 2), 1, np.uint8)]
    ds = Dataset({"data_batch_1": Subset(images, [1, 0])}, ["a", "b"])
    with caplog.at_level(logging.WARNING, logger="datamaestro"):
        write(ds, tmp_path / "out", "mnist_csv")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "labels.txt", "meta_data-batch-1.csv", "mnist_data-batch-1.csv",
    ]
    assert (tmp_path / "out/meta_data-batch-1.csv").read_text() == "32,30\n2,2\n"
    assert caplog.records[0].getMessage() == (
        "subset 'data_batch_1' is written as mnist_data-batch-1.csv: Datumaro reads a mnist_csv subset "
        "name up to the last '_', so it is read back as subset 'data-batch-1'"
    )
    back = read(tmp_path / "out", "mnist_csv")
    assert list(back.subsets) == ["data-batch-1"]
    assert [im.shape for im in back.subsets["data-batch-1"].images] == [(32, 30), (2, 2)]


# --- 4: channel-last images ----------------------------------------------------------


def test_cifar_writer_takes_datumaros_hwc_images(tmp_path):
    """Datumaro's own example: np.ones((32, 32, 3)) per image."""
    ds = Dataset({"train": Subset([np.ones((32, 32, 3)), np.ones((32, 32, 3))], [0, 1])}, ["a", "b"])
    write(ds, tmp_path / "out", "cifar")
    with open(tmp_path / "out/train", "rb") as f:
        batch = pickle.load(f)
    assert batch["data"].shape == (2, 3072) and batch["data"].dtype == np.uint8
    assert "image_sizes" not in batch
    back = read(tmp_path / "out", "cifar")
    assert back.subsets["train"].images.shape == (2, 3, 32, 32)
    assert (back.subsets["train"].images == 1).all()


def test_hwc_stack_and_pixels_by_channel(tmp_path):
    hwc = np.random.default_rng(6).integers(0, 256, (2, 5, 7, 3), dtype=np.uint8)
    subset = Subset(hwc, [0, 1])
    assert np.array_equal(subset.images, hwc.transpose(0, 3, 1, 2))


@pytest.mark.parametrize("shape", [(3, 32, 3), (3, 3, 3), (1, 5, 1)])
def test_ambiguous_shapes_are_refused(shape):
    with pytest.raises(FormatError, match=r"^image 0 of shape .* could be channel first \(C, H, W\) or channel last"):
        Subset([np.zeros(shape, np.uint8)], [0])


def test_pixel_values_must_be_bytes():
    with pytest.raises(FormatError, match=r"^pixel values must be whole numbers in 0\.\.255 \(got float64 values"):
        Subset([np.full((4, 4), 0.5)], [0])
    with pytest.raises(FormatError, match="from -1 to 3"):
        Subset(np.array([[[-1, 3]]]), [0])


# --- 5: exports without media --------------------------------------------------------


def test_write_without_media_is_datumaros_layout(tmp_path):
    ds = Dataset(
        {"train": Subset(np.zeros((3, 28, 28), np.uint8), [1, -1, 0]),
         "test": Subset(np.zeros((1, 28, 28), np.uint8), [1], ["x"])},
        ["a", "b"],
    )
    for fmt in ("mnist", "mnist_csv", "cifar"):
        write(ds, tmp_path / fmt, fmt, save_media=False)
    assert sorted(os.listdir(tmp_path / "mnist")) == [
        "labels.txt", "t10k-labels-idx1-ubyte.gz", "test-meta.gz", "train-labels-idx1-ubyte.gz",
    ]
    raw = gzip.decompress((tmp_path / "mnist/train-labels-idx1-ubyte.gz").read_bytes())
    assert raw == struct.pack(">II", 0x801, 3) + bytes([1, 255, 0])
    assert (tmp_path / "mnist_csv/mnist_train.csv").read_text() == "1\n-1\n0\n"
    assert (tmp_path / "mnist_csv/meta_test.csv").read_text() == "x\n"
    with open(tmp_path / "cifar/train", "rb") as f:
        batch = pickle.load(f)
    assert len(batch["data"]) == 0 and batch["labels"] == [1, None, 0]
    assert batch["filenames"] == ["0.png", "1.png", "2.png"]
    for fmt in ("mnist", "mnist_csv", "cifar"):
        back = read(tmp_path / fmt, fmt)
        assert back.subsets["train"].images is None
        assert back.subsets["train"].labels.tolist() == [1, -1, 0]
        assert back.subsets["test"].item_ids() == ["x"]
        # and it converts on, still without pixels
        write(back, tmp_path / f"{fmt}-again", "cifar")
        assert read(tmp_path / f"{fmt}-again", "cifar").subsets["train"].images is None
    with pytest.raises(FormatError, match="^the imagenet layout is image files: it cannot be written without media$"):
        write(ds, tmp_path / "img", "imagenet", save_media=False)
    assert not (tmp_path / "img").exists()


def test_reads_datumaros_media_less_exports(tmp_path):
    """Byte layouts of Datumaro's default (save_media=False) exports."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m/train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(struct.pack(">II", 0x801, 2) + b"\x03\x01"))
    (tmp_path / "m/labels.txt").write_text("".join(f"{i}\n" for i in range(10)))
    (tmp_path / "c").mkdir()
    (tmp_path / "c/batches.meta").write_bytes(pickle.dumps({"label_names": ["a", "b"]}))
    (tmp_path / "c/train").write_bytes(pickle.dumps(
        {"filenames": ["p.png", "q.png"], "labels": [0, 1], "data": np.array([], dtype=object)}
    ))
    (tmp_path / "v").mkdir()
    (tmp_path / "v/mnist_train.csv").write_text("3\n1\n")
    for folder, fmt in (("m", "mnist"), ("c", "cifar"), ("v", "mnist_csv")):
        subset = read(tmp_path / folder, fmt).subsets["train"]
        assert subset.images is None and not subset.has_media
        assert len(subset) == 2
    (tmp_path / "v/mnist_train.csv").write_text("3\n1," + ",".join(["0"] * 784) + "\n")
    with pytest.raises(FormatError, match=r"row 2: pixel values, but the first row has none"):
        read(tmp_path / "v", "mnist_csv")


# --- 6: colour to grey is Pillow's ---------------------------------------------------


def test_grey_is_pillows_l_mode_for_every_colour():
    Image = pytest.importorskip("PIL.Image")
    v = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255]).astype(np.uint8).reshape(3, 4096, 4096)
    pillow = np.asarray(Image.fromarray(np.ascontiguousarray(rgb.transpose(1, 2, 0))).convert("L"))
    assert np.array_equal(to_grey_stack(rgb), pillow)
    assert to_grey_stack(np.array([0, 0, 250], np.uint8).reshape(3, 1, 1))[0, 0] == 28


# --- 7: Datumaro's filter syntax -----------------------------------------------------


def cifar_dataset(tmp_path: Path) -> Dataset:
    return read(write_all(tmp_path / "dm") / "cifar10_dataset", "cifar")


def kept(ds: Dataset) -> dict[str, list[str]]:
    return {name: s.item_ids() for name, s in ds}


def test_xpath_filters(tmp_path):
    ds = cifar_dataset(tmp_path)
    cases = {
        '/item[annotation/label="cat"]': {"data_batch_1": [], "test_batch": ["image_3", "image_5"]},
        "/item[annotation/label='cat' or annotation/label=\"airplane\"]":
            {"data_batch_1": ["image_1"], "test_batch": ["image_3", "image_5"]},
        '/item[subset="test_batch" and annotation/label_id=1]': {"data_batch_1": [], "test_batch": ["image_2"]},
        '/item[id="image_4"]': {"data_batch_1": [], "test_batch": ["image_4"]},
        '/item[(annotation/label="cat" or annotation/label="bird") and id!="image_5"]':
            {"data_batch_1": [], "test_batch": ["image_3", "image_4"]},
        "label=cat,bird": {"data_batch_1": [], "test_batch": ["image_3", "image_4", "image_5"]},
        "subset=test_batch": {"test_batch": ["image_2", "image_3", "image_4", "image_5"]},
        "id=image_1,image_2": {"data_batch_1": ["image_1"], "test_batch": ["image_2"]},
    }
    for text, expected in cases.items():
        assert kept(apply_filters(ds, [text])) == expected, text


@pytest.mark.parametrize("text,message", [
    ('/item[annotation/label="dog"]', "filter '/item[annotation/label=\"dog\"]': no label 'dog' "
                                      "(labels: airplane, automobile, bird, cat)"),
    ('/item[colour="red"]', "invalid filter '/item[colour=\"red\"]': unknown field 'colour' "
                            "(known: annotation/label, annotation/label_id, subset, id)"),
    ('/item[subset="train"]', "filter '/item[subset=\"train\"]': no subset 'train' "
                              "(subsets: data_batch_1, test_batch)"),
    ('/item[id="a" and]', "invalid filter '/item[id=\"a\" and]': expected word at 'the end' "
                          "(forms: annotation/label=\"NAME\", subset=\"S\", id=\"X\", and, or)"),
    ("/item/annotation", "invalid filter '/item/annotation': expected /item[CONDITION]"),
])
def test_bad_xpath_filters(tmp_path, text, message):
    with pytest.raises(UsageError) as info:
        apply_filters(cifar_dataset(tmp_path), [text])
    assert str(info.value) == message


def test_cli_accepts_datumaros_spelling(cli, tmp_path):
    dm = write_all(tmp_path / "dm")
    result = cli("convert", "-if", "mnist", "--input-path", str(dm / "mnist_dataset"), "-f", "mnist_csv",
                 "-o", str(tmp_path / "out"), "--filter", '/item[annotation/label="7" or annotation/label="0"]')
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"wrote 2 items (test 1, train 1) in the mnist_csv layout to {tmp_path / 'out'}"
    )
    result = cli("convert", "-if", "mnist", "-i", str(dm / "mnist_dataset"), "-f", "cifar",
                 "-o", str(tmp_path / "nomedia"), "--no-save-media")
    assert result.returncode == 0, result.stderr
    assert read(tmp_path / "nomedia", "cifar").subsets["train"].images is None


# --- 8: imagenet input folders -------------------------------------------------------


def image_folder(root: Path) -> Path:
    for name in ["cat/a.png", "dog/b.png"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(png_bytes(np.full((2, 2), 5, np.uint8)))
    return root


def test_non_image_files_are_named(tmp_path, caplog):
    pytest.importorskip("PIL")
    folder = image_folder(tmp_path / "in")
    (folder / "cat/notes.txt").write_text("hello")
    with caplog.at_level(logging.WARNING, logger="datamaestro"):
        ds = read(folder, "imagenet")
    assert len(ds) == 2
    assert [r.getMessage() for r in caplog.records] == [
        f"{folder / 'cat/notes.txt'}: not an image file (by its extension): skipped"
    ]


def test_links_outside_are_refused_unless_allowed(tmp_path, cli):
    pytest.importorskip("PIL")
    folder = image_folder(tmp_path / "in")
    outside = image_folder(tmp_path / "elsewhere")
    (folder / "bird").symlink_to(outside / "cat")
    with pytest.raises(UnsafePathError) as info:
        read(folder, "imagenet")
    assert str(info.value) == (
        f"{folder / 'bird'}: a symbolic link to {outside / 'cat'}, outside {folder}; "
        "pass --allow-outside-links to follow it"
    )
    ds = read(folder, "imagenet", allow_outside_links=True)
    assert ds.categories == ["bird", "cat", "dog"]
    (folder / "bird").unlink()
    (folder / "cat/c.png").symlink_to(outside / "dog/b.png")
    result = cli("convert", "-if", "imagenet", "-i", str(folder), "-f", "cifar", "-o", str(tmp_path / "o"))
    assert result.returncode == 1
    assert result.stderr == (
        f"datamaestro: error: {folder / 'cat/c.png'}: a symbolic link to {outside / 'dog/b.png'}, "
        f"outside {folder}; pass --allow-outside-links to follow it\n"
    )
    result = cli("convert", "-if", "imagenet", "-i", str(folder), "-f", "cifar", "-o", str(tmp_path / "o"),
                 "--allow-outside-links")
    assert result.returncode == 0, result.stderr


def test_link_loop_makes_no_class(tmp_path, caplog):
    pytest.importorskip("PIL")
    folder = image_folder(tmp_path / "in")
    (folder / "cat/again").symlink_to(folder / "cat")
    with caplog.at_level(logging.WARNING, logger="datamaestro"):
        ds = read(folder, "imagenet")
    assert ds.categories == ["cat", "dog"]
    assert len(ds) == 2
    assert [r.getMessage() for r in caplog.records] == [
        f"{folder / 'cat/again'}: a symbolic link to {folder / 'cat'}, which holds it (a loop): skipped"
    ]


def test_inside_links_are_followed(tmp_path):
    pytest.importorskip("PIL")
    folder = image_folder(tmp_path / "in")
    (folder / "kitten").symlink_to(folder / "cat")
    ds = read(folder, "imagenet")
    assert ds.categories == ["cat", "dog", "kitten"]  # as Datumaro reads it: one more class, not a loop
    assert ds.subsets["default"].item_ids() == ["cat:a", "dog:b", "kitten:a"]


# --- issue 10 item 6: absurd IDX headers ---------------------------------------------


def test_absurd_idx_header_is_one_line(tmp_path):
    from datamaestro.formats import idx

    path = tmp_path / "huge.idx"
    path.write_bytes(struct.pack(">HBBIII", 0, 0x08, 3, 100, 1 << 31, 1 << 31) + b"\0" * 10)
    with pytest.raises(FormatError) as info:
        idx.read(path)
    assert str(info.value) == (
        f"{path}: truncated IDX data: header announces 100x2147483648x2147483648 uint8 values "
        "(461168601842738790400 bytes from offset 16), file has 10"
    )
    path.write_bytes(struct.pack(">HBBIIII", 0, 0x0E, 4, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF))
    with pytest.raises(FormatError, match="truncated IDX data"):
        idx.from_bytes(path.read_bytes(), str(path))


def test_mnist_meta_sizes_are_checked(tmp_path):
    dm = write_all(tmp_path / "dm") / "mnist_dataset"
    meta = np.array([["99999999999999999", "3"], ["1", "1"]], dtype="<U32")
    (dm / "train-meta.gz").write_bytes(gzip.compress(meta.tobytes()))
    with pytest.raises(FormatError) as info:
        read(dm, "mnist")
    assert str(info.value) == (
        f"{dm / 'train-meta.gz'}: item 0: image size '99999999999999999' x '3' is not two numbers up to 65536"
    )


def test_dataset_meta_json_still_read(tmp_path):
    """--save-dataset-meta on the array layouts: Datumaro's dataset_meta.json, read by both."""
    write(fashion_like(), tmp_path / "out", "mnist", save_dataset_meta=True)
    assert json.loads((tmp_path / "out/dataset_meta.json").read_text()) == {"labels": FASHION}
