"""Small datasets in the byte layouts Datumaro's writers produce, built here with struct, gzip, pickle and zlib.

They hold the same items as Datumaro's own test assets (ids, subsets,
labels, image sizes; see ``../shared/fixtures/datumaro/README.md``), with
known pixels, and are written by test code only, never by datamaestro's
writers, so that a reader bug cannot hide behind a writer bug:

- ``mnist_dataset``: gzipped IDX with Datumaro's header, whose first
  dimension is the pixel count; train labels 5, 7, test labels 0, 2, 1.
- ``mnist_csv_dataset``: the same items as ``label,784 pixels`` rows.
- ``cifar10_dataset``: str-keyed pickles; ``data_batch_1`` (one item, an
  object array of shape (1, 3072)) and ``test_batch`` (four items, an object
  array of rows, one image 2x2 given by ``image_sizes``).
- ``cifar100_dataset``: ``meta`` with fine and coarse names; ``train`` and
  ``test`` with ``fine_labels``, ``coarse_labels`` and ``image_sizes``.
- ``imagenet_dataset``: class folders (one nested) of PNG files written
  byte by byte, one image in the root (no label).

``ASSETS`` is where Datumaro's own files are when the shared fixtures sit
beside the checkout; ``needs_assets`` skips a test without them.
"""

from __future__ import annotations

import gzip
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

ASSETS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "datumaro"
needs_assets = pytest.mark.skipif(
    not ASSETS.is_dir(),
    reason=f"Datumaro's own test assets are not at {ASSETS}: put the shared fixtures "
    "(shared/fixtures/datumaro, present in CI) beside the checkout to run this check",
)

MNIST_TRAIN = [5, 7]
MNIST_TEST = [0, 2, 1]
CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat"]
CIFAR100_FINE = ["airplane", "automobile", "bird"]
CIFAR100_COARSE = ["air_object", "ground_object"]


def pixels(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Deterministic uint8 pixels."""
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def mnist_images(subset: str) -> np.ndarray:
    """The (N, 28, 28) images of the generated mnist subset."""
    n = len(MNIST_TRAIN if subset == "train" else MNIST_TEST)
    return pixels((n, 28, 28), 1 if subset == "train" else 2)


def idx_labels(labels: list[int]) -> bytes:
    """An IDX1 labels file: magic 0x00000801, count, one byte per label."""
    return struct.pack(">II", 0x0801, len(labels)) + bytes(labels)


def idx_images_datumaro(images: np.ndarray) -> bytes:
    """An IDX3 images file as Datumaro writes it: its first dimension is the pixel count."""
    n, h, w = images.shape
    return struct.pack(">IIII", 0x0803, n * h * w, h, w) + images.tobytes()


def idx_images(images: np.ndarray) -> bytes:
    """A standard IDX3 images file (first dimension: the image count)."""
    n, h, w = images.shape
    return struct.pack(">IIII", 0x0803, n, h, w) + images.tobytes()


def write_mnist(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for prefix, subset, labels in (("train", "train", MNIST_TRAIN), ("t10k", "test", MNIST_TEST)):
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_labels(labels), mtime=0))
        data = idx_images_datumaro(mnist_images(subset))
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(data, mtime=0))
    return folder


def write_mnist_csv(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for subset, labels in (("train", MNIST_TRAIN), ("test", MNIST_TEST)):
        rows = [
            ",".join(map(str, [label, *image.reshape(-1).tolist()]))
            for label, image in zip(labels, mnist_images(subset))
        ]
        (folder / f"mnist_{subset}.csv").write_text("".join(r + "\n" for r in rows))
    return folder


def cifar_row(shape: tuple[int, int], seed: int) -> np.ndarray:
    """One CIFAR image row: the R, G, B planes of ``shape`` one after the other."""
    return pixels((3, *shape), seed).reshape(-1)


def _dump(path: Path, content: dict) -> None:
    path.write_bytes(pickle.dumps(content))


def write_cifar10(folder: Path) -> Path:
    folder.mkdir(parents=True)
    _dump(folder / "batches.meta", {"label_names": CIFAR10_NAMES})
    first = np.empty((1, 3072), dtype=object)
    first[0] = cifar_row((32, 32), 10)
    _dump(folder / "data_batch_1", {
        "filenames": ["image_1.png"], "labels": [0], "data": first, "batch_label": "training batch 1 of 5",
    })
    sizes = [(32, 32), (32, 32), (32, 32), (2, 2)]
    rows = np.empty(4, dtype=object)
    for i, size in enumerate(sizes):
        rows[i] = cifar_row(size, 11 + i)
    _dump(folder / "test_batch", {
        "filenames": [f"image_{i}.png" for i in range(2, 6)], "labels": [1, 3, 2, 3], "data": rows,
        "image_sizes": sizes, "batch_label": "testing batch 1 of 1",
    })
    return folder


def write_cifar100(folder: Path) -> Path:
    folder.mkdir(parents=True)
    _dump(folder / "meta", {"fine_label_names": CIFAR100_FINE, "coarse_label_names": CIFAR100_COARSE})
    for subset, sizes, seed in (("test", [(32, 32), (32, 32), (2, 2)], 20), ("train", [(7, 8), (4, 5), (4, 5)], 30)):
        rows = np.empty(3, dtype=object)
        for i, size in enumerate(sizes):
            rows[i] = cifar_row(size, seed + i)
        content = {
            "filenames": ["image_1.png", "image_2.png", "image_3.png"], "fine_labels": [0, 1, 2],
            "coarse_labels": [0, 1, 0], "data": rows, "image_sizes": sizes,
        }
        if subset == "test":
            content["batch_label"] = "testing batch 1 of 1"
        _dump(folder / subset, content)
    return folder


def png_bytes(image: np.ndarray) -> bytes:
    """A PNG file of an (H, W) grey or (H, W, 3) RGB uint8 image (filter 0 on every row)."""
    height, width = image.shape[:2]
    colour = 2 if image.ndim == 3 else 0
    raw = b"".join(b"\x00" + image[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


#: file of each generated imagenet image (relative to the folder) -> (H, W, 3) pixels
IMAGENET_FILES = {
    "label_0/label_0_1.png": pixels((8, 8, 3), 40),
    "label_1/label_1_1.png": pixels((8, 8, 3), 41),
    "label_1/label_1_1/label_1_1.png": pixels((8, 8, 3), 42),
    "label_0_2.png": pixels((10, 10, 3), 43),
}


def write_imagenet(folder: Path) -> Path:
    for name, image in IMAGENET_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(png_bytes(image))
    return folder


WRITERS = {
    "mnist_dataset": write_mnist,
    "mnist_csv_dataset": write_mnist_csv,
    "cifar10_dataset": write_cifar10,
    "cifar100_dataset": write_cifar100,
    "imagenet_dataset": write_imagenet,
}


def write_all(root: Path) -> Path:
    """All five folders under ``root``; returns ``root``."""
    for name, writer in WRITERS.items():
        writer(root / name)
    return root


@pytest.fixture
def layouts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the five generated datasets (same names as Datumaro's assets)."""
    return write_all(tmp_path_factory.mktemp("datumaro_layouts"))
