"""ETH Zurich's Computer Vision Lab: Food-101.

``food-101.tar.gz`` holds ``food-101/images/<class>/<id>.jpg`` and the lists
``food-101/meta/classes.txt``, ``train.txt`` and ``test.txt``
(``datamaestro.formats.food101``).

Checksum: the sha256 digest and size of TensorFlow Datasets
(url_checksums/food101.txt, also torchvision's prototype food101.py);
torchvision records the md5 digest of the same archive (food101.py:
85eeb15f3717b99a5da872d97d918f87). The libraries fetch it over http; the
host serves https too, tried first.
"""

from pathlib import Path

from datamaestro.data.folder import ImageFolder, ImageFolderClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats import food101
from datamaestro.loaders.folder import read_categories
from datasets_registry._folders import write_indexes

HOMEPAGE = "https://data.vision.ee.ethz.ch/cvl/datasets_extra/food-101/"
ARCHIVE = archivedownloader(
    "food-101", "https://data.vision.ee.ethz.ch/cvl/food-101.tar.gz",
    mirrors=["http://data.vision.ee.ethz.ch/cvl/food-101.tar.gz"], subpath="food-101", varname="root",
    checksum="sha256:d97d15e438b7f4498f96086a4f7e2fa42a32f2712e87d3295441b2b6314053a4", size=4996278331,
)


def _index(root: Path, out: Path) -> None:
    """The train and test indexes, and the class names, from the lists of ``meta``."""
    write_indexes(out, root, *food101.read(root))


@ARCHIVE
@derived("index", _index, ARCHIVE)
@dataset(
    ImageFolderClassification, id="food-101", name="Food-101", aliases=["food101"], url=HOMEPAGE,
    tags=["images", "classification", "colour", "food", "folder"],
    license="research use: the images come from Foodspotting and are not the property of ETH Zurich; "
    "any use beyond scientific fair use must be negotiated with the pictures' owners (the archive's license text)",
    citation="""@inproceedings{bossard14,
  title = {Food-101 -- Mining Discriminative Components with Random Forests},
  author = {Bossard, Lukas and Guillaumin, Matthieu and Van Gool, Luc},
  booktitle = {European Conference on Computer Vision},
  year = {2014}
}""", homepage=HOMEPAGE,
)
def food_101(root, index):
    """Food-101: 101,000 photos of 101 dishes (apple_pie to waffles), 1,000 per dish.

    75,750 training images (750 per class, deliberately left with some noisy
    labels) and 25,250 test images (250 per class, cleaned by hand); JPEG
    images of at most 512 pixels a side. Class names as classes.txt spells them.
    """
    return {
        "train": ImageFolder.from_index(root, index, "train"),
        "test": ImageFolder.from_index(root, index, "test"),
        "categories": read_categories(index),
    }
