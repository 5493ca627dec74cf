"""The Oxford-IIIT Pet trimaps: the pets' images as a segmentation dataset.

Its id is ``uk.ac.ox.robots.oxford-iiit-pet-segmentation``, beside
``uk.ac.ox.robots.oxford-iiit-pet`` (the breeds), on the same two archives:
``images.tar.gz`` (``images/<stem>.jpg``) and ``annotations.tar.gz``
(``annotations/{trainval,test}.txt`` and ``annotations/trimaps/<stem>.png``).
Each trimap is a grey PNG whose values are 1 (pet), 2 (background) and 3
(border, not classified), the classes here (0 is unused); the splits are
those of the breed lists (``datamaestro.formats.oxford_pets``). The archives
are downloaded once: whichever of the two datasets is prepared second links
the folders the other unpacked.

Checksums: as ``uk.ac.ox.robots.oxford-iiit-pet``: the sha256 digests and
sizes of TensorFlow Datasets (tensorflow_datasets/datasets/oxford_iiit_pet/
checksums.tsv, for the thor.robots.ox.ac.uk URLs); torchvision publishes md5
digests of the same archives (oxford_iiit_pet.py: images
5c4f3ee8e5d25df40f4fd59a7f44e54c, annotations 95a8c909bbe2e81eed6a22bccdf3f68f).
"""

from pathlib import Path

from datamaestro.data.segmentation import Segmentation, SemanticSegmentation
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats import oxford_pets
from datamaestro.formats.annotations import Item
from datamaestro.formats.objects_index import write_classes, write_segmentation_index

PREFIX = "uk.ac.ox.robots."
BASE = "https://thor.robots.ox.ac.uk/~vgg/data/pets/"
MIRROR = "https://www.robots.ox.ac.uk/~vgg/data/pets/data/"
HOMEPAGE = "https://www.robots.ox.ac.uk/~vgg/data/pets/"
#: the trimap values, as class names (0 is unused)
CLASSES = ["unused", "pet", "background", "border"]
#: the colours ``show`` draws them in: black, white, grey, and the border in yellow
COLOURS = [(0, 0, 0), (255, 255, 255), (128, 128, 128), (255, 200, 0)]

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
    """The trainval and test indexes: each image with its trimap (both under the dataset's folder)."""
    root = images.parent
    for split in ("trainval", "test"):
        items = [
            Item(stem, image=images / f"{stem}.jpg", mask=annotations / "trimaps" / f"{stem}.png")
            for stem, _ in oxford_pets.read_split(annotations, split)
        ]
        write_segmentation_index(out, split, root, items)
    write_classes(out, CLASSES, COLOURS)


@IMAGES
@ANNOTATIONS
@derived("index", _index, IMAGES, ANNOTATIONS)
@dataset(
    SemanticSegmentation, id=PREFIX + "oxford-iiit-pet-segmentation", name="Oxford-IIIT Pet (trimaps)", url=HOMEPAGE, aliases=["oxford_iiit_pet_segmentation"],
    tags=["images", "segmentation", "colour", "animals"], license="CC-BY-SA-4.0",
    citation="""@InProceedings{parkhi12a,
  author = {Parkhi, O. M. and Vedaldi, A. and Zisserman, A. and Jawahar, C. V.},
  title = {Cats and Dogs},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition},
  year = {2012}
}""", homepage=HOMEPAGE,
)
def oxford_iiit_pet_segmentation(images, annotations, index):
    """The Oxford-IIIT Pet trimaps: 7,349 photos of cats and dogs, each pixel pet, background or border.

    3,680 training (trainval) and 3,669 test images; each mask holds 1 (pet),
    2 (background) or 3 (the border between them, not classified), as
    published. The breeds of the same images are ``uk.ac.ox.robots.oxford-iiit-pet``.
    """
    root = images.parent
    return {
        "train": Segmentation.from_index(root, index, "trainval"),
        "test": Segmentation.from_index(root, index, "test"),
        "categories": list(CLASSES), "colours": [list(c) for c in COLOURS],
    }
