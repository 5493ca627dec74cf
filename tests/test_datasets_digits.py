"""KMNIST, Kuzushiji-49, EMNIST, QMNIST and USPS, from fixtures in their exact published layouts.

Each fixture is built here (npz files, a zip of gzipped IDX files, gzipped
int32 IDX, bzip2 LIBSVM text). Its checksum is not the published one, so each
test first serves it on loopback under the definition's real URLs (the
``mirrors`` setting) and asserts that prepare refuses it for that mismatch,
naming the published checksum; then it prepares from the same files with
``--from DIR --no-verify`` and checks the typed objects end to end.
"""

from __future__ import annotations

import bz2
import io
import json
import lzma
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from makefiles import gz, idx_bytes
from published import check_refused_download, prepare_local

from datamaestro.api import from_json, to_json
from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.qmnist import EXTENDED_COLUMNS, ExtendedLabelledImages
from datamaestro.errors import FormatError

CODH = ["https://codh.rois.ac.jp/kmnist/dataset/", "http://codh.rois.ac.jp/kmnist/dataset/"]


def npz(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, array)  # stored as arr_0, as the published files
    return buffer.getvalue()


def classmap(chars: list[str]) -> bytes:
    rows = ["index,codepoint,char"] + [f"{k},U+{ord(c):04X},{c}" for k, c in enumerate(chars)]
    return ("\n".join(rows) + "\n").encode("utf-8")


def kuzushiji_files(prefix: str, classes: int, seed: int) -> tuple[dict[str, bytes], dict[str, np.ndarray], list[str]]:
    rng = np.random.default_rng(seed)
    chars = [chr(0x3042 + k) for k in range(classes)]
    arrays = {}
    files = {f"{prefix}_classmap.csv": classmap(chars)}
    for split, n in (("train", 7), ("test", 3)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.integers(0, classes, n).astype(np.uint8)
        files[f"{prefix}-{split}-imgs.npz"] = npz(arrays[f"{split}_images"])
        files[f"{prefix}-{split}-labels.npz"] = npz(arrays[f"{split}_labels"])
    return files, arrays, chars


@pytest.mark.parametrize(
    "dataset_id,prefix,folder,classes,published",
    [
        ("jp.ac.rois.codh.kmnist", "kmnist", "kmnist", 10, "md5:a183fbc01ed9a345513b145673d3d0bb"),
        ("jp.ac.rois.codh.k49", "k49", "k49", 49, "md5:7ac088b20481cf51dcd01ceaab89d821"),
    ],
)
def test_kuzushiji(env, server, tmp_path: Path, dataset_id, prefix, folder, classes, published):
    files, arrays, chars = kuzushiji_files(prefix, classes, seed=classes)
    ordered = {f"{prefix}-train-imgs.npz": files.pop(f"{prefix}-train-imgs.npz"), **files}
    check_refused_download(env, server, dataset_id, [b + folder + "/" for b in CODH], ordered, published)

    ds = prepare_local(tmp_path / "published", dataset_id, ordered)
    assert isinstance(ds, ImageClassification)
    assert ds.categories == chars and len(ds.categories) == classes
    for split in ("train", "test"):
        data = getattr(ds, split)
        images, labels = data.images.data(), data.labels.data()
        assert isinstance(images, np.memmap) and images.dtype == np.uint8
        assert np.array_equal(images, arrays[f"{split}_images"])
        assert labels.dtype == np.int64 and labels.tolist() == arrays[f"{split}_labels"].tolist()
    assert ds.train.text_labels(int(ds.train.labels.data()[0])) == chars[int(arrays["train_labels"][0])]
    x, y = ds.test.arrays(normalize=True, one_hot=True)
    assert x.shape == (3, 28, 28) and y.shape == (3, classes)


def test_kuzushiji_npz_without_arr_0_is_refused(tmp_path: Path):
    files, _, _ = kuzushiji_files("kmnist", 10, seed=1)
    buffer = io.BytesIO()
    np.savez(buffer, images=np.zeros((7, 28, 28), np.uint8))
    files["kmnist-train-imgs.npz"] = buffer.getvalue()
    with pytest.raises(FormatError, match=r"kmnist-train-imgs.npz: no array 'arr_0' in the .npz file \(found: images\)"):
        prepare_local(tmp_path / "published", "jp.ac.rois.codh.kmnist", files)


def test_kuzushiji_npz_claiming_a_huge_array_is_refused(tmp_path: Path):
    files, _, _ = kuzushiji_files("kmnist", 10, seed=1)
    header = {"descr": "|u1", "fortran_order": False, "shape": (10**9, 28, 28)}
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, header)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("arr_0.npy", member.getvalue() + bytes(1000))
    files["kmnist-train-imgs.npz"] = buffer.getvalue()
    with pytest.raises(FormatError, match=r"kmnist-train-imgs.npz: arr_0 claims \(1000000000, 28, 28\) uint8, more than the file can hold"):
        prepare_local(tmp_path / "published", "jp.ac.rois.codh.kmnist", files)


# --- EMNIST -----------------------------------------------------------------

EMNIST_BASES = ["https://biometrics.nist.gov/cs_links/EMNIST/"]
EMNIST_SHA256 = "sha256:fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e"
DIGITS = [ord(c) for c in "0123456789"]
UPPER = [ord(c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
LOWER = [ord(c) for c in "abcdefghijklmnopqrstuvwxyz"]
MERGED = set("CIJKLMOPSUVWXYZ")
BALANCED = DIGITS + UPPER + [c for c in LOWER if chr(c).upper() not in MERGED]
#: split -> lines of its mapping file (label, ASCII codes)
EMNIST_MAPPINGS = {
    "byclass": [[k, c] for k, c in enumerate(DIGITS + UPPER + LOWER)],
    "bymerge": [[k, c] for k, c in enumerate(BALANCED)],
    "balanced": [[k, c] for k, c in enumerate(BALANCED)],
    "letters": [[k + 1, u, lo] for k, (u, lo) in enumerate(zip(UPPER, LOWER))],
    "digits": [[k, c] for k, c in enumerate(DIGITS)],
    "mnist": [[k, c] for k, c in enumerate(DIGITS)],
}


def upright_images(rng: np.random.Generator, n: int) -> np.ndarray:
    """Images that are not symmetric: a bar along the top row, random elsewhere."""
    images = rng.integers(0, 100, (n, 28, 28), dtype=np.uint8)
    images[:, 0, :] = 255
    return images


def emnist_zip() -> tuple[bytes, dict[str, dict[str, np.ndarray]]]:
    """gzip.zip as published: gzip/emnist-<split>-<part>-...-ubyte.gz (images transposed) and mappings."""
    rng = np.random.default_rng(7)
    expected: dict[str, dict[str, np.ndarray]] = {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for split, mapping in EMNIST_MAPPINGS.items():
            labels_range = [row[0] for row in mapping]
            expected[split] = {}
            for part, n in (("train", 5), ("test", 2)):
                images = upright_images(rng, n)
                labels = rng.choice(labels_range, n).astype(np.uint8)
                expected[split][f"{part}_images"], expected[split][f"{part}_labels"] = images, labels
                stored = np.ascontiguousarray(images.transpose(0, 2, 1))  # EMNIST stores each image transposed
                z.writestr(f"gzip/emnist-{split}-{part}-images-idx3-ubyte.gz", gz(idx_bytes(stored)))
                z.writestr(f"gzip/emnist-{split}-{part}-labels-idx1-ubyte.gz", gz(idx_bytes(labels)))
            z.writestr(f"gzip/emnist-{split}-mapping.txt", "".join(" ".join(map(str, row)) + "\n" for row in mapping))
    return buffer.getvalue(), expected


@pytest.fixture(scope="module")
def emnist() -> tuple[bytes, dict[str, dict[str, np.ndarray]]]:
    return emnist_zip()


def test_emnist_download_is_checked_against_the_published_sha256(env, server, emnist):
    check_refused_download(env, server, "gov.nist.emnist.letters", EMNIST_BASES, {"gzip.zip": emnist[0]}, EMNIST_SHA256)


@pytest.mark.parametrize("split", list(EMNIST_MAPPINGS))
def test_emnist_splits_are_upright(tmp_path: Path, emnist, split: str):
    archive, expected = emnist
    ds = prepare_local(tmp_path / "published", f"gov.nist.emnist.{split}", {"gzip.zip": archive})
    assert isinstance(ds, ImageClassification)
    for part in ("train", "test"):
        data = getattr(ds, part)
        images = data.images.data()
        assert images.shape == expected[split][f"{part}_images"].shape and images.dtype == np.uint8
        assert np.array_equal(images, expected[split][f"{part}_images"])  # upright: transposed back
        assert (images[:, 0, :] == 255).all()
        assert data.labels.data().tolist() == expected[split][f"{part}_labels"].tolist()
    names = {"byclass": 62, "bymerge": 47, "balanced": 47, "letters": 27, "digits": 10, "mnist": 10}
    assert len(ds.categories) == names[split]
    if split == "letters":
        assert ds.categories[:3] == ["N/A", "Aa", "Bb"]
    elif split == "byclass":
        assert ds.categories[9:11] == ["9", "A"] and ds.categories[-1] == "z"
    elif split == "balanced":
        assert ds.categories[36:] == list("abdefghnqrt")


def test_emnist_truncated_member_is_refused_and_nothing_kept(env, tmp_path: Path):
    buffer = io.BytesIO()
    good = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("gzip/emnist-digits-mapping.txt", "0 48\n1 49\n")
        z.writestr("gzip/emnist-digits-train-images-idx3-ubyte.gz", gz(good[:-100]))
    with pytest.raises(FormatError, match=r"emnist-digits-train-images-idx3-ubyte.gz: truncated IDX data"):
        prepare_local(tmp_path / "published", "gov.nist.emnist.digits", {"gzip.zip": buffer.getvalue()})
    folder = env.data / "datasets" / "gov.nist.emnist.digits"
    assert not (folder / "arrays").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".arrays")]


def test_emnist_header_claiming_more_than_the_file_holds_is_refused(tmp_path: Path):
    lying = struct.pack(">HBBIII", 0, 0x08, 3, 10**9, 28, 28) + bytes(28 * 28)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("gzip/emnist-mnist-mapping.txt", "0 48\n")
        z.writestr("gzip/emnist-mnist-train-images-idx3-ubyte.gz", gz(lying))
    with pytest.raises(FormatError, match=r"announces 1000000000 images of 28x28, more than the file can hold"):
        prepare_local(tmp_path / "published", "gov.nist.emnist.mnist", {"gzip.zip": buffer.getvalue()})


def test_emnist_members_outside_the_folder_are_never_written(env, tmp_path: Path, emnist):
    canary = tmp_path / "canary.txt"
    canary.write_bytes(b"keep me")
    source = zipfile.ZipFile(io.BytesIO(emnist[0]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for info in source.infolist():
            z.writestr(info, source.read(info))
        z.writestr("../../canary.txt", b"overwritten")
        z.writestr(str(canary), b"overwritten")
    ds = prepare_local(tmp_path / "published", "gov.nist.emnist.digits", {"gzip.zip": buffer.getvalue()})
    assert np.array_equal(ds.test.images.data(), emnist[1]["digits"]["test_images"])
    assert canary.read_bytes() == b"keep me"
    folder = env.data / "datasets" / "gov.nist.emnist.digits"
    assert sorted(p.name for p in (folder / "arrays").iterdir()) == [
        "test_images.npy", "test_labels.npy", "train_images.npy", "train_labels.npy"
    ]


def test_emnist_cli_prepare_and_info(env, cli, tmp_path: Path, emnist):
    (tmp_path / "published").mkdir()
    (tmp_path / "published" / "gzip.zip").write_bytes(emnist[0])
    result = cli("prepare", "gov.nist.emnist.mnist", "--from", str(tmp_path / "published"), "--no-verify")
    assert result.returncode == 0, result.stderr
    assert "does not match its published checksum" in result.stderr
    ds = from_json(result.stdout)
    assert np.array_equal(ds.train.images.data(), emnist[1]["mnist"]["train_images"])
    info = json.loads(cli("info", "gov.nist.emnist.mnist", "--json").stdout)
    assert info["license"].startswith("unknown") and info["homepage"].startswith("https://www.nist.gov/")
    assert info["splits"]["train"]["count"] == 5 and info["splits"]["train"]["image_shape"] == [28, 28]
    assert [f["verification"] for f in info["files"]] == [f"published checksum {EMNIST_SHA256}", "computed from gzip.zip"]
    bibtex = cli("info", "gov.nist.emnist.mnist", "--bibtex")
    assert bibtex.returncode == 0 and bibtex.stdout.startswith("@inproceedings{cohen2017emnist,")


# --- QMNIST -----------------------------------------------------------------

QMNIST_BASE = "https://raw.githubusercontent.com/facebookresearch/qmnist/94061367ec2e099ea18c553c75727ecf849ddb9b/"


def test_qmnist_extended_labels(env, server, tmp_path: Path):
    rng = np.random.default_rng(3)
    files, expected = {}, {}
    for split, n in (("train", 6), ("test", 4)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        extended = np.zeros((n, 8), dtype=">i4")
        extended[:, 0] = rng.integers(0, 10, n)
        extended[:, 1] = rng.choice([0, 1, 4], n)
        extended[:, 2] = rng.integers(2100, 2600, n)
        extended[:, 4] = extended[:, 0] + 30
        extended[:, 5] = rng.integers(0, 281770, n)
        files[f"qmnist-{split}-images-idx3-ubyte.gz"] = gz(idx_bytes(images))
        files[f"qmnist-{split}-labels-idx2-int.gz"] = gz(idx_bytes(extended))
        expected[split] = (images, extended)
    check_refused_download(env, server, "com.github.facebookresearch.qmnist", [QMNIST_BASE], files, "md5:ed72d4157d28c017586c42bc6afe6370")

    ds = prepare_local(tmp_path / "published", "com.github.facebookresearch.qmnist", files)
    assert ds.categories == [str(d) for d in range(10)]
    for split, (images, extended) in expected.items():
        data = getattr(ds, split)
        assert isinstance(data, ExtendedLabelledImages) and isinstance(data, LabelledImages)
        assert np.array_equal(data.images.data(), images)
        table = data.extended_labels.data()
        assert table.shape == (len(images), 8) and table.dtype == np.dtype(">i4")
        assert np.array_equal(table, extended)
        assert data.labels.data().tolist() == extended[:, 0].tolist()
        assert data.extended_columns == EXTENDED_COLUMNS and data.extended_columns[2] == "writer"
    _, y = ds.train.arrays(one_hot=True)
    assert y.shape == (6, 10) and y[np.arange(6), expected["train"][1][:, 0]].tolist() == [1.0] * 6
    back = from_json(to_json("com.github.facebookresearch.qmnist", ds))
    assert isinstance(back.test, ExtendedLabelledImages)
    assert np.array_equal(back.test.extended_labels.data(), expected["test"][1])
    assert back.test.labels.data().tolist() == expected["test"][1][:, 0].tolist()


def test_qmnist_nist_digits(env, server, tmp_path: Path):
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    extended = np.zeros((5, 8), dtype=">i4")
    extended[:, 0] = [3, 1, 4, 1, 5]
    extended[:, 2] = [2100, 2100, 2101, 2102, 2102]
    files = {
        "xnist-images-idx3-ubyte.xz": lzma.compress(idx_bytes(images)),
        "xnist-labels-idx2-int.xz": lzma.compress(idx_bytes(extended)),
    }
    dataset_id = "com.github.facebookresearch.qmnist-nist"
    check_refused_download(env, server, dataset_id, [QMNIST_BASE], files, "md5:7f124b3b8ab81486c9d8c2749c17f834")
    ds = prepare_local(tmp_path / "published", dataset_id, files)
    assert type(ds) is ExtendedLabelledImages and ds.categories == [str(d) for d in range(10)]
    assert np.array_equal(ds.images.data(), images)
    assert ds.labels.data().tolist() == [3, 1, 4, 1, 5]
    assert ds.extended_labels.data()[:, 2].tolist() == [2100, 2100, 2101, 2102, 2102]


@pytest.mark.parametrize("part,first,count", [("test10k", 0, 10000), ("test50k", 10000, 3)])
def test_qmnist_test_halves(env, server, tmp_path: Path, part: str, first: int, count: int):
    images = np.zeros((10003, 28, 28), dtype=np.uint8)  # zeros compress well: a full-size first part stays fast
    images[[0, 9999, 10000, 10002], 0, 0] = [1, 2, 3, 4]
    extended = np.zeros((10003, 8), dtype=">i4")
    extended[:, 0] = np.arange(10003) % 10
    extended[:, 5] = np.arange(10003)
    files = {
        "qmnist-test-images-idx3-ubyte.gz": gz(idx_bytes(images)),
        "qmnist-test-labels-idx2-int.gz": gz(idx_bytes(extended)),
    }
    dataset_id = f"com.github.facebookresearch.qmnist-{part}"
    check_refused_download(env, server, dataset_id, [QMNIST_BASE], files, "md5:1394631089c404de565df7b7aeaf9412")
    ds = prepare_local(tmp_path / "published", dataset_id, files)
    assert type(ds) is ExtendedLabelledImages and len(ds.images.data()) == count
    assert np.array_equal(ds.images.data(), images[first : first + count])
    assert ds.extended_labels.data()[:, 5].tolist() == list(range(first, first + count))
    assert ds.labels.data().tolist() == [k % 10 for k in range(first, first + count)]
    assert ds.extended_labels.data().dtype == np.dtype(">i4")
    back = from_json(to_json(dataset_id, ds))
    assert back.labels.data().tolist()[:3] == [k % 10 for k in range(first, first + 3)]


# --- USPS -------------------------------------------------------------------

USPS_BASE = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/"


def libsvm_bz2(features: np.ndarray, labels: np.ndarray) -> bytes:
    lines = []
    for row, label in zip(features, labels):
        items = [f"{k + 1}:{v:.6g}" for k, v in enumerate(row) if v != 0]  # zeros omitted, as LIBSVM allows
        lines.append(" ".join([str(int(label)), *items]))
    return bz2.compress(("\n".join(lines) + "\n").encode("ascii"))


def test_usps(env, server, tmp_path: Path):
    rng = np.random.default_rng(11)
    files, expected = {}, {}
    for name, split, n in (("usps.bz2", "train", 6), ("usps.t.bz2", "test", 3)):
        pixels = rng.integers(0, 256, (n, 256)).astype(np.float64)
        pixels[:, :16] = 127.5  # a top row of features that are exactly 0
        features = pixels / 127.5 - 1
        labels = rng.integers(1, 11, n)
        files[name] = libsvm_bz2(features, labels)
        expected[split] = (np.rint(pixels).astype(np.uint8).reshape(n, 16, 16), labels - 1)
    check_refused_download(env, server, "tw.edu.ntu.csie.usps", [USPS_BASE], files, "md5:ec16c51db3855ca6c91edd34d0e9b197")

    ds = prepare_local(tmp_path / "published", "tw.edu.ntu.csie.usps", files)
    for split, (images, labels) in expected.items():
        data = getattr(ds, split)
        got = data.images.data()
        assert got.shape == images.shape and got.dtype == np.uint8
        assert np.abs(got.astype(int) - images.astype(int)).max() <= 1  # 6 significant digits in the text
        assert (got[:, 0, :] == 128).all()  # omitted features are 0, i.e. mid-grey
        assert data.labels.data().tolist() == labels.tolist()
    assert ds.categories == [str(d) for d in range(10)]


def test_usps_bad_line_names_file_and_line(tmp_path: Path):
    bad = bz2.compress(b"1 1:0.5 2:-0.25\n3 7:oops\n")
    files = {"usps.bz2": bad, "usps.t.bz2": bad}
    with pytest.raises(FormatError, match=r"usps.bz2: line 2 is not LIBSVM 'label index:value \.\.\.'"):
        prepare_local(tmp_path / "published", "tw.edu.ntu.csie.usps", files)


def test_usps_endless_line_is_refused(tmp_path: Path):
    endless = bz2.compress(b"1 " + b"1:0.5 " * 20000)  # 120,002 characters, no end of line
    with pytest.raises(FormatError, match=r"usps.bz2: line 1 is longer than 65536 characters"):
        prepare_local(tmp_path / "published", "tw.edu.ntu.csie.usps", {"usps.bz2": endless, "usps.t.bz2": endless})


def test_usps_not_bzip2_is_a_format_error(tmp_path: Path):
    files = {"usps.bz2": b"1 1:0.5\n", "usps.t.bz2": b"1 1:0.5\n"}
    with pytest.raises(FormatError, match=r"usps.bz2: not a readable bzip2 LIBSVM file"):
        prepare_local(tmp_path / "published", "tw.edu.ntu.csie.usps", files)
