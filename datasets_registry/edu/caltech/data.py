"""Caltech's data repository (data.caltech.edu): Caltech-101 and CUB-200-2011.

- Caltech-101: ``caltech-101.zip`` holds ``caltech-101/101_ObjectCategories.tar.gz``
  (``101_ObjectCategories/<category>/image_<4 digits>.jpg``), unpacked at
  prepare time, and the object outlines (``Annotations.tar``, not read).
  ``BACKGROUND_Google`` is left out, as torchvision does: 8,677 images in
  101 categories (the folder names in sorted order). No split is published:
  the dataset is one split, ``all``; the usual protocol draws 30 training
  images per class, the rest for testing.
- CUB-200-2011: ``CUB_200_2011.tgz`` holds ``CUB_200_2011/images/<class>/*.jpg``
  and the lists of ``datamaestro.formats.cub`` (images, labels, the train/test
  split); ``bounding_boxes.txt`` boxes the bird of each image (not read here).

Checksums: the sha256 digests and sizes of TensorFlow Datasets (caltech101/
checksums.tsv for this URL; url_checksums/caltech_birds2011.txt for CUB,
recorded for another copy and paired with this URL by other loaders, with
the md5 97eceeb196236b17998738112f37df78); torchvision records the md5
3138e1922a9193bfa496528edbbc45d0 of the Caltech-101 zip (caltech.py).
"""

from pathlib import Path

from datamaestro.data.folder import ImageFolder, ImageFolderClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.download.unpack import untar
from datamaestro.formats import cub
from datamaestro.formats.lists import class_folders
from datamaestro.loaders.folder import read_categories
from datasets_registry._folders import write_indexes

RECORDS = "https://data.caltech.edu/records/"
CALTECH_101 = archivedownloader(
    "caltech-101", RECORDS + "mzrjq-6wc02/files/caltech-101.zip?download=1", subpath="caltech-101", varname="archive",
    size=137414764,
    checksum="sha256:331234750fc7f77520e50d9565e8b6907b03565e30320da1401130db08c61f91",
)


def _caltech_101_images(archive: Path, out: Path, limits: Limits) -> None:
    """The inner archive of images unpacked into ``out/images``, and its index (split ``all``)."""
    images = out / "images"
    untar(archive / "101_ObjectCategories.tar.gz", images, limits, "101_ObjectCategories.tar.gz", "101_ObjectCategories")
    items, names = class_folders(images, (".jpg",), exclude=("BACKGROUND_Google",))
    write_indexes(out, images, {"all": items}, names)


@CALTECH_101
@derived("images", _caltech_101_images, CALTECH_101)
@dataset(
    ImageFolder, id="caltech-101", name="Caltech-101", aliases=["caltech101"], url=RECORDS + "mzrjq-6wc02",
    tags=["images", "classification", "colour", "objects", "folder"], license="CC-BY-4.0",
    citation="""@inproceedings{FeiFei2004LearningGV,
  title = {Learning Generative Visual Models from Few Training Examples: An Incremental Bayesian Approach Tested on 101 Object Categories},
  author = {Li Fei-Fei and Rob Fergus and Pietro Perona},
  booktitle = {Computer Vision and Pattern Recognition Workshop},
  year = {2004}
}""", homepage=RECORDS + "mzrjq-6wc02",
)
def caltech_101(archive, images):
    """Caltech-101: 8,677 photos of objects in 101 categories (40 to 800 each), about 300x200 pixels.

    One split, ``all`` (none is published), labelled by category folder in
    sorted order (Faces, Faces_easy, Leopards, Motorbikes, accordion...). A
    few images are grey-scale: all are decoded as RGB.
    """
    return ImageFolder.from_index(images / "images", images, "all", read_categories(images))


CUB = archivedownloader(
    "cub-200-2011", RECORDS + "65de6-vp158/files/CUB_200_2011.tgz?download=1", subpath="CUB_200_2011",
    varname="root", size=1150585339,
    checksum="sha256:0c685df5597a8b24909f6a7c9db6d11e008733779a671760afef78feb49bf081",
)


def _cub_index(root: Path, out: Path) -> None:
    """The train and test indexes, and the class names, from the archive's lists."""
    write_indexes(out, root, *cub.read(root))


@CUB
@derived("index", _cub_index, CUB)
@dataset(
    ImageFolderClassification, id="cub-200-2011", name="Caltech-UCSD Birds-200-2011", aliases=["caltech_birds2011", "cub_200_2011"],
    url="https://www.vision.caltech.edu/datasets/cub_200_2011/",
    tags=["images", "classification", "colour", "birds", "fine-grained", "folder"],
    license="unknown: no license is stated on the dataset page",
    citation="""@techreport{WahCUB_200_2011,
  title = {The Caltech-UCSD Birds-200-2011 Dataset},
  author = {Wah, C. and Branson, S. and Welinder, P. and Perona, P. and Belongie, S.},
  institution = {California Institute of Technology},
  number = {CNS-TR-2011-001},
  year = {2011}
}""", homepage="https://www.vision.caltech.edu/datasets/cub_200_2011/",
)
def cub_200_2011(root, index):
    """CUB-200-2011: 11,788 photos of birds of 200 species, with the published split.

    5,994 training and 5,794 test images, labelled by species (1 to 200 in
    classes.txt, 0 to 199 here; names without their number and underscores).
    The archive also boxes each bird (bounding_boxes.txt), marks 15 part
    locations and 312 attributes: they are not read here.
    """
    return {
        "train": ImageFolder.from_index(root, index, "train"),
        "test": ImageFolder.from_index(root, index, "test"),
        "categories": read_categories(index),
    }
