"""NumPy's ``.npz`` files: zip archives of ``.npy`` arrays, read without unpickling."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats.bounds import DEFLATE_EXPANSION, check_bytes


def read(path: Path, name: str = "arr_0", max_bytes: Optional[int] = None) -> np.ndarray:
    """The array ``name`` of an ``.npz`` file (never unpickled).

    Its ``.npy`` header is checked first: an array larger than its compressed
    member could hold, or than ``max_bytes``, is refused before anything is allocated.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if f"{name}.npy" not in names:
                found = ", ".join(n.removesuffix(".npy") for n in names)
                raise FormatError(f"{path}: no array '{name}' in the .npz file (found: {found})")
            info = archive.getinfo(f"{name}.npy")
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, dtype = read_header(member)
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if size > DEFLATE_EXPANSION * max(info.compress_size, 1):
            raise FormatError(f"{path}: {name} claims {shape} {dtype}, more than the file can hold")
        check_bytes(size, max_bytes, path, f"its array {name} {shape} {dtype}")
        with np.load(path, allow_pickle=False) as content:
            return content[name]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise FormatError(f"{path}: not a readable .npz file ({e})") from None
