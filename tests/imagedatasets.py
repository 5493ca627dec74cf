"""A test registry with an MNIST-like dataset served by the loopback server (for show/info tests)."""

from __future__ import annotations

from typing import Any

import makefiles
import numpy as np

DATASET = "org.test.digits"
NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

SOURCE = """
from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.tensor import IDX
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader

BASE = {base!r}

@filedownloader("train_images.idx", BASE + "train-images-idx3-ubyte.gz", checksum="md5:{train_images}")
@filedownloader("train_labels.idx", BASE + "train-labels-idx1-ubyte.gz", checksum="md5:{train_labels}")
@filedownloader("test_images.idx", BASE + "t10k-images-idx3-ubyte.gz", checksum="md5:{test_images}")
@filedownloader("test_labels.idx", BASE + "t10k-labels-idx1-ubyte.gz", checksum="md5:{test_labels}")
@dataset(ImageClassification, name="Test digits", tags=["images"])
def digits(train_images, train_labels, test_images, test_labels):
    \"\"\"MNIST-like test digits.\"\"\"
    return {{
        "train": LabelledImages(images=IDX(path=train_images), labels=IDX(path=train_labels)),
        "test": LabelledImages(images=IDX(path=test_images), labels=IDX(path=test_labels)),
        "categories": {names!r},
    }}
"""


def serve_digits(env: Any, server: Any, n_train: int = 20, n_test: int = 8) -> dict[str, np.ndarray]:
    """Serve MNIST-like files and define ``org.test.digits`` on them; returns the arrays."""
    files, arrays = makefiles.mnist_gz_files(n_train, n_test)
    for name, data in files.items():
        server.files["/digits/" + name] = data
    md5s = {var: makefiles.md5(files[makefiles.MNIST_FILES[var]]) for var in makefiles.MNIST_FILES}
    source = SOURCE.format(base=server.url("digits/"), names=NAMES, **md5s)
    makefiles.write_module(env.use_registry(), "org.test", source)
    return arrays
