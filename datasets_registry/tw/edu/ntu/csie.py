"""Datasets of the LIBSVM data collection (National Taiwan University, CSIE).

Files are bzip2-compressed LIBSVM text: one ``label index:value ...`` line
per example, indices from 1, omitted features being 0.

Checksums: the md5s of torchvision's USPS (torchvision/datasets/usps.py);
the LIBSVM page publishes none.
"""

import bz2
from pathlib import Path

import numpy as np

from datamaestro.data.images import ImageClassification
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.single import filedownloader
from datamaestro.errors import FormatError
from datasets_registry._arrays import npy_split, save_split

BASE = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/"
#: USPS images are 16x16, with features scaled to [-1, 1]
SIDE = 16
#: bounds on what a (decompressed) LIBSVM file may hold: USPS has 9,298 lines of about 3,000 characters
MAX_LINE = 1 << 16
MAX_EXAMPLES = 1_000_000

USPS_TRAIN = filedownloader("usps.bz2", BASE + "usps.bz2", checksum="md5:ec16c51db3855ca6c91edd34d0e9b197", varname="usps_train")
USPS_TEST = filedownloader("usps.t.bz2", BASE + "usps.t.bz2", checksum="md5:8ea070ee2aca1ac39742fdd1ef5ed118", varname="usps_test")


def read_libsvm(path: Path, features: int) -> tuple[np.ndarray, np.ndarray]:
    """(features as float32 (N, features), integer labels) of a bzip2 LIBSVM file."""
    rows: list[np.ndarray] = []
    labels: list[int] = []
    try:
        with bz2.open(path, "rt", encoding="ascii") as f:
            for number, line in enumerate(iter(lambda: f.readline(MAX_LINE), ""), 1):
                if len(line) == MAX_LINE and not line.endswith("\n"):
                    raise FormatError(f"{path}: line {number} is longer than {MAX_LINE} characters")
                if number > MAX_EXAMPLES:
                    raise FormatError(f"{path}: more than {MAX_EXAMPLES} examples")
                fields = line.split()
                if not fields:
                    continue
                row = np.zeros(features, dtype=np.float32)
                try:
                    labels.append(int(float(fields[0])))
                    for item in fields[1:]:
                        index, _, value = item.partition(":")
                        k = int(index)
                        if not 1 <= k <= features:
                            raise ValueError(f"feature index {k} outside 1..{features}")
                        row[k - 1] = float(value)
                except ValueError as e:
                    raise FormatError(f"{path}: line {number} is not LIBSVM 'label index:value ...' ({e})") from None
                rows.append(row)
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise FormatError(f"{path}: not a readable bzip2 LIBSVM file ({e})") from None
    if not rows:
        raise FormatError(f"{path}: no examples")
    return np.stack(rows), np.array(labels, dtype=np.int64)


def usps_to_arrays(train: Path, test: Path, out: Path) -> None:
    """Write both USPS splits as (N, 16, 16) uint8 images (0..255) and 0-based labels."""
    for split, path in (("train", train), ("test", test)):
        features, labels = read_libsvm(path, SIDE * SIDE)
        if (np.abs(features) > 1).any():
            raise FormatError(f"{path}: USPS features lie in [-1, 1]; found {float(np.abs(features).max())}")
        images = np.rint((features + 1) * 127.5).astype(np.uint8).reshape(-1, SIDE, SIDE)
        save_split(out, split, images, labels - 1, 10, str(path))


@USPS_TRAIN
@USPS_TEST
@derived("arrays", usps_to_arrays, USPS_TRAIN, USPS_TEST)
@dataset(
    ImageClassification, id="usps", name="USPS",
    url="https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass.html#usps",
    homepage="https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass.html#usps",
    license="unknown: no license is stated by the LIBSVM data page or the original authors", citation="""
@article{hull1994database,
  title = {A database for handwritten text recognition research},
  author = {Hull, Jonathan J.},
  journal = {IEEE Transactions on Pattern Analysis and Machine Intelligence},
  volume = {16},
  number = {5},
  pages = {550--554},
  year = {1994},
  doi = {10.1109/34.291440}
}
""", tags=["images", "classification", "digits", "handwriting", "libsvm"],
)
def usps(usps_train, usps_test, arrays):
    """USPS: 9,298 16x16 grey-scale handwritten digits scanned from US Postal Service envelopes.

    7,291 training and 2,007 test images. The LIBSVM files hold features in
    [-1, 1] and labels 1 to 10; they are converted once into uint8 images
    (0 to 255, as (value + 1) * 127.5 rounded) and labels 0 to 9 (the digit).
    """
    return {
        "train": npy_split(arrays, "train"),
        "test": npy_split(arrays, "test"),
        "categories": [str(digit) for digit in range(10)],
    }
