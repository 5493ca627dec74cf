"""Reading gzip files whole, with one clear error for truncated or corrupt ones."""

from __future__ import annotations

import zlib
from pathlib import Path

from datamaestro.errors import FormatError


def gunzip_bytes(path: Path | str) -> bytes:
    """The decompressed content of the gzip file ``path``."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        raise FormatError(f"{path}: not a gzip file (bad magic 0x{raw[:2].hex()} at offset 0)")
    out = []
    data = raw
    consumed = 0
    while data:
        d = zlib.decompressobj(wbits=31)
        try:
            out.append(d.decompress(data))
            out.append(d.flush())
        except zlib.error as e:
            raise FormatError(f"{path}: corrupt gzip data after compressed offset {consumed} ({e})") from None
        if not d.eof:
            raise FormatError(
                f"{path}: truncated gzip file: the compressed stream ends at offset "
                f"{len(raw)} before its end marker; download it again"
            )
        used = len(data) - len(d.unused_data)
        consumed += used
        data = d.unused_data
        if data and data[:2] != b"\x1f\x8b":
            break  # trailing garbage after the last member, as gzip tolerates
    return b"".join(out)
