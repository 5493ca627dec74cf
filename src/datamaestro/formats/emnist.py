"""EMNIST's published archive ``gzip.zip``: gzipped IDX files and label mappings, under ``gzip/``.

Each split has ``emnist-<split>-<train|test>-<images-idx3|labels-idx1>-ubyte.gz``
and ``emnist-<split>-mapping.txt`` (the ASCII code(s) of each label). A split
is converted from the archive in place (only its four members are
decompressed, streamed), its images written upright: they are stored
transposed (each 28x28 image column by column).
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from pathlib import Path
from typing import IO, Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.bounds import DEFLATE_EXPANSION, check_bytes
from datamaestro.formats.idx import Readable, read_stream_header
from datamaestro.formats.splits import save_labels, split_files

#: label code of the unused label 0 of the ``letters`` split (its labels are 1..26)
UNUSED = "N/A"
#: images converted per step (bounds the memory used, whatever the archive claims)
CHUNK = 8192


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


def class_names(archive_path: Path, split: str) -> list[str]:
    """The class names of a split, from the archive at ``archive_path``."""
    with zipfile.ZipFile(archive_path) as archive:
        return read_mapping(archive, split, archive_path.name)


def convert_split(split: str, archive_path: Path, out: Path, max_bytes: Optional[int] = None) -> None:
    """Write one split's train and test arrays, images upright, as ``.npy`` files (bounded by ``max_bytes``)."""
    source = f"{archive_path.name} ({split})"
    try:
        with zipfile.ZipFile(archive_path) as archive:
            classes = len(read_mapping(archive, split, source))
            for part in ("train", "test"):
                images = f"emnist-{split}-{part}-images-idx3-ubyte.gz"
                count = _convert_images(archive, images, split_files(out, part)[0], source, max_bytes)
                name = f"emnist-{split}-{part}-labels-idx1-ubyte.gz"
                with _member(archive, name, source) as raw, gzip.open(raw) as stream:
                    (n,) = _idx_header(stream, name, 1)
                    check_bytes(n, max_bytes, name, f"its {n} labels")
                    labels = np.frombuffer(_read_exact(stream, n, name), dtype=np.uint8)
                    _check_end(stream, name)
                save_labels(out, part, labels, count, classes, name)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:
        raise FormatError(f"{source}: corrupt archive ({e})") from None


def _convert_images(archive: zipfile.ZipFile, name: str, dest: Path, source: str, max_bytes: Optional[int]) -> int:
    """Stream a transposed IDX image file into an upright ``(N, H, W)`` uint8 ``.npy``; returns N."""
    with _member(archive, name, source) as raw, gzip.open(raw) as stream:
        n, rows, cols = _idx_header(stream, name, 3)
        if rows > 4096 or cols > 4096:
            raise FormatError(f"{name}: implausible image size {rows}x{cols}")
        # deflate expands at most about 1032 times: a header claiming more is lying
        if n * rows * cols > DEFLATE_EXPANSION * archive.getinfo(f"gzip/{name}").file_size:
            raise FormatError(f"{name}: its IDX header announces {n} images of {rows}x{cols}, more than the file can hold")
        check_bytes(n * rows * cols, max_bytes, name, f"its {n} images of {rows}x{cols}")
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
