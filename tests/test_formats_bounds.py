"""What a definition derives is bounded like what an archive unpacks (``max_unpacked_size``).

Hostile published files that declare, or expand to, far more than they hold:
an SVHN ``.mat`` of compressed zeros declaring a large array, an Adult table
with one giant field, and a build that writes more than the limit. Each is a
one-line error naming the file, the limit and the configuration key, exit
code 1, and nothing large is written (nor allocated, for the readers).
"""

from __future__ import annotations

import bz2
import io
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from datamaestro.errors import UnpackLimitError
from datamaestro.formats import libsvm, mat, npz, svhn, table

scipy_io = pytest.importorskip("scipy.io", reason="the SVHN cases write .mat files with scipy (extra 'test')")

LIMIT = 1 << 20
ADVICE = "raise max_unpacked_size in the configuration"
#: 20,000 images of 32x32x3 zeros: 61 MB declared, about 60 KB compressed
ZEROS = 20_000
#: the published size of adult.data (declared by its definition)
ADULT_DATA = 3974305


def zeros_mat() -> bytes:
    buffer = io.BytesIO()
    variables = {"X": np.zeros((32, 32, 3, ZEROS), np.uint8), "y": np.ones((ZEROS, 1), np.uint8)}
    scipy_io.savemat(buffer, variables, format="5", do_compression=True)
    return buffer.getvalue()


def adult_row(workclass: str = "Private", education: str = "Bachelors", end: str = "") -> str:
    return (
        f"39, {workclass}, 77516, {education}, 13, Never-married, Adm-clerical, Not-in-family, White, Male, "
        f"2174, 0, 40, United-States, <=50K{end}\n"
    )


def sized_table(size: int, giant: int = 0, first: str = "", end: str = "") -> bytes:
    """Adult rows of exactly ``size`` bytes (the definition's declared size), one with a ``giant`` workclass."""
    text = first + (adult_row("x" * giant, end=end) if giant else "")
    row = adult_row(end=end)
    text += row * ((size - len(text) - 400) // len(row))
    last = adult_row(end=end)
    return (text + adult_row(education="y" * (size - len(text) - len(last) + len("Bachelors")), end=end)).encode()


def adult_files(folder: Path, giant: int) -> None:
    """adult.data and adult.test of their published sizes, adult.data holding one giant field."""
    folder.mkdir()
    (folder / "adult.data").write_bytes(sized_table(ADULT_DATA, giant))
    (folder / "adult.test").write_bytes(sized_table(2003153, first="|1x3 Cross validator\n", end="."))


def largest_file(root: Path) -> int:
    return max((p.stat().st_size for p in root.rglob("*") if p.is_file()), default=0)


def peak_allocation(call) -> int:
    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def one_line_error(result) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert [line for line in lines if "error" in line] == lines[-1:], result.stderr
    assert lines[-1].startswith("datamaestro: error: ")
    return lines[-1]


def test_a_mat_of_compressed_zeros_is_refused_before_it_is_loaded(tmp_path):
    path = tmp_path / "train_32x32.mat"
    path.write_bytes(zeros_mat())
    assert path.stat().st_size < LIMIT
    with pytest.raises(UnpackLimitError) as e:
        svhn.read(path, max_bytes=LIMIT)
    assert str(e.value) == (
        f"{path}: refused: its arrays X and y would take 58.6 MiB ({32 * 32 * 3 * ZEROS + ZEROS} bytes), "
        f"more than 1.0 MiB, the limit; if the data is really that large, {ADVICE}"
    )
    assert peak_allocation(lambda: pytest.raises(UnpackLimitError, svhn.read, path, max_bytes=LIMIT)) < LIMIT


def test_prepare_refuses_the_mat_of_zeros_in_one_line(env, cli, tmp_path):
    env.write_config({"max_unpacked_size": LIMIT})
    folder = tmp_path / "published"
    folder.mkdir()
    for name in ("train_32x32.mat", "test_32x32.mat"):
        (folder / name).write_bytes(zeros_mat())
    line = one_line_error(cli("prepare", "-q", "edu.stanford.svhn", "--from", str(folder), "--no-verify"))
    assert "train_32x32.mat: refused: its arrays X and y would take 58.6 MiB" in line
    assert "more than 1.0 MiB, the limit" in line and ADVICE in line
    assert largest_file(env.data) < LIMIT
    assert not (env.data / "datasets" / "edu.stanford.svhn" / "arrays").exists()


def test_a_mat_variable_that_is_not_an_array_is_refused_unread(tmp_path):
    path = tmp_path / "train_32x32.mat"
    buffer = io.BytesIO()
    scipy_io.savemat(buffer, {"X": np.zeros((32, 32, 3, 1), np.uint8), "y": np.array([[1, "a"]], dtype=object)})
    path.write_bytes(buffer.getvalue())
    with pytest.raises(Exception, match=r"y should be a numeric array, got a MATLAB cell"):
        svhn.read(path, max_bytes=LIMIT)


def test_mat_headers_are_read_without_decompressing_the_data(tmp_path):
    path = tmp_path / "zeros.mat"
    path.write_bytes(zeros_mat())
    assert mat.variables(path) == [mat.Variable("X", (32, 32, 3, ZEROS), "uint8"), mat.Variable("y", (ZEROS, 1), "uint8")]
    assert peak_allocation(lambda: mat.variables(path)) < LIMIT


def test_prepare_refuses_an_adult_table_with_a_giant_field(env, cli, tmp_path):
    """Was 12.4 GB of memory and a 12 GB array for a table of the declared size."""
    env.write_config({"max_unpacked_size": LIMIT})
    adult_files(tmp_path / "published", giant=131_000)
    line = one_line_error(cli("prepare", "-q", "edu.uci.ics.adult", "--from", str(tmp_path / "published"), "--no-verify"))
    assert line.startswith("datamaestro: error: adult.data: refused: its table would take ")
    assert "more than 1.0 MiB, the limit" in line and ADVICE in line
    assert largest_file(env.data) <= ADULT_DATA  # the published file itself, kept
    assert not (env.data / "datasets" / "edu.uci.ics.adult" / "tables").exists()


def test_a_giant_field_is_refused_under_the_default_limit_too(env, cli, tmp_path):
    """One overlong value would widen every row: refused whatever the configured limit."""
    adult_files(tmp_path / "published", giant=131_000)
    line = one_line_error(cli("prepare", "-q", "edu.uci.ics.adult", "--from", str(tmp_path / "published"), "--no-verify"))
    assert line.startswith("datamaestro: error: adult.data: refused: its column 'workclass' would be 131000 characters wide")
    assert "the file is not the table its definition describes" in line
    assert largest_file(env.data) <= ADULT_DATA
    assert not (env.data / "datasets" / "edu.uci.ics.adult" / "tables").exists()


def test_a_table_is_bounded_before_its_array_is_made(tmp_path):
    rows = [(k + 1, ["1.5", "x" * 1000]) for k in range(300)]
    columns = [table.Column("x"), table.Column("name", "str")]
    peak = peak_allocation(lambda: pytest.raises(UnpackLimitError, table.to_structured, rows, columns, "t.csv", None, LIMIT))
    assert peak < LIMIT
    assert table.to_structured(rows, columns, "t.csv", None, 2 * LIMIT).shape == (300,)


def test_npz_and_libsvm_readers_are_bounded(tmp_path):
    path = tmp_path / "a.npz"
    np.savez_compressed(path, np.zeros((1024, 1024, 2), np.uint8))
    with pytest.raises(UnpackLimitError, match=r"a.npz: refused: its array arr_0 \(1024, 1024, 2\) uint8 would take 2.0 MiB"):
        npz.read(path, max_bytes=LIMIT)
    assert npz.read(path, max_bytes=2 * LIMIT).shape == (1024, 1024, 2)
    svm = tmp_path / "a.bz2"
    svm.write_bytes(bz2.compress(b"1 1:0.5\n" * 2000))
    with pytest.raises(UnpackLimitError, match=r"a.bz2: refused: its features would take 1.0 MiB"):
        libsvm.read(svm, 256, max_bytes=LIMIT)
    assert libsvm.read(svm, 256)[0].shape == (2000, 256)


BUILD_MODULE = """
from pathlib import Path
import numpy as np
from datamaestro.data.npy import NPY
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.single import filedownloader

SRC = filedownloader("src.bin", "https://example.org/src.bin")

def build(src, out):
    np.save(out / "big.npy", np.zeros(COUNT, np.uint8))

@SRC
@derived("arrays", build, SRC)
@dataset(NPY, id="big")
def big(src, arrays):
    return {"path": arrays / "big.npy"}
"""


def write_module(registry: Path, count: int, files: int = 1) -> None:
    (registry / "org").mkdir(parents=True, exist_ok=True)
    (registry / "org" / "__init__.py").write_text("")
    code = BUILD_MODULE.replace("COUNT", str(count))
    if files > 1:
        code = code.replace('    np.save(out / "big.npy"', f'    for k in range({files}):\n        (out / f"f{{k}}").write_bytes(b"x")\n    np.save(out / "big.npy"')
    (registry / "org" / "der.py").write_text(code)


def test_what_a_build_writes_is_checked_after_it(env, cli, tmp_path):
    """A build that does not check what it reads is still bounded: its output is refused, nothing kept."""
    env.write_config({"max_unpacked_size": LIMIT})
    write_module(env.use_registry(), 2 * LIMIT)
    folder = tmp_path / "published"
    folder.mkdir()
    (folder / "src.bin").write_bytes(b"source")
    line = one_line_error(cli("prepare", "-q", "org.der.big", "--from", str(folder), "--no-verify"))
    assert line == (
        f"datamaestro: error: arrays of org.der.big: refused: what its build wrote would take 2.0 MiB "
        f"({2 * LIMIT + 128} bytes), more than 1.0 MiB, the limit; if the data is really that large, {ADVICE}"
    )
    assert largest_file(env.data) < LIMIT
    assert not (env.data / "datasets" / "org.der.big" / "arrays").exists()
    env.write_config({"max_unpacked_size": 4 * LIMIT, "max_unpacked_files": 3})
    write_module(env.registry, 16, files=5)
    line = one_line_error(cli("prepare", "-q", "org.der.big", "--from", str(folder), "--no-verify"))
    assert line.endswith("arrays of org.der.big: refused: its build wrote more than 3 files, the limit; "
                         "if the data really holds that many, raise max_unpacked_files in the configuration")
    env.write_config({"max_unpacked_size": 4 * LIMIT})
    assert cli("prepare", "-q", "org.der.big", "--from", str(folder), "--no-verify").returncode == 0
