"""Bad input: one line naming the file and the row/offset, exit 1, nothing half-done in the output."""

from __future__ import annotations

import gzip
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from datumaro_layouts import write_all
from makefiles import gz, idx_bytes

from datamaestro.errors import FormatError
from datamaestro.formats import cifar


def csv_folder(tmp_path: Path, rows: list[str]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "mnist_train.csv").write_text("\n".join(rows) + "\n")
    return folder


def row(label: int | str = 3, pixels: list | None = None) -> str:
    return ",".join(map(str, [label, *(pixels if pixels is not None else [7] * 784)]))


def mnist_folder(tmp_path: Path, n_images: int = 3, n_labels: int = 3, labels: list[int] | None = None) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    images = np.zeros((n_images, 28, 28), np.uint8)
    values = np.array(labels if labels is not None else [1] * n_labels, np.uint8)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gz(idx_bytes(images)))
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gz(idx_bytes(values)))
    return folder


def run_convert(cli, folder: Path, fmt: str, out: Path):
    return cli("convert", "-if", fmt, "-i", str(folder), "-f", "cifar", "-o", str(out))


def check_failure(cli, tmp_path: Path, folder: Path, fmt: str, message: str) -> None:
    for out in (tmp_path / "out-new", tmp_path / "out-empty"):
        if out.name == "out-empty":
            out.mkdir()
        result = run_convert(cli, folder, fmt, out)
        assert result.returncode == 1
        assert result.stdout == ""
        assert result.stderr == f"datamaestro: error: {message}\n"
        # nothing half-done: a new output is not created, an empty one stays empty
        assert (not out.exists()) if out.name == "out-new" else list(out.iterdir()) == []
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_csv_row_with_wrong_number_of_values(cli, tmp_path):
    folder = csv_folder(tmp_path, [row(), row(pixels=[7] * 783), row()])
    check_failure(cli, tmp_path, folder, "mnist_csv",
                  f"{folder}/mnist_train.csv: row 2: 784 values, expected 785 (a label then 784 pixels)")


def test_csv_non_numeric_pixel(cli, tmp_path):
    folder = csv_folder(tmp_path, [row(), row(), row(pixels=[7] * 10 + ["x7"] + [7] * 773)])
    check_failure(cli, tmp_path, folder, "mnist_csv",
                  f"{folder}/mnist_train.csv: row 3, column 12: pixel value 'x7' is not an integer")


def test_csv_out_of_range_pixel(cli, tmp_path):
    folder = csv_folder(tmp_path, [row(), row(pixels=[256] + [7] * 783)])
    check_failure(cli, tmp_path, folder, "mnist_csv",
                  f"{folder}/mnist_train.csv: row 2, column 2: pixel value 256 is outside 0..255")


def test_csv_negative_pixel(cli, tmp_path):
    folder = csv_folder(tmp_path, [row(pixels=[7] * 783 + [-3])])
    check_failure(cli, tmp_path, folder, "mnist_csv",
                  f"{folder}/mnist_train.csv: row 1, column 785: pixel value -3 is outside 0..255")


def test_csv_label_outside_label_list(cli, tmp_path):
    folder = csv_folder(tmp_path, [row(), row(), row(), row(label=12)])
    check_failure(cli, tmp_path, folder, "mnist_csv",
                  f"{folder}/mnist_train.csv: row 4: label 12 is outside the label list (0..9); "
                  "add the class names to labels.txt")


def test_csv_label_inside_a_custom_label_list(cli, tmp_path):
    folder = csv_folder(tmp_path, [row(label=12)])
    (folder / "labels.txt").write_text("".join(f"c{i}\n" for i in range(13)))
    result = run_convert(cli, folder, "mnist_csv", tmp_path / "out")
    assert result.returncode == 0, result.stderr


def test_idx_label_outside_label_list(cli, tmp_path):
    folder = mnist_folder(tmp_path, labels=[1, 10, 2])
    check_failure(cli, tmp_path, folder, "mnist",
                  f"{folder}/train-labels-idx1-ubyte.gz: label 10 of item 1 (offset 9) is outside the "
                  "label list (0..9); add the class names to labels.txt")


def test_idx_image_and_label_counts_disagree(cli, tmp_path):
    folder = mnist_folder(tmp_path, n_images=3, n_labels=2)
    check_failure(cli, tmp_path, folder, "mnist",
                  f"{folder}/train-images-idx3-ubyte.gz: 3 images but train-labels-idx1-ubyte.gz has 2 labels; "
                  "the two files must hold the same number of items")


def test_truncated_gzip(cli, tmp_path):
    folder = mnist_folder(tmp_path)
    path = folder / "train-images-idx3-ubyte.gz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    check_failure(cli, tmp_path, folder, "mnist",
                  f"{path}: truncated gzip file: the compressed stream ends at offset {len(data) // 2} "
                  "before its end marker; download it again")


def test_truncated_idx_inside_gzip(cli, tmp_path):
    folder = mnist_folder(tmp_path)
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.ones(3, np.uint8))[:-1]))
    check_failure(cli, tmp_path, folder, "mnist",
                  f"{path}: truncated IDX data: header announces 3 uint8 values (3 bytes from offset 8), file has 2")


@pytest.mark.parametrize("key,message", [
    ("labels", "CIFAR batch has no 'labels' (nor 'fine_labels') key"),
    ("data", "CIFAR batch has no 'data' key"),
])
def test_cifar_batch_missing_a_key(cli, tmp_path, key, message):
    dm = write_all(tmp_path / "dm")
    folder = tmp_path / "in"
    shutil.copytree(dm / "cifar10_dataset", folder)
    for p in folder.iterdir():
        p.chmod(0o644)
    content = pickle.loads((folder / "test_batch").read_bytes())
    del content[key]
    (folder / "test_batch").write_bytes(pickle.dumps(content))
    check_failure(cli, tmp_path, folder, "cifar", f"{folder}/test_batch: {message}")


def test_cifar_image_of_the_wrong_size(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a"]}))
    data = np.zeros((2, 3072), np.uint8)
    batch = {"data": np.array([data[0], data[1][:-1]], dtype=object), "labels": [0, 0], "filenames": ["a", "b"]}
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch))
    check_failure(cli, tmp_path, folder, "cifar",
                  f"{folder}/data_batch_1: image 1 has 3071 values, expected 3x32x32 = 3072")


def cifar_folder(tmp_path: Path, labels: list) -> Path:
    """A CIFAR-10 layout of one batch whose labels are ``labels`` (one image each)."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a", "b"]}))
    batch = {"data": np.zeros((len(labels), 3072), np.uint8), "labels": labels,
             "filenames": [f"{i}.png" for i in range(len(labels))]}
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch))
    return folder


@pytest.mark.parametrize("label", [2**70, -(2**70), 2**63])
def test_cifar_label_too_large_for_64_bits(cli, tmp_path, label):
    """Was an OverflowError traceback."""
    folder = cifar_folder(tmp_path, [1, label])
    check_failure(cli, tmp_path, folder, "cifar",
                  f"{folder}/data_batch_1: item 1 has a label in 'labels' too large for 64 bits: "
                  "the file is corrupt or hostile; use an intact copy")


def test_cifar_label_infinite(cli, tmp_path):
    folder = cifar_folder(tmp_path, [float("inf")])
    check_failure(cli, tmp_path, folder, "cifar", f"{folder}/data_batch_1: 'labels' must be a list of integers")


def test_cifar_label_too_large_when_prepared(tmp_path):
    """The same check where a CIFAR dataset is prepared (its batches become arrays)."""
    folder = cifar_folder(tmp_path, [2**70])
    (folder / "data_batch_1").rename(folder / "test_batch")
    out = tmp_path / "arrays"
    out.mkdir()
    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": [0]}))
    with pytest.raises(FormatError, match=r"test_batch: item 0 has a label in 'labels' too large for 64 bits"):
        cifar.batches_to_arrays(folder, out)


@pytest.mark.parametrize("size,problem", [
    (5, "is not a (height, width) pair of integers"),
    ((2, 2, 2), "is not a (height, width) pair of integers"),
    (("a", 2), "is not a (height, width) pair of integers"),
    ((-2, -2), "is -2x-2: sizes must be positive"),
])
def test_cifar_image_sizes_entry_that_is_no_size(cli, tmp_path, size, problem):
    """Datumaro's image_sizes extension: an entry that is not two integers was a TypeError traceback."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a"]}))
    data = np.empty(1, dtype=object)
    data[0] = np.zeros(12, np.uint8)
    batch = {"data": data, "labels": [0], "filenames": ["a.png"], "image_sizes": [size]}
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch))
    check_failure(cli, tmp_path, folder, "cifar", f"{folder}/data_batch_1: 'image_sizes' entry 0 {problem}")


def test_unknown_format_and_missing_folder(cli, tmp_path):
    result = cli("convert", "-if", "labelme", "-i", str(tmp_path), "-f", "cifar", "-o", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "invalid choice: 'labelme'" in result.stderr
    result = cli("convert", "-if", "mnist", "-i", str(tmp_path / "nope"), "-f", "cifar", "-o", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr == f"datamaestro: error: {tmp_path / 'nope'}: no such folder\n"
    result = cli("convert", "-if", "mnist", "-i", str(tmp_path), "-f", "cifar", "-o", str(tmp_path / "o"))
    assert result.returncode == 1
    assert result.stderr == (
        f"datamaestro: error: {tmp_path}: no '*-labels-idx1-ubyte.gz' file: not the mnist layout\n"
    )


@pytest.mark.parametrize("side", [13000, 14000])  # over max_image_pixels; over twice Pillow's own limit
def test_imagenet_folder_with_a_decompression_bomb(cli, tmp_path, side):
    """A small PNG announcing a huge image was an uncaught DecompressionBombError (14000) or 170 MB of
    decoding (13000): refused from its header, one line naming the file."""
    Image = pytest.importorskip("PIL.Image")
    folder = tmp_path / "in"
    (folder / "cat").mkdir(parents=True)
    Image.new("1", (side, side)).save(folder / "cat" / "a.png")
    if side == 13000:
        message = f"{folder}/cat/a.png: refused: 13000x13000 is 169,000,000 pixels, more than the 64,000,000 an image may have (max_pixels)"
    else:
        message = f"{folder}/cat/a.png: refused: more than twice Pillow's limit of 89,478,485 pixels per image"
    check_failure(cli, tmp_path, folder, "imagenet", message)
