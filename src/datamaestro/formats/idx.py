"""The IDX format of MNIST: a big-endian header, then the raw tensor.

Header: two zero bytes, a type code, the number of dimensions, then one
big-endian uint32 per dimension. Data follows in C order, big-endian.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Optional, Protocol

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.compressed import gunzip_bytes


class Readable(Protocol):
    """A binary stream open for reading (a plain or gzip file)."""

    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    """A binary file open for writing (a plain or gzip file)."""

    def write(self, data: bytes, /) -> object: ...


#: IDX type code -> numpy dtype (big-endian where it matters)
DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {(dtype.kind, dtype.itemsize): code for code, dtype in DTYPES.items()}
#: the most dimensions a numpy array may have (NPY_MAXDIMS: 32 before numpy 2)
MAX_DIMENSIONS = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32


def read_header(path: Path | str) -> tuple[np.dtype, tuple[int, ...], int]:
    """The (dtype, shape, data offset) of an IDX file, checked against its size."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(4 + 4 * 255)
        size = f.seek(0, 2)
    if head[:2] == b"\x1f\x8b":
        raise FormatError(f"{path}: gzip-compressed, not a raw IDX file; decompress it first")
    return _parse_header(str(path), head, size)


def read_stream_header(stream: Readable, source: str) -> tuple[np.dtype, tuple[int, ...]]:
    """The (dtype, shape) an IDX stream announces; the stream is left at its data, whose length is the caller's to check."""
    head = stream.read(4)
    dtype, shape, _ = _parse_header(source, head + stream.read(4 * head[3]) if len(head) == 4 else head, None)
    return dtype, shape


def _parse_header(source: str, head: bytes, size: Optional[int]) -> tuple[np.dtype, tuple[int, ...], int]:
    """Check the header bytes ``head`` of an IDX content of ``size`` bytes named ``source`` (None: unknown)."""
    if len(head) < 4:
        raise FormatError(f"{source}: not an IDX file (only {len(head)} bytes)")
    zero, code, ndim = struct.unpack(">HBB", head[:4])
    if zero != 0 or code not in DTYPES:
        raise FormatError(f"{source}: not an IDX file (bad magic 0x{head[:4].hex()} at offset 0)")
    if ndim == 0:
        raise FormatError(f"{source}: IDX header has no dimensions")
    if ndim > MAX_DIMENSIONS:
        raise FormatError(
            f"{source}: IDX header announces {ndim} dimensions, more than numpy's {MAX_DIMENSIONS}: "
            "the file is corrupt or hostile; use an intact copy"
        )
    offset = 4 + 4 * ndim
    if len(head) < offset:
        raise FormatError(
            f"{source}: truncated IDX header ({ndim} dimensions announced, "
            f"file ends at offset {len(head)})"
        )
    shape = struct.unpack(f">{ndim}I", head[4:offset])
    dtype = DTYPES[code]
    if size is None:
        return dtype, shape, offset
    expected = _count(shape) * dtype.itemsize  # Python integers: 100 x 2^31 x 2^31 cannot overflow
    actual = size - offset
    shape = _datumaro_count(shape, actual // dtype.itemsize) if actual != expected else shape
    expected = _count(shape) * dtype.itemsize
    if actual != expected:
        problem = "truncated IDX data" if actual < expected else "IDX size mismatch"
        dims = "x".join(map(str, shape))
        raise FormatError(
            f"{source}: {problem}: header announces {dims} {dtype.name} values "
            f"({expected} bytes from offset {offset}), file has {actual}"
        )
    return dtype, shape, offset


def _count(shape: tuple[int, ...]) -> int:
    """The number of values in ``shape``, exactly (no fixed-width overflow)."""
    return math.prod(shape)


def _datumaro_count(shape: tuple[int, ...], elements: int) -> tuple[int, ...]:
    """Datumaro's MNIST writer stores the element count as the first dimension;
    read such a file as Datumaro does, with the count the data size implies."""
    item = _count(shape[1:])
    if len(shape) > 1 and item and shape[0] == elements and elements % item == 0:
        return (elements // item, *shape[1:])
    return shape


def read(path: Path | str) -> np.ndarray:
    """The tensor in an IDX file, memory-mapped read-only."""
    dtype, shape, offset = read_header(path)
    if 0 in shape:
        return np.zeros(shape, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


def write_to(f: Writable, array: np.ndarray) -> None:
    """Write ``array`` in IDX format to an open binary file."""
    array = np.asarray(array)
    code = _CODES.get((array.dtype.kind, array.dtype.itemsize))
    if code is None or array.ndim == 0 or array.ndim > 255:
        raise FormatError(
            f"cannot write a {array.ndim}-dimensional {array.dtype} array as IDX "
            "(types: uint8, int8, int16, int32, float32, float64)"
        )
    f.write(struct.pack(">HBB", 0, code, array.ndim))
    f.write(struct.pack(f">{array.ndim}I", *array.shape))
    f.write(np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes())


def write(path: Path | str, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` in IDX format."""
    with open(path, "wb") as f:
        write_to(f, array)


def from_bytes(data: bytes, source: str) -> np.ndarray:
    """The tensor in IDX bytes (e.g. a decompressed ``.gz``); ``source`` names them in errors."""
    dtype, shape, offset = _parse_header(source, data[: 4 + 4 * 255], len(data))
    return np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)


def read_gz(path: Path | str) -> np.ndarray:
    """The tensor in a gzip-compressed IDX file (read into memory)."""
    return from_bytes(gunzip_bytes(path), str(path))
