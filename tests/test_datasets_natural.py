"""SVHN, STL-10 and CIFAR-10.1, from fixtures in their exact published layouts.

The fixtures are built here: MATLAB v5 files written with scipy.io.savemat,
STL-10's tar.gz of column-major binaries, CIFAR-10.1's ``.npy`` files. As
their checksums are not the published ones, each test first serves them on
loopback under the definition's real URLs and asserts that prepare refuses
them for that mismatch, then prepares from the same files with
``--from DIR --no-verify`` and checks the typed objects end to end.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from published import check_refused_download, prepare_local, tar_gz

from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.errors import FormatError

scipy_io = pytest.importorskip("scipy.io", reason="the SVHN tests write .mat files with scipy (extra 'test')")

SVHN_BASES = ["https://ufldl.stanford.edu/housenumbers/", "http://ufldl.stanford.edu/housenumbers/"]


def mat_bytes(**variables: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    scipy_io.savemat(buffer, variables, format="5")
    return buffer.getvalue()


def svhn_files() -> tuple[dict[str, bytes], dict[str, tuple[np.ndarray, np.ndarray]]]:
    rng = np.random.default_rng(2)
    files, expected = {}, {}
    for split, n in (("train", 5), ("test", 3)):
        images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)  # NCHW, upright
        images[:, 0, 0, :] = 255  # red top row
        digits = np.array([0, 1, 9, 0, 5][:n])
        stored = np.ascontiguousarray(images.transpose(2, 3, 1, 0))  # MATLAB's X: (32, 32, 3, N)
        y = np.where(digits == 0, 10, digits).astype(np.uint8).reshape(n, 1)  # 10 stands for 0
        files[f"{split}_32x32.mat"] = mat_bytes(X=stored, y=y)
        expected[split] = (images, digits)
    return files, expected


def test_svhn(env, server, tmp_path: Path):
    files, expected = svhn_files()
    check_refused_download(
        env, server, "edu.stanford.svhn", SVHN_BASES, files,
        "sha256:435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8",
    )
    ds = prepare_local(tmp_path / "published", "edu.stanford.svhn", files)
    assert isinstance(ds, ImageClassification) and ds.categories == [str(d) for d in range(10)]
    for split, (images, digits) in expected.items():
        data = getattr(ds, split)
        got = data.images.data()
        assert got.shape == images.shape and got.dtype == np.uint8
        assert np.array_equal(got, images)
        assert (got[:, 0, 0, :] == 255).all()
        assert data.labels.data().tolist() == digits.tolist()
    x, _ = ds.train.arrays(layout="NHWC")
    assert x.shape == (5, 32, 32, 3) and np.array_equal(x[1], expected["train"][0][1].transpose(1, 2, 0))


def test_svhn_extra_is_one_split(env, server, cli, tmp_path: Path):
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    digits = np.array([3, 0, 7, 0])
    files = {"extra_32x32.mat": mat_bytes(X=np.ascontiguousarray(images.transpose(2, 3, 1, 0)), y=np.where(digits == 0, 10, digits).reshape(4, 1).astype(np.uint8))}
    check_refused_download(
        env, server, "edu.stanford.svhn-extra", SVHN_BASES, files,
        "sha256:a133a4beb38a00fcdda90c9489e0c04f900b660ce8a316a5e854838379a71eb3",
    )
    ds = prepare_local(tmp_path / "published", "edu.stanford.svhn-extra", files)
    assert type(ds) is LabelledImages and ds.categories == [str(d) for d in range(10)]
    assert np.array_equal(ds.images.data(), images) and ds.labels.data().tolist() == [3, 0, 7, 0]
    info = json.loads(cli("info", "--json", "edu.stanford.svhn-extra").stdout)
    assert info["splits"]["all"]["count"] == 4 and info["splits"]["all"]["image_shape"] == [3, 32, 32]
    assert info["splits"]["all"]["labels"]["0"] == 2


def test_svhn_mat_without_y_is_refused(tmp_path: Path):
    files, _ = svhn_files()
    files["train_32x32.mat"] = mat_bytes(X=np.zeros((32, 32, 3, 2), np.uint8))
    with pytest.raises(FormatError, match=r"train_32x32.mat: expected the variables X and y"):
        prepare_local(tmp_path / "published", "edu.stanford.svhn", files)


def test_svhn_without_scipy_names_the_extra(env, tmp_path: Path):
    files, _ = svhn_files()
    (tmp_path / "published").mkdir()
    for name, data in files.items():
        (tmp_path / "published" / name).write_bytes(data)
    program = (
        "import sys; sys.modules['scipy'] = None\n"  # as if scipy were not installed
        "from datamaestro.cli.main import main\n"
        f"sys.exit(main(['prepare', 'edu.stanford.svhn', '--from', {str(tmp_path / 'published')!r}, '--no-verify']))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "datamaestro: error: scipy is needed for reading MATLAB .mat files: pip install scipy "
        "(or, in datamaestro's checkout, pip install -e '.[mat]')"
    )
    assert "Traceback" not in result.stderr


# --- STL-10 -----------------------------------------------------------------

STL_BASES = ["https://ai.stanford.edu/~acoates/stl10/", "http://ai.stanford.edu/~acoates/stl10/"]
STL_CLASSES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]


def stl10_archive() -> tuple[bytes, dict[str, tuple[np.ndarray, np.ndarray]]]:
    rng = np.random.default_rng(10)
    members: dict[str, bytes] = {
        "stl10_binary/class_names.txt": ("\n".join(STL_CLASSES) + "\n").encode(),
        "stl10_binary/fold_indices.txt": b"0 1\n2 3\n",
    }
    expected = {}
    for split, n in (("train", 4), ("test", 2)):
        images = rng.integers(0, 200, (n, 3, 96, 96), dtype=np.uint8)  # upright, channel first
        images[:, :, 0, :] = 255  # a white top row
        labels = rng.integers(0, 10, n)
        # published layout: each channel column by column (column-major)
        members[f"stl10_binary/{split}_X.bin"] = np.ascontiguousarray(images.transpose(0, 1, 3, 2)).tobytes()
        members[f"stl10_binary/{split}_y.bin"] = (labels + 1).astype(np.uint8).tobytes()
        expected[split] = (images, labels)
    members["stl10_binary/unlabeled_X.bin"] = rng.integers(0, 256, 2 * 3 * 96 * 96, dtype=np.uint8).tobytes()
    return tar_gz(members), expected


def test_stl10_upright(env, server, tmp_path: Path):
    archive, expected = stl10_archive()
    files = {"stl10_binary.tar.gz": archive}
    check_refused_download(
        env, server, "edu.stanford.stl-10", STL_BASES, files,
        "sha256:f31fd99273a1acb8609c8db427cebb1de3f71de77758cdc0e22956e1289b9866",
    )
    ds = prepare_local(tmp_path / "published", "edu.stanford.stl-10", files)
    assert ds.categories == STL_CLASSES
    for split, (images, labels) in expected.items():
        data = getattr(ds, split)
        got = data.images.data()
        assert got.shape == images.shape == (len(labels), 3, 96, 96) and got.dtype == np.uint8
        assert np.array_equal(got, images)
        assert (got[:, :, 0, :] == 255).all() and not (got[:, :, :, 0] == 255).all()
        assert data.labels.data().tolist() == labels.tolist()
    assert ds.test.text_labels(int(expected["test"][1][0])) == STL_CLASSES[int(expected["test"][1][0])]


def test_stl10_unlabelled_split(env, server, tmp_path: Path):
    archive, _ = stl10_archive()
    files = {"stl10_binary.tar.gz": archive}
    check_refused_download(
        env, server, "edu.stanford.stl-10-unlabeled", STL_BASES, files,
        "sha256:f31fd99273a1acb8609c8db427cebb1de3f71de77758cdc0e22956e1289b9866",
    )
    ds = prepare_local(tmp_path / "published", "edu.stanford.stl-10-unlabeled", files)
    assert type(ds) is LabelledImages and ds.categories == STL_CLASSES
    raw = np.random.default_rng(10)  # the archive's unlabelled bytes, drawn after the labelled splits
    for n in (4, 2):
        raw.integers(0, 200, (n, 3, 96, 96), dtype=np.uint8)
        raw.integers(0, 10, n)
    stored = raw.integers(0, 256, 2 * 3 * 96 * 96, dtype=np.uint8).reshape(2, 3, 96, 96)
    got = ds.images.data()
    assert got.shape == (2, 3, 96, 96) and got.dtype == np.uint8
    assert np.array_equal(got, stored.transpose(0, 1, 3, 2))  # column-major on disk, upright here
    assert ds.labels.data().tolist() == [-1, -1] and ds.labels.data().dtype == np.int64


def test_stl10_folds(env, server, tmp_path: Path):
    archive, expected = stl10_archive()
    files = {"stl10_binary.tar.gz": archive}
    folds = prepare_local(tmp_path / "published", "edu.stanford.stl-10-folds", files).data()
    assert folds.tolist() == [[0, 1], [2, 3]] and folds.dtype == np.int64
    train = prepare_local(tmp_path / "published", "edu.stanford.stl-10", files).train
    assert np.array_equal(train.images.data()[folds[1]], expected["train"][0][2:4])


def test_stl10_fold_index_outside_the_training_images_is_refused(tmp_path: Path):
    archive = tar_gz({"stl10_binary/fold_indices.txt": b"0 1\n2 5000\n"})
    with pytest.raises(FormatError, match=r"fold_indices.txt: an index lies outside the 5000 training images \(0..4999\)"):
        prepare_local(tmp_path / "published", "edu.stanford.stl-10-folds", {"stl10_binary.tar.gz": archive})


def test_stl10_partial_image_is_refused(tmp_path: Path):
    archive = tar_gz(
        {
            "stl10_binary/class_names.txt": b"a\nb\n",
            "stl10_binary/train_X.bin": b"\0" * 1000,
            "stl10_binary/train_y.bin": b"\1",
        }
    )
    with pytest.raises(FormatError, match=r"train_X.bin: 1000 bytes is not a whole number of 3x96x96 images"):
        prepare_local(tmp_path / "published", "edu.stanford.stl-10", {"stl10_binary.tar.gz": archive})


# --- CIFAR-10.1 -------------------------------------------------------------

CIFAR101_BASES = [
    "https://raw.githubusercontent.com/modestyachts/CIFAR-10.1/d9982abb0bfc4846b8d13a11e66b887d946205d0/datasets/",
    "https://github.com/modestyachts/CIFAR-10.1/blob/d9982abb0bfc4846b8d13a11e66b887d946205d0/datasets/",
]


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "dataset_id,version,published",
    [
        ("com.github.modestyachts.cifar-10.1", "v6", "sha256:2997188e5816f5bd545dc77771b6227828c28146049fcecf3fa10775474cacc6"),
        ("com.github.modestyachts.cifar-10.1-v4", "v4", "sha256:5aaedc268df8f4cffca2ac0cf9e608ae1897a8cddb630c7a850a2ea8f6558e75"),
    ],
)
def test_cifar10_1(env, server, tmp_path: Path, dataset_id: str, version: str, published: str):
    rng = np.random.default_rng(101)
    images = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, 6).astype(np.int32)
    files = {f"cifar10.1_{version}_data.npy": npy_bytes(images), f"cifar10.1_{version}_labels.npy": npy_bytes(labels)}
    check_refused_download(env, server, dataset_id, CIFAR101_BASES, files, published)

    ds = prepare_local(tmp_path / "published", dataset_id, files)
    assert ds.train is None and ds.categories[:2] == ["airplane", "automobile"]
    got = ds.test.images.data()
    assert isinstance(got, np.memmap) and np.array_equal(got, images)
    assert ds.test.labels.data().tolist() == labels.tolist()
    x, y = ds.test.arrays(layout="NCHW", one_hot=True)
    assert x.shape == (6, 3, 32, 32) and y.shape == (6, 10)
    assert ds.test.text_labels(int(labels[0])) == ds.categories[int(labels[0])]
