"""The Visual Geometry Group's (University of Oxford) Oxford-IIIT Pet dataset.

``images.tar.gz`` holds ``images/<Breed_name>_<k>.jpg``;
``annotations.tar.gz`` holds ``annotations/trainval.txt`` and
``annotations/test.txt``, one line per image: ``<image id> <class id 1-37>
<species 1-2> <breed id>`` (``#`` lines are comments). Class names are the
breed part of the image ids, as torchvision names them ("Great Pyrenees").

Checksums: the sha256 digests and sizes are those of TensorFlow Datasets
(tensorflow_datasets/datasets/oxford_iiit_pet/checksums.tsv, for the
thor.robots.ox.ac.uk URLs); torchvision publishes md5 digests of the same
archives at www.robots.ox.ac.uk (torchvision/datasets/oxford_iiit_pet.py:
images 5c4f3ee8e5d25df40f4fd59a7f44e54c, annotations
95a8c909bbe2e81eed6a22bccdf3f68f), the mirror used here.
"""

from pathlib import Path

from datamaestro.data.folder import ImageFolder, ImageFolderClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats import oxford_pets
from datamaestro.loaders.folder import read_categories
from datasets_registry._folders import write_indexes

BASE = "https://thor.robots.ox.ac.uk/~vgg/data/pets/"
MIRROR = "https://www.robots.ox.ac.uk/~vgg/data/pets/data/"

IMAGES = archivedownloader(
    "images", BASE + "images.tar.gz", mirrors=[MIRROR + "images.tar.gz"],
    checksum="sha256:67195c5e1c01f1ab5f9b6a5d22b8c27a580d896ece458917e61d459337fa318d", size=791918971,
    subpath="images",
)
ANNOTATIONS = archivedownloader(
    "annotations", BASE + "annotations.tar.gz", mirrors=[MIRROR + "annotations.tar.gz"],
    checksum="sha256:52425fb6de5c424942b7626b428656fcbd798db970a937df61750c0f1d358e91", size=19173078,
    subpath="annotations",
)


def _index(images: Path, annotations: Path, out: Path) -> None:
    """The trainval and test indexes, and the breed names, from the annotation lists."""
    write_indexes(out, images, *oxford_pets.read(annotations))


@IMAGES
@ANNOTATIONS
@derived("index", _index, IMAGES, ANNOTATIONS)
@dataset(
    ImageFolderClassification, id="oxford-iiit-pet", name="Oxford-IIIT Pet", aliases=["oxford_iiit_pet", "oxfordiiitpet"],
    url="https://www.robots.ox.ac.uk/~vgg/data/pets/",
    tags=["images", "classification", "colour", "animals", "folder"], license="CC-BY-SA-4.0",
    citation="""@InProceedings{parkhi12a,
  author = {Parkhi, O. M. and Vedaldi, A. and Zisserman, A. and Jawahar, C. V.},
  title = {Cats and Dogs},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition},
  year = {2012}
}""", homepage="https://www.robots.ox.ac.uk/~vgg/data/pets/",
)
def oxford_iiit_pet(images, annotations, index):
    """The Oxford-IIIT Pet dataset: 37 cat and dog breeds, about 200 photos each.

    3,680 training (trainval) and 3,669 test JPEG images of varying sizes,
    labelled with their breed (0 to 36, in the published class order).
    A few images are grey-scale, CMYK or PNG data: all are decoded as RGB.
    """
    return {
        "train": ImageFolder.from_index(images, index, "trainval"),
        "test": ImageFolder.from_index(images, index, "test"),
        "categories": read_categories(index),
    }
