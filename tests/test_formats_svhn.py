"""SVHN's .mat files: hostile or broken ones are one-line errors naming the file, never tracebacks.

The files are written here with scipy.io.savemat (MATLAB v5, as published):
``X`` (32, 32, 3, N) uint8 and ``y`` (N, 1) with 10 standing for the digit 0.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from datamaestro.errors import FormatError
from datamaestro.formats import svhn

scipy_io = pytest.importorskip("scipy.io", reason="the SVHN tests write .mat files with scipy (extra 'test')")

ADVICE = "the file is corrupt or not SVHN's; use an intact copy"


def mat_bytes(**variables: object) -> bytes:
    buffer = io.BytesIO()
    scipy_io.savemat(buffer, variables, format="5")
    return buffer.getvalue()


def good_variables(n: int = 3) -> dict[str, np.ndarray]:
    images = np.random.default_rng(0).integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    return {"X": images, "y": np.array([10, 1, 9][:n], dtype=np.uint8).reshape(n, 1)}


def written(tmp_path: Path, data: bytes, name: str = "train_32x32.mat") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def error(path: Path) -> str:
    with pytest.raises(FormatError) as e:
        svhn.read(path)
    return str(e.value)


def test_a_good_file_gives_upright_images_and_digits(tmp_path):
    variables = good_variables()
    images, labels = svhn.read(written(tmp_path, mat_bytes(**variables)))
    assert images.shape == (3, 3, 32, 32) and images.dtype == np.uint8
    assert np.array_equal(images[1], variables["X"][:, :, :, 1].transpose(2, 0, 1))
    assert labels.tolist() == [0, 1, 9] and labels.dtype == np.int64


def test_an_empty_file(tmp_path):
    """Was scipy's MatReadError traceback."""
    path = written(tmp_path, b"")
    assert error(path) == f"{path}: not a readable MATLAB v5 .mat file (Mat file appears to be truncated); {ADVICE}"


def test_y_as_text(tmp_path):
    """Was numpy's UFuncTypeError traceback (comparing strings with numbers)."""
    path = written(tmp_path, mat_bytes(X=good_variables()["X"], y=np.array(["abc"])))
    assert error(path) == f"{path}: y should hold numbers (labels 1 to 10), got <U3 values; {ADVICE}"


def test_images_of_7x9_are_refused(tmp_path):
    """Were accepted: only the channel count was checked."""
    path = written(tmp_path, mat_bytes(X=np.zeros((7, 9, 3, 3), np.uint8), y=good_variables()["y"]))
    assert error(path) == f"{path}: X should be (32, 32, 3, N) uint8, got (7, 9, 3, 3) uint8; {ADVICE}"


@pytest.mark.parametrize("y", [[[0], [1], [2]], [[11], [1], [2]], [[1.5], [1], [2]]])
def test_labels_outside_1_to_10(tmp_path, y):
    path = written(tmp_path, mat_bytes(X=good_variables()["X"], y=np.array(y)))
    assert error(path) == f"{path}: y should hold labels 1 to 10 (10 for the digit 0); {ADVICE}"


def test_as_many_labels_as_images(tmp_path):
    path = written(tmp_path, mat_bytes(X=good_variables(3)["X"], y=np.array([[1], [2]])))
    assert error(path) == f"{path}: 3 images in X but 2 labels in y; {ADVICE}"


def test_missing_variable(tmp_path):
    path = written(tmp_path, mat_bytes(X=good_variables()["X"]))
    assert error(path) == f"{path}: expected the variables X and y; {ADVICE}"


def test_a_mat_file_that_is_not_one(tmp_path):
    path = written(tmp_path, b"MATLAB 5.0 MAT-file" + b"\x00" * 200)
    assert error(path).startswith(f"{path}: not a readable MATLAB v5 .mat file (")


@pytest.mark.parametrize("case", ["empty", "7x9", "text y"])
def test_prepare_refuses_a_hostile_svhn_file_in_one_line(env, cli, tmp_path, case):
    folder = tmp_path / "published"
    folder.mkdir()
    good = mat_bytes(**good_variables())
    hostile = {
        "empty": b"",
        "7x9": mat_bytes(X=np.zeros((7, 9, 3, 3), np.uint8), y=good_variables()["y"]),
        "text y": mat_bytes(X=good_variables()["X"], y=np.array(["abc"])),
    }[case]
    (folder / "train_32x32.mat").write_bytes(hostile)
    (folder / "test_32x32.mat").write_bytes(good)
    result = cli("prepare", "edu.stanford.svhn", "--from", str(folder), "--no-verify")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("datamaestro: error: ") and "train_32x32.mat" in last and ADVICE in last
    assert "Traceback" not in result.stderr
