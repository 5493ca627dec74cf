"""The IDX format: every element type, any rank, and exact errors on bad files."""

import gzip
import struct
from pathlib import Path

import imagedatasets
import makefiles
import numpy as np
import pytest
from datumaro_layouts import mnist_images, write_all
from makefiles import idx_bytes

from datamaestro import prepare_dataset
from datamaestro.errors import FormatError
from datamaestro.formats import idx


@pytest.mark.parametrize(
    "dtype, code",
    [("u1", 0x08), ("i1", 0x09), (">i2", 0x0B), (">i4", 0x0C), (">f4", 0x0D), (">f8", 0x0E)],
)
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 1, 3, 2)])
def test_round_trip_every_type_and_rank(tmp_path, dtype, code, shape):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info:
        array = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    else:
        array = rng.standard_normal(shape).astype(dtype)
    path = tmp_path / "a.idx"
    idx.write(path, array)
    raw = path.read_bytes()
    assert raw[:4] == bytes([0, 0, code, len(shape)])
    assert struct.unpack(f">{len(shape)}I", raw[4 : 4 + 4 * len(shape)]) == shape
    assert raw[4 + 4 * len(shape) :] == array.astype(np.dtype(dtype).newbyteorder(">")).tobytes()
    back = idx.read(path)
    assert isinstance(back, np.memmap)
    assert back.shape == shape and back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, array)


def test_native_endian_arrays_are_written_big_endian(tmp_path):
    path = tmp_path / "a.idx"
    idx.write(path, np.array([1, 256], dtype="<i4"))
    assert path.read_bytes() == bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 1, 0])
    assert idx.read(path).tolist() == [1, 256]


def test_empty_dimension(tmp_path):
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(np.zeros((0, 28, 28), dtype=np.uint8)))
    assert idx.read(path).shape == (0, 28, 28)


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "bad.idx"
    path.write_bytes(data)
    return path


def error(path: Path) -> str:
    with pytest.raises(FormatError) as e:
        idx.read(path)
    return str(e.value)


def test_bad_magic(tmp_path):
    path = write(tmp_path, b"\x01\x00\x08\x01" + b"\x00" * 8)
    assert error(path) == f"{path}: not an IDX file (bad magic 0x01000801 at offset 0)"


def test_unknown_type_code(tmp_path):
    path = write(tmp_path, b"\x00\x00\x07\x01\x00\x00\x00\x01\x00")
    assert error(path) == f"{path}: not an IDX file (bad magic 0x00000701 at offset 0)"


def test_gzip_compressed_file(tmp_path):
    path = write(tmp_path, gzip.compress(idx_bytes(np.zeros(3, np.uint8))))
    assert error(path) == f"{path}: gzip-compressed, not a raw IDX file; decompress it first"


def test_too_short(tmp_path):
    path = write(tmp_path, b"\x00\x00")
    assert error(path) == f"{path}: not an IDX file (only 2 bytes)"


def test_no_dimensions(tmp_path):
    path = write(tmp_path, b"\x00\x00\x08\x00")
    assert error(path) == f"{path}: IDX header has no dimensions"


def test_truncated_header(tmp_path):
    path = write(tmp_path, b"\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00")
    assert error(path) == (
        f"{path}: truncated IDX header (3 dimensions announced, file ends at offset 10)"
    )


def test_truncated_data(tmp_path):
    path = write(tmp_path, idx_bytes(np.zeros((10, 28, 28), np.uint8))[:-100])
    assert error(path) == (
        f"{path}: truncated IDX data: header announces 10x28x28 uint8 values "
        "(7840 bytes from offset 16), file has 7740"
    )


def test_trailing_bytes(tmp_path):
    path = write(tmp_path, idx_bytes(np.zeros((2, 3), ">i4")) + b"\x00")
    assert error(path) == (
        f"{path}: IDX size mismatch: header announces 2x3 int32 values "
        "(24 bytes from offset 12), file has 25"
    )


def test_unwritable_dtype(tmp_path):
    with pytest.raises(FormatError, match="cannot write a 1-dimensional uint16 array as IDX"):
        idx.write(tmp_path / "a.idx", np.zeros(2, np.uint16))


def test_datumaro_fixture_read_as_idx(tmp_path):
    """Datumaro's files store the element count as first dimension; read them as Datumaro does."""
    dm = write_all(tmp_path / "dm")
    folder = dm / "mnist_dataset"
    arrays = {}
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        path = tmp_path / name
        path.write_bytes(gzip.decompress((folder / f"{name}.gz").read_bytes()))
        arrays[name] = idx.read(path)
    np.testing.assert_array_equal(arrays["train-images-idx3-ubyte"], mnist_images("train"))
    np.testing.assert_array_equal(arrays["t10k-images-idx3-ubyte"], mnist_images("test"))
    assert arrays["t10k-images-idx3-ubyte"].shape == (3, 28, 28)
    assert arrays["train-labels-idx1-ubyte"].tolist() == [5, 7]
    assert arrays["t10k-labels-idx1-ubyte"].tolist() == [0, 2, 1]


def deep_idx(ndim: int) -> bytes:
    """An IDX file of ``ndim`` dimensions of size 1 (one uint8 value)."""
    return struct.pack(f">HBB{ndim}I", 0, 0x08, ndim, *([1] * ndim)) + b"\x07"


DEEP_MESSAGE = "IDX header announces 65 dimensions, more than numpy's 64: the file is corrupt or hostile; use an intact copy"


def test_more_dimensions_than_numpy_holds(tmp_path):
    """Was numpy's ValueError (its arrays have at most 64 dimensions)."""
    path = write(tmp_path, deep_idx(65))
    assert error(path) == f"{path}: {DEEP_MESSAGE}"
    with pytest.raises(FormatError) as e:
        idx.from_bytes(deep_idx(65), "deep.idx")
    assert str(e.value) == f"deep.idx: {DEEP_MESSAGE}"
    (tmp_path / "deep.idx.gz").write_bytes(gzip.compress(deep_idx(65)))
    with pytest.raises(FormatError, match="announces 65 dimensions"):
        idx.read_gz(tmp_path / "deep.idx.gz")
    assert idx.read(write(tmp_path, deep_idx(64))).shape == (1,) * 64


def test_more_dimensions_than_numpy_holds_in_show_and_the_api(env, server, cli, tmp_path):
    """A dataset whose train images are such a file: `show` and the Python API say so in one line."""
    files, _ = makefiles.mnist_gz_files()
    files["train-images-idx3-ubyte.gz"] = makefiles.gz(deep_idx(65))
    for name, data in files.items():
        server.files["/digits/" + name] = data
    md5s = {var: makefiles.md5(files[name]) for var, name in makefiles.MNIST_FILES.items()}
    source = imagedatasets.SOURCE.format(base=server.url("digits/"), names=imagedatasets.NAMES, **md5s)
    makefiles.write_module(env.use_registry(), "org.test", source)
    assert cli("prepare", "-q", imagedatasets.DATASET).returncode == 0
    r = cli("show", imagedatasets.DATASET, "-o", str(tmp_path / "grid.png"))
    path = env.data / "datasets" / imagedatasets.DATASET / "train_images.idx"
    assert (r.returncode, r.stdout, r.stderr) == (1, "", f"datamaestro: error: {path}: {DEEP_MESSAGE}\n")
    assert not (tmp_path / "grid.png").exists()
    with pytest.raises(FormatError) as e:
        prepare_dataset(imagedatasets.DATASET).train.images.data()
    assert str(e.value) == f"{path}: {DEEP_MESSAGE}"
