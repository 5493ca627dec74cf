"""Facebook AI Research's datasets.

QMNIST files are served from the GitHub repository (raw.githubusercontent.com),
pinned to its commit 94061367 (2022-09-30; the data files last changed in
2019), so that a later push cannot change what the checksums prove.
Checksums: the md5s of torchvision's QMNIST (torchvision/datasets/mnist.py);
the QMNIST README publishes none. Sizes: those of Mila's DataLad mirror of
these files (github.com/datasets-mila/datasets--qmnist, git-annex keys
``MD5E-s<size>--<md5>``, with the same md5s).
"""

from datamaestro.data.images import ImageClassification
from datamaestro.data.qmnist import Column, ExtendedLabelledImages
from datamaestro.data.tensor import IDX
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader

COMMIT = "94061367ec2e099ea18c553c75727ecf849ddb9b"
BASE = f"https://raw.githubusercontent.com/facebookresearch/qmnist/{COMMIT}/"


def _file(name, filename, md5, size):
    """One compressed IDX file of the repository, decompressed into ``name``."""
    return filedownloader(name, BASE + filename, checksum=f"md5:{md5}", size=size)


def _split(images, extended):
    labels = IDX(path=extended)
    return ExtendedLabelledImages(
        images=IDX(path=images), labels=Column(source=labels, column=0), extended_labels=labels,
    )


@_file("train_images.idx", "qmnist-train-images-idx3-ubyte.gz", "ed72d4157d28c017586c42bc6afe6370", 9704059)
@_file("train_labels.idx", "qmnist-train-labels-idx2-int.gz", "0058f8dd561b90ffdd0f734c6a30e5e4", 463024)
@_file("test_images.idx", "qmnist-test-images-idx3-ubyte.gz", "1394631089c404de565df7b7aeaf9412", 9742279)
@_file("test_labels.idx", "qmnist-test-labels-idx2-int.gz", "5b5b05890a5e13444e108efe57b788aa", 526800)
@dataset(
    ImageClassification, id="qmnist", name="QMNIST", url="https://github.com/facebookresearch/qmnist",
    homepage="https://github.com/facebookresearch/qmnist", license="BSD-3-Clause", citation="""
@incollection{qmnist-2019,
  title = {Cold Case: The Lost {MNIST} Digits},
  author = {Chhavi Yadav and L{\\'e}on Bottou},
  booktitle = {Advances in Neural Information Processing Systems 32},
  year = {2019},
  publisher = {Curran Associates, Inc.}
}
""", tags=["images", "classification", "digits", "handwriting"],
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
        "train": _split(train_images, train_labels),
        "test": _split(test_images, test_labels),
        "categories": [str(digit) for digit in range(10)],
    }
