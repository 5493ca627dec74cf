"""MATLAB v5 ``.mat`` files: the name, shape and class of each variable, read without loading it.

A v5 file is a 128-byte header then one data element per variable: a
``miMATRIX`` (array flags, dimensions, name, data) or a ``miCOMPRESSED``
zlib stream holding one. Only the first bytes of each variable are read (and
decompressed): scipy.io's own listing decompresses 128 KiB of compressed data
at a time, which zeros expand a thousandfold.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from datamaestro.errors import FormatError

HEADER = 128
MI_INT8, MI_INT32, MI_UINT32, MI_MATRIX, MI_COMPRESSED = 1, 5, 6, 14, 15
#: the array classes of MATLAB v5, by code
CLASSES = {
    1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse", 6: "double", 7: "single", 8: "int8", 9: "uint8",
    10: "int16", 11: "uint16", 12: "int32", 13: "uint32", 14: "int64", 15: "uint64", 16: "function", 17: "opaque",
}
#: the most bytes of a variable read to find its header (flags, up to 64 dimensions, a name of 63 characters)
HEAD = 512


@dataclass(frozen=True, slots=True)
class Variable:
    """A variable a file declares: ``kind`` is its MATLAB class ("uint8", "double", "char", "cell"...,
    "logical" for logical arrays), ``complex`` whether it holds complex numbers."""

    name: str
    shape: tuple[int, ...]
    kind: str
    complex: bool = False


def element(data: bytes, at: int, order: str) -> tuple[int, bytes, int]:
    """The type, content and end (padded to 8 bytes) of the data element at ``at`` of ``data``."""
    (first,) = struct.unpack_from(order + "I", data, at)
    if first >> 16:  # the small element format: type and size in one word, content in the next
        return first & 0xFFFF, data[at + 4 : at + 4 + (first >> 16)], at + 8
    mdtype, nbytes = struct.unpack_from(order + "II", data, at)
    return mdtype, data[at + 8 : at + 8 + nbytes], at + 8 + (nbytes + 7) // 8 * 8


def matrix_header(head: bytes, order: str) -> Variable:
    """The variable whose ``miMATRIX`` content starts ``head`` (struct.error or ValueError if it is cut)."""
    kind, flags, at = element(head, 0, order)
    dims_type, dims, at = element(head, at, order)
    _, name, _ = element(head, at, order)
    if kind != MI_UINT32 or dims_type != MI_INT32 or len(flags) < 4 or len(dims) % 4:
        raise ValueError("not a MATLAB array header")
    (word,) = struct.unpack_from(order + "I", flags)
    mclass = "logical" if word >> 9 & 1 else CLASSES.get(word & 0xFF, "unknown")
    shape = struct.unpack(f"{order}{len(dims) // 4}i", dims)
    return Variable(name.decode("latin-1"), tuple(shape), mclass, bool(word >> 11 & 1))


def read_head(f, mdtype: int, nbytes: int, order: str) -> bytes:
    """The first bytes of a variable's ``miMATRIX`` content (decompressed if need be; at most ``HEAD``)."""
    if mdtype == MI_MATRIX:
        return f.read(min(nbytes, HEAD))
    inner = zlib.decompressobj().decompress(f.read(min(nbytes, 1 << 16)), HEAD + 8)
    inner_type, _ = struct.unpack_from(order + "II", inner)
    if inner_type != MI_MATRIX:
        raise ValueError(f"expected a MATLAB array in the compressed element, found type {inner_type}")
    return inner[8:]


def variables(path: Path) -> list[Variable]:
    """The variables a MATLAB v5 file declares, from their headers only (FormatError if it is not one)."""
    found = []
    try:
        with open(path, "rb") as f:
            header = f.read(HEADER)
            if len(header) < HEADER:
                raise ValueError("Mat file appears to be truncated")
            order = {b"IM": "<", b"MI": ">"}.get(header[126:128])
            if order is None:
                raise ValueError("no MATLAB v5 header")
            while tag := f.read(8):
                mdtype, nbytes = struct.unpack(order + "II", tag)
                start = f.tell()
                if mdtype in (MI_MATRIX, MI_COMPRESSED):
                    found.append(matrix_header(read_head(f, mdtype, nbytes, order), order))
                f.seek(start + nbytes)
    except (OSError, ValueError, struct.error, zlib.error) as e:
        raise FormatError(f"{path}: not a readable MATLAB v5 .mat file ({e})") from None
    return found
