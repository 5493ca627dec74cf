"""Stanford CS231n's Tiny ImageNet: 200 ImageNet classes in 64x64 images.

The zip holds ``tiny-imagenet-200/wnids.txt`` (the 200 WordNet ids),
``words.txt`` (WordNet id, tab, English names), ``train/<wnid>/images/*.JPEG``
(500 per class), ``val/images/val_<k>.JPEG`` with ``val/val_annotations.txt``
(file name, tab, WordNet id, tab, bounding box) and ``test/images`` (no
published labels: the dataset edu.stanford.cs231n.tiny-imagenet-test).

Checksum: the course page, torchvision (which has no Tiny ImageNet) and
TensorFlow Datasets (neither) publish none. The md5 used here is the one
ContinualAI's Avalanche library checks on every download of this archive
(avalanche/benchmarks/datasets/tiny_imagenet/tiny_imagenet.py), also pinned by
several independent loaders; the size (248,100,043 bytes) is recorded beside
that md5 by a download log of the archive.
"""

from pathlib import Path

from datamaestro.data.folder import ImageFolder, ImageFolderClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats.tiny_imagenet import read as read_tiny_imagenet
from datamaestro.formats.tiny_imagenet import read_test
from datamaestro.loaders.folder import read_categories
from datasets_registry._folders import write_indexes

ARCHIVE = archivedownloader(
    "tiny-imagenet-200", "https://cs231n.stanford.edu/tiny-imagenet-200.zip",
    checksum="md5:90528d7ca1a48142e341f4ef8d21d0de", size=248100043, subpath="tiny-imagenet-200",
    varname="images",
)


def _index(images: Path, out: Path) -> None:
    """The train and val indexes, and the class names, from the archive's text files."""
    write_indexes(out, images, *read_tiny_imagenet(images))


def _test_index(images: Path, out: Path) -> None:
    """The test index (every label -1), and the class names."""
    write_indexes(out, images, *read_test(images))


@ARCHIVE
@derived("index", _index, ARCHIVE)
@dataset(
    ImageFolderClassification, id="tiny-imagenet", name="Tiny ImageNet", url="https://cs231n.stanford.edu/", aliases=["tiny_imagenet", "tinyimagenet"],
    tags=["images", "classification", "colour", "imagenet", "folder"],
    license="unknown: no license is stated on the course page; the images come from ImageNet, under its terms of access (non-commercial research and education)",
    citation="""@article{le2015tiny,
  title = {Tiny ImageNet Visual Recognition Challenge},
  author = {Le, Ya and Yang, Xuan},
  journal = {CS 231N},
  volume = {7},
  number = {7},
  pages = {3},
  year = {2015}
}""", homepage="https://cs231n.stanford.edu/",
)
def tiny_imagenet(images, index):
    """Tiny ImageNet: 200 ImageNet classes, 64x64 colour JPEG images.

    100,000 training images (500 per class) and 10,000 validation images (50
    per class); the 10,000 test images have no published labels: they are
    edu.stanford.cs231n.tiny-imagenet-test. Classes are the WordNet ids in sorted order, named by their first
    English name. A few images are grey-scale: they are decoded as RGB.
    """
    return {
        "train": ImageFolder.from_index(images, index, "train"),
        "validation": ImageFolder.from_index(images, index, "val"),
        "categories": read_categories(index),
    }


@ARCHIVE
@derived("index", _test_index, ARCHIVE)
@dataset(
    ImageFolder, id="tiny-imagenet-test", name="Tiny ImageNet (test images)", aliases=["tiny_imagenet_test"], url="https://cs231n.stanford.edu/",
    tags=["images", "colour", "imagenet", "folder", "unlabelled", "test-set"],
    license=tiny_imagenet.license, citation=tiny_imagenet.citation, homepage="https://cs231n.stanford.edu/",
)
def tiny_imagenet_test(images, index):
    """Tiny ImageNet test images: 10,000 64x64 colour JPEG images whose labels are not published.

    The ``test/images`` folder of the archive of
    edu.stanford.cs231n.tiny-imagenet, in file-name order (the archive is
    downloaded once: whichever of the two is prepared second links the folder
    the other unpacked).
    Every label is -1, "no label"; ``categories`` names the 200 classes of
    edu.stanford.cs231n.tiny-imagenet, in its label order, so that
    predictions can be named.
    """
    return ImageFolder.from_index(images, index, "test", read_categories(index))
