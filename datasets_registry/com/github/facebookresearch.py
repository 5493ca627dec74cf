"""Facebook AI Research's datasets.

QMNIST files are served from the GitHub repository (raw.githubusercontent.com),
pinned to its commit 94061367 (2022-09-30; the data files last changed in
2019), so that a later push cannot change what the checksums prove.
Checksums: the md5s of torchvision's QMNIST (torchvision/datasets/mnist.py);
the QMNIST README publishes none. Sizes: those of Mila's DataLad mirror of
these files (github.com/datasets-mila/datasets--qmnist, git-annex keys
``MD5E-s<size>--<md5>``, with the same md5s).

Besides ``train`` and ``test``, QMNIST publishes the NIST digits of its
reconstruction (``xnist-*.xz``, 402,953 digits: the dataset
com.github.facebookresearch.qmnist-nist) and defines the halves of its test
set: ``test10k``, the first 10,000 test digits (those of MNIST's test set),
and ``test50k``, the other 50,000 (the lost MNIST digits): the datasets
com.github.facebookresearch.qmnist-test10k and -test50k, as torchvision's
QMNIST names them. Each fetches its files itself (compressed files are not
shared between datasets).
"""

from pathlib import Path

import numpy as np

from datamaestro.data.images import ImageClassification
from datamaestro.data.npy import NPY
from datamaestro.data.qmnist import Column, ExtendedLabelledImages
from datamaestro.data.tensor import IDX, Tensor
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.single import filedownloader

COMMIT = "94061367ec2e099ea18c553c75727ecf849ddb9b"
BASE = f"https://raw.githubusercontent.com/facebookresearch/qmnist/{COMMIT}/"


def _file(name, filename, md5, size):
    """One compressed IDX file of the repository, decompressed into ``name``."""
    return filedownloader(name, BASE + filename, checksum=f"md5:{md5}", size=size)


def _split(images: Tensor, labels: Tensor, categories=None) -> ExtendedLabelledImages:
    """Images with QMNIST's extended labels, whose first column is the digit."""
    return ExtendedLabelledImages(
        images=images, labels=Column(source=labels, column=0), extended_labels=labels, categories=categories,
    )


DIGITS = [str(digit) for digit in range(10)]
CITATION = """
@incollection{qmnist-2019,
  title = {Cold Case: The Lost {MNIST} Digits},
  author = {Chhavi Yadav and L{\\'e}on Bottou},
  booktitle = {Advances in Neural Information Processing Systems 32},
  year = {2019},
  publisher = {Curran Associates, Inc.}
}
"""
HOMEPAGE = "https://github.com/facebookresearch/qmnist"
LICENSE = "BSD-3-Clause"
TAGS = ["images", "classification", "digits", "handwriting"]

TRAIN_IMAGES = _file("train_images.idx", "qmnist-train-images-idx3-ubyte.gz", "ed72d4157d28c017586c42bc6afe6370", 9704059)
TRAIN_LABELS = _file("train_labels.idx", "qmnist-train-labels-idx2-int.gz", "0058f8dd561b90ffdd0f734c6a30e5e4", 463024)
TEST_IMAGES = _file("test_images.idx", "qmnist-test-images-idx3-ubyte.gz", "1394631089c404de565df7b7aeaf9412", 9742279)
TEST_LABELS = _file("test_labels.idx", "qmnist-test-labels-idx2-int.gz", "5b5b05890a5e13444e108efe57b788aa", 526800)
NIST_IMAGES = _file("nist_images.idx", "xnist-images-idx3-ubyte.xz", "7f124b3b8ab81486c9d8c2749c17f834", 51325860)
NIST_LABELS = _file("nist_labels.idx", "xnist-labels-idx2-int.xz", "5ed0e788978e45d4a8bd4b7caec3d79d", 958144)


@TRAIN_IMAGES
@TRAIN_LABELS
@TEST_IMAGES
@TEST_LABELS
@dataset(
    ImageClassification, id="qmnist", name="QMNIST", url=HOMEPAGE, homepage=HOMEPAGE, license=LICENSE, aliases=["qmnist"],
    citation=CITATION, tags=TAGS,
)
def qmnist(train_images, train_labels, test_images, test_labels):
    """QMNIST: MNIST reconstructed from NIST Special Database 19, with the 50,000 lost test digits.

    60,000 training images (matching MNIST's one by one) and 60,000 test
    images (the first 10,000 match MNIST's test set). ``labels`` is the
    digit; ``extended_labels`` is the published (N, 8) int32 table tracing
    each digit to NIST (columns named in ``extended_columns``: class, HSF
    series, writer, digit index for the writer, NIST class code, global
    NIST index, duplicate, unused).
    """
    return {
        "train": _split(IDX(path=train_images), IDX(path=train_labels)),
        "test": _split(IDX(path=test_images), IDX(path=test_labels)),
        "categories": DIGITS,
    }


@NIST_IMAGES
@NIST_LABELS
@dataset(
    ExtendedLabelledImages, id="qmnist-nist", name="QMNIST (NIST digits)", url=HOMEPAGE, homepage=HOMEPAGE, aliases=["qmnist_nist"],
    license=LICENSE, citation=CITATION, tags=TAGS,
)
def qmnist_nist(nist_images, nist_labels):
    """QMNIST NIST digits: all 402,953 handwritten digits of NIST Special Database 19, processed as QMNIST.

    One split of 28x28 grey-scale images with QMNIST's extended labels (the
    published ``xnist-*.xz`` files): ``labels`` is the digit,
    ``extended_labels`` the (N, 8) int32 table tracing each digit to NIST
    (its writer, HSF series...), as com.github.facebookresearch.qmnist.
    """
    return _split(IDX(path=nist_images), IDX(path=nist_labels), list(DIGITS))


def _test_part(start: int, stop: int):
    """The build writing the test digits ``start:stop`` as ``images.npy`` and ``labels.npy``."""

    def build(images: Path, labels: Path, out: Path) -> None:
        np.save(out / "images.npy", np.ascontiguousarray(IDX(path=images).data()[start:stop]))
        np.save(out / "labels.npy", np.ascontiguousarray(IDX(path=labels).data()[start:stop]))

    build.__doc__ = f"Write QMNIST's test digits {start} to {stop - 1} as .npy arrays."
    return build


#: id, first and last + 1 test digit, name, description
TEST_PARTS = [
    ("qmnist-test10k", 0, 10000, "QMNIST (test10k)", """QMNIST test10k: the first 10,000 QMNIST test digits, those of MNIST's test set.

The part of com.github.facebookresearch.qmnist's test split that matches
MNIST's 10,000 test images one by one (torchvision's QMNIST "test10k"),
with QMNIST's extended labels."""),
    ("qmnist-test50k", 10000, 60000, "QMNIST (test50k)", """QMNIST test50k: the 50,000 lost MNIST test digits that QMNIST reconstructed.

The last 50,000 digits of com.github.facebookresearch.qmnist's test split,
never published with MNIST (torchvision's QMNIST "test50k"), with QMNIST's
extended labels."""),
]


def _test_definition(dataset_id: str, start: int, stop: int, name: str, doc: str):
    """One part of the test split: its digits written once from the test files."""

    def part(test_images: Path, test_labels: Path, arrays: Path) -> ExtendedLabelledImages:
        return _split(NPY(path=arrays / "images.npy"), NPY(path=arrays / "labels.npy"), list(DIGITS))

    part.__name__ = part.__qualname__ = dataset_id.replace("-", "_")
    declare = dataset(
        ExtendedLabelledImages, id=dataset_id, name=name, url=HOMEPAGE, homepage=HOMEPAGE, license=LICENSE,
        citation=CITATION, tags=[*TAGS, "test-set"], description=doc, aliases=[part.__name__],
    )
    return TEST_IMAGES(TEST_LABELS(derived("arrays", _test_part(start, stop), TEST_IMAGES, TEST_LABELS)(declare(part))))


for _part in TEST_PARTS:
    globals()[_part[0].replace("-", "_")] = _test_definition(*_part)
