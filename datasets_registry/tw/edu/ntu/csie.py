"""Datasets of the LIBSVM data collection (National Taiwan University, CSIE).

Files are bzip2-compressed LIBSVM text (see ``datamaestro.formats.libsvm``).

Checksums: the md5s of torchvision's USPS (torchvision/datasets/usps.py);
the LIBSVM page publishes none.
"""

from pathlib import Path

import numpy as np

from datamaestro.data.images import ImageClassification
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.download.single import filedownloader
from datamaestro.errors import FormatError
from datamaestro.formats.libsvm import read as read_libsvm
from datamaestro.formats.splits import save_split
from datasets_registry._arrays import npy_splits

BASE = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/"
#: USPS images are 16x16, with features scaled to [-1, 1]
SIDE = 16

USPS_TRAIN = filedownloader("usps.bz2", BASE + "usps.bz2", checksum="md5:ec16c51db3855ca6c91edd34d0e9b197", varname="usps_train")
USPS_TEST = filedownloader("usps.t.bz2", BASE + "usps.t.bz2", checksum="md5:8ea070ee2aca1ac39742fdd1ef5ed118", varname="usps_test")


def usps_to_arrays(train: Path, test: Path, out: Path, limits: Limits) -> None:
    """Write both USPS splits as (N, 16, 16) uint8 images (0..255) and 0-based labels."""
    for split, path in (("train", train), ("test", test)):
        features, labels = read_libsvm(path, SIDE * SIDE, limits.max_bytes)
        if (np.abs(features) > 1).any():
            raise FormatError(f"{path}: USPS features lie in [-1, 1]; found {float(np.abs(features).max())}")
        images = np.rint((features + 1) * 127.5).astype(np.uint8).reshape(-1, SIDE, SIDE)
        save_split(out, split, images, labels - 1, 10, str(path))


@USPS_TRAIN
@USPS_TEST
@derived("arrays", usps_to_arrays, USPS_TRAIN, USPS_TEST)
@dataset(
    ImageClassification, id="usps", name="USPS", aliases=["usps"],
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
    return npy_splits(arrays, [str(digit) for digit in range(10)], "train", "test")
