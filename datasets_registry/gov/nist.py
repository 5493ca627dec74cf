"""EMNIST, the extension of MNIST to handwritten letters, from NIST Special Database 19.

The published archive ``gzip.zip`` holds, under ``gzip/``, one gzipped IDX
file per split and array (``emnist-<split>-<train|test>-<images-idx3|labels-idx1>-ubyte.gz``)
and a ``emnist-<split>-mapping.txt`` giving the ASCII code(s) of each label.
Each of the six splits (the table SPLITS) is its own dataset; each prepares from the same
archive (read in place: only the split's four members are decompressed).

The images are stored transposed (each 28x28 image is written column by
column): the conversion writes them upright, as ``.npy`` arrays.

Checksum: sha256 of ``gzip.zip`` from TensorFlow Datasets
(``url_checksums/emnist.txt``, 561,753,746 bytes); torchvision's EMNIST
records md5 58c8d27c78d21e728a6bc7b3cc06412e for the same file.
"""

import gzip
import zipfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from datamaestro.data.images import ImageClassification
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.single import filedownloader
from datamaestro.errors import FormatError
from datamaestro.formats.idx import Readable, read_stream_header
from datasets_registry._arrays import npy_split, save_labels

HOMEPAGE = "https://www.nist.gov/itl/products-and-services/emnist-dataset"
LICENSE = "unknown: no license is stated on the EMNIST page (derived from NIST Special Database 19)"
CITATION = """
@inproceedings{cohen2017emnist,
  title = {{EMNIST}: Extending {MNIST} to handwritten letters},
  author = {Cohen, Gregory and Afshar, Saeed and Tapson, Jonathan and van Schaik, Andr{\\'e}},
  booktitle = {2017 International Joint Conference on Neural Networks (IJCNN)},
  pages = {2921--2926},
  year = {2017},
  doi = {10.1109/IJCNN.2017.7966217}
}
"""
#: label code of the unused label 0 of the ``letters`` split (its labels are 1..26)
UNUSED = "N/A"
#: images converted per step (bounds the memory used, whatever the archive claims)
CHUNK = 8192
#: the most bytes a gzip member of a given size can decompress to (deflate's limit is about 1032:1)
MAX_EXPANSION = 1100

ARCHIVE = filedownloader(
    "gzip.zip", "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",
    mirrors=["https://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/gzip.zip"],
    checksum="sha256:fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e", varname="archive",
)


def _member(archive: zipfile.ZipFile, name: str, source: str) -> IO[bytes]:
    try:
        return archive.open(f"gzip/{name}")
    except KeyError:
        raise FormatError(f"{source}: the archive has no member 'gzip/{name}'") from None


def _idx_header(stream: Readable, name: str, ndim: int) -> tuple[int, ...]:
    """The dimensions of a uint8 IDX stream with ``ndim`` dimensions (the stream is left at the data)."""
    dtype, shape = read_stream_header(stream, name)
    if dtype != np.uint8 or len(shape) != ndim:
        raise FormatError(f"{name}: not a {ndim}-dimensional uint8 IDX file ({len(shape)}-dimensional {dtype})")
    return shape


def _read_exact(stream: Readable, size: int, name: str) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise FormatError(f"{name}: truncated IDX data ({len(data)} bytes where {size} were expected)")
    return data


def _check_end(stream: Readable, name: str) -> None:
    if stream.read(1):
        raise FormatError(f"{name}: more data than its IDX header announces")


def read_mapping(archive: zipfile.ZipFile, split: str, source: str) -> list[str]:
    """Class names of a split: the character(s) of each label in ``emnist-<split>-mapping.txt``."""
    name = f"emnist-{split}-mapping.txt"
    with _member(archive, name, source) as f:
        text = f.read(1 << 20).decode("ascii", "replace")
    names: dict[int, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        try:
            label, codes = int(fields[0]), [int(v) for v in fields[1:]]
            names[label] = "".join(chr(c) for c in codes)
        except (ValueError, OverflowError):
            raise FormatError(f"{name}: line {number} is not 'label code [code...]'") from None
        if not codes or not 0 <= label < 1000 or any(not 32 <= c < 127 for c in codes):
            raise FormatError(f"{name}: line {number} is not 'label code [code...]'")
    if not names:
        raise FormatError(f"{name}: no labels")
    return [names.get(k, UNUSED) for k in range(max(names) + 1)]


def convert_split(split: str, archive_path: Path, out: Path) -> None:
    """Write one split's train and test arrays, images upright, as ``.npy`` files."""
    source = f"{archive_path.name} ({split})"
    try:
        with zipfile.ZipFile(archive_path) as archive:
            classes = len(read_mapping(archive, split, source))
            for part in ("train", "test"):
                count = _convert_images(archive, f"emnist-{split}-{part}-images-idx3-ubyte.gz", out / f"{part}_images.npy", source)
                name = f"emnist-{split}-{part}-labels-idx1-ubyte.gz"
                with _member(archive, name, source) as raw, gzip.open(raw) as stream:
                    (n,) = _idx_header(stream, name, 1)
                    labels = np.frombuffer(_read_exact(stream, n, name), dtype=np.uint8)
                    _check_end(stream, name)
                save_labels(out, part, labels, count, classes, name)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:
        raise FormatError(f"{source}: corrupt archive ({e})") from None


def _convert_images(archive: zipfile.ZipFile, name: str, dest: Path, source: str) -> int:
    """Stream a transposed IDX image file into an upright ``(N, H, W)`` uint8 ``.npy``; returns N."""
    with _member(archive, name, source) as raw, gzip.open(raw) as stream:
        n, rows, cols = _idx_header(stream, name, 3)
        if rows > 4096 or cols > 4096:
            raise FormatError(f"{name}: implausible image size {rows}x{cols}")
        # deflate expands at most about 1032 times: a header claiming more is lying
        if n * rows * cols > MAX_EXPANSION * archive.getinfo(f"gzip/{name}").file_size:
            raise FormatError(f"{name}: its IDX header announces {n} images of {rows}x{cols}, more than the file can hold")
        # Stored transposed: each record is an image of `cols` x `rows` read row by row.
        images = np.lib.format.open_memmap(dest, mode="w+", dtype=np.uint8, shape=(n, cols, rows))
        for start in range(0, n, CHUNK):
            k = min(CHUNK, n - start)
            block = np.frombuffer(_read_exact(stream, k * rows * cols, name), dtype=np.uint8)
            images[start : start + k] = block.reshape(k, rows, cols).transpose(0, 2, 1)
        _check_end(stream, name)
        images.flush()
        del images
    return n


def _definition(split: str, name: str, extra_tags: list[str], doc: str):
    """The dataset of one split: its arrays are converted from the shared archive."""

    def build(archive_path: Path, out: Path) -> None:
        convert_split(split, archive_path, out)

    def emnist(archive: Path, arrays: Path) -> dict:
        with zipfile.ZipFile(archive) as z:
            categories = read_mapping(z, split, archive.name)
        return {"train": npy_split(arrays, "train"), "test": npy_split(arrays, "test"), "categories": categories}

    build.__doc__ = f"Convert the EMNIST {split} split of gzip.zip into upright .npy arrays."
    emnist.__name__ = emnist.__qualname__ = f"emnist_{split}"
    declare = dataset(
        ImageClassification, id=f"gov.nist.emnist.{split}", name=name, description=doc, url=HOMEPAGE,
        homepage=HOMEPAGE, license=LICENSE, citation=CITATION, tags=TAGS + extra_tags,
    )
    return ARCHIVE(derived("arrays", build, ARCHIVE)(declare(emnist)))


TAGS = ["images", "classification", "characters", "handwriting", "emnist"]
#: split, name, extra tags, description
SPLITS = [
    ("byclass", "EMNIST ByClass", [], """EMNIST ByClass: 814,255 28x28 handwritten characters in 62 unbalanced classes.

Digits, upper- and lower-case letters (0-9, A-Z, a-z): 697,932 training
and 116,323 test images, upright."""),
    ("bymerge", "EMNIST ByMerge", [], """EMNIST ByMerge: 814,255 28x28 handwritten characters in 47 unbalanced classes.

As ByClass, with the 15 letters whose upper and lower case look alike
(C, I, J, K, L, M, O, P, S, U, V, W, X, Y, Z) merged: 697,932 training
and 116,323 test images, upright."""),
    ("balanced", "EMNIST Balanced", [], """EMNIST Balanced: 131,600 28x28 handwritten characters in 47 balanced classes.

The ByMerge classes with the same number of images each: 112,800
training and 18,800 test images, upright."""),
    ("letters", "EMNIST Letters", [], """EMNIST Letters: 145,600 28x28 handwritten letters in 26 balanced classes.

Upper and lower case merged: 124,800 training and 20,800 test images,
upright. Labels are 1 to 26 as published (category 0 is unused, "N/A")."""),
    ("digits", "EMNIST Digits", ["digits"], """EMNIST Digits: 280,000 28x28 handwritten digits in 10 balanced classes.

240,000 training and 40,000 test images, upright."""),
    ("mnist", "EMNIST MNIST", ["digits"], """EMNIST MNIST: 70,000 28x28 handwritten digits, the size and balance of MNIST.

60,000 training and 10,000 test images, upright, converted from NIST
Special Database 19 by the EMNIST process."""),
]
for _split, _name, _tags, _doc in SPLITS:
    globals()[f"emnist_{_split}"] = _definition(_split, _name, _tags, _doc)
