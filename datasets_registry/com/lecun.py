"""Yann LeCun's datasets."""

from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.tensor import IDX
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader

#: the paper that introduced MNIST (also cited by the CSV copy, com.pjreddie.mnist-csv)
CITATION = """
@article{lecun1998gradient,
  title = {Gradient-based learning applied to document recognition},
  author = {LeCun, Yann and Bottou, L{\\'e}on and Bengio, Yoshua and Haffner, Patrick},
  journal = {Proceedings of the IEEE},
  volume = {86},
  number = {11},
  pages = {2278--2324},
  year = {1998},
  doi = {10.1109/5.726791}
}
"""
#: stated at the bottom of the MNIST page
LICENSE = "CC-BY-SA-3.0"

# The host yann.lecun.com serves plain http only; the S3 copy (torchvision's) is https.
# Checksums: the md5s of torchvision's MNIST; sizes: TensorFlow Datasets' (url_checksums/mnist.txt, for
# the same files on its storage.googleapis.com/cvdf-datasets mirror).
MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]


def _mnist_file(name, filename, md5, size):
    """One MNIST file, from the first mirror that serves it."""
    return filedownloader(
        name, MIRRORS[0] + filename, mirrors=[m + filename for m in MIRRORS[1:]], checksum=f"md5:{md5}", size=size,
    )


@_mnist_file("train_images.idx", "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422)
@_mnist_file("train_labels.idx", "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28881)
@_mnist_file("test_images.idx", "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1648877)
@_mnist_file("test_labels.idx", "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4542)
@dataset(
    ImageClassification, name="MNIST", url="http://yann.lecun.com/exdb/mnist/", aliases=["mnist"],
    homepage="http://yann.lecun.com/exdb/mnist/", license=LICENSE, citation=CITATION,
    tags=["images", "classification", "digits", "handwriting"],
)
def MNIST(train_images, train_labels, test_images, test_labels):
    """The MNIST database of handwritten digits.

    70,000 grey-scale 28x28 images of the digits 0 to 9, split into 60,000
    training and 10,000 test images, with their labels.
    """
    return {
        "train": LabelledImages(images=IDX(path=train_images), labels=IDX(path=train_labels)),
        "test": LabelledImages(images=IDX(path=test_images), labels=IDX(path=test_labels)),
        "categories": [str(digit) for digit in range(10)],
    }
