"""Small data files in the exact published formats (IDX, gzip) and definition modules."""

from __future__ import annotations

import gzip
import hashlib
import signal
import struct
import textwrap
from pathlib import Path

import numpy as np

#: numpy dtype -> IDX type code, as the format's definition lists them
IDX_CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D, "float64": 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` encoded as an IDX file, byte by byte (not with datamaestro's writer)."""
    array = np.asarray(array)
    header = struct.pack(f">HBB{array.ndim}I", 0, IDX_CODES[array.dtype.name], array.ndim, *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def gz(data: bytes) -> bytes:
    """``data`` gzip-compressed, with a fixed timestamp so bytes are reproducible."""
    return gzip.compress(data, mtime=0)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-like (n, 28, 28) uint8 images and (n,) uint8 labels."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def mnist_gz_files(n_train: int = 20, n_test: int = 8) -> tuple[dict[str, bytes], dict[str, np.ndarray]]:
    """The four gzipped MNIST files (by published name) and the arrays they hold (by varname)."""
    train, test = digits(n_train, seed=1), digits(n_test, seed=2)
    arrays = {
        "train_images": train[0],
        "train_labels": train[1],
        "test_images": test[0],
        "test_labels": test[1],
    }
    files = {MNIST_FILES[k]: gz(idx_bytes(a)) for k, a in arrays.items()}
    return files, arrays


def write_module(folder: Path, module_path: str, source: str) -> Path:
    """Write a definition module ``a.b`` as ``folder/a/b.py``."""
    path = folder.joinpath(*module_path.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def interruptible() -> None:
    """In a child process before it runs: Ctrl-C interrupts it, even when the tests run as a background
    job (whose children start with SIGINT ignored, so Python would never raise KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
