"""The Visual Geometry Group's (University of Oxford) Flowers-102, DTD and FGVC-Aircraft.

Their ids are ``uk.ac.ox.robots.*``, beside Oxford-IIIT Pet: the group's host.

- Flowers-102: ``102flowers.tgz`` (``jpg/image_<5 digits>.jpg``), labelled by
  ``imagelabels.mat`` and split by ``setid.mat`` (``datamaestro.formats.flowers``).
- DTD: ``dtd-r1.0.1.tar.gz`` (a plain tar despite its name) holds
  ``dtd/images/<class>/*.jpg`` and ten partitions ``dtd/labels/{train,val,test}{1..10}.txt``.
- FGVC-Aircraft 2013b: ``fgvc-aircraft-2013b/data/images/<id>.jpg`` with
  lists at three levels, variant, family and manufacturer (``datamaestro.formats.fgvc``).

Checksums: Flowers-102 and DTD, the sha256 digests and sizes of TensorFlow
Datasets (url_checksums/oxford_flowers102.txt, dtd.txt); torchvision records
md5 digests of the same files (flowers102.py: 52808999861908f626f3c1f4e79d11fa,
e0620be6f572b9609742df49c70aed4d, a5357ecc9cb78c4bef273ce3793fc85c; dtd.py:
fff73e5086ae6bdbea199a49dfb8a4c1). FGVC-Aircraft: no checksum is published
(by the group, torchvision or TensorFlow Datasets), nor its exact size: the
archive is downloaded unverified, and its published counts (3,334 train,
3,333 val and 3,333 test images; 100 variants, 70 families, 30
manufacturers) are checked when it is indexed, so that another file is refused.
"""

from pathlib import Path

from datamaestro.data.folder import ImageFolder, ImageFolderClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.download.single import filedownloader
from datamaestro.formats import dtd, fgvc, flowers
from datamaestro.loaders.folder import read_categories
from datasets_registry._folders import write_indexes

PREFIX = "uk.ac.ox.robots."
VGG = "https://www.robots.ox.ac.uk/~vgg/data/"
TAGS = ["images", "classification", "colour", "folder"]


def _splits(images: Path, index: Path, categories=None) -> dict:
    """The train, validation and test splits of an index, with the class names it recorded."""
    names = (("train", "train"), ("validation", "val"), ("test", "test"))
    splits = {name: ImageFolder.from_index(images, index, split) for name, split in names}
    return {**splits, "categories": categories or read_categories(index)}


FLOWER_IMAGES = archivedownloader(
    "jpg", VGG + "flowers/102/102flowers.tgz", subpath="jpg", varname="images", size=344862509,
    checksum="sha256:2d01ecc807db462958cfe3d92f57a8c252b4abd240eb955770201e45f783b246",
)
FLOWER_LABELS = filedownloader(
    "imagelabels.mat", VGG + "flowers/102/imagelabels.mat", size=502,
    checksum="sha256:4903e94206bac23bf772aadf06451916df56b58fc483a62db32a97b82656651d",
)
FLOWER_SPLITS = filedownloader(
    "setid.mat", VGG + "flowers/102/setid.mat", size=14989,
    checksum="sha256:46b8678f91fd95d3c8f4feab80d271a6c834a1dd896fe29fd3e6ad9ce5c8dccd",
)


def _flowers_index(images: Path, labels: Path, setid: Path, out: Path) -> None:
    """The train, val and test indexes, from the two MATLAB files."""
    write_indexes(out, images, flowers.read(labels, setid))


@FLOWER_IMAGES
@FLOWER_LABELS
@FLOWER_SPLITS
@derived("index", _flowers_index, FLOWER_IMAGES, FLOWER_LABELS, FLOWER_SPLITS)
@dataset(
    ImageFolderClassification, id=PREFIX + "flowers-102", name="Oxford Flowers-102", url=VGG + "flowers/102/", aliases=["oxford_flowers102", "flowers102"],
    tags=[*TAGS, "flowers", "mat"], license="unknown: no license is stated on the dataset page",
    citation="""@InProceedings{Nilsback08,
  author = {Maria-Elena Nilsback and Andrew Zisserman},
  title = {Automated Flower Classification over a Large Number of Classes},
  booktitle = {Indian Conference on Computer Vision, Graphics and Image Processing},
  year = {2008}
}""", homepage=VGG + "flowers/102/",
)
def flowers_102(images, imagelabels, setid, index):
    """Oxford Flowers-102: 8,189 photos of flowers common in the United Kingdom, in 102 species.

    The published split: 1,020 training and 1,020 validation images (10 per
    class) and 6,149 test images; JPEG images of varying sizes. Reading the
    labels needs scipy (``pip install datamaestro[mat]``).
    """
    return _splits(images, index, flowers.NAMES)


DTD = archivedownloader(
    "dtd", VGG + "dtd/download/dtd-r1.0.1.tar.gz", subpath="dtd", varname="root", size=625239812,
    checksum="sha256:e42855a52a4950a3b59612834602aa253914755c95b0cff9ead6d07395f8e205",
)


def _dtd_index(root: Path, out: Path) -> None:
    """Partition 1 in ``out``, partition ``k`` in ``out/fold<k>``: train, val and test each."""
    folds, names = dtd.read(root)
    for k, splits in folds.items():
        folder = out if k == 1 else out / f"fold{k}"
        folder.mkdir(exist_ok=True)
        write_indexes(folder, root, splits, names)


@DTD
@derived("index", _dtd_index, DTD)
@dataset(
    ImageFolderClassification, id=PREFIX + "dtd", name="Describable Textures Dataset (DTD)", url=VGG + "dtd/", aliases=["dtd"],
    tags=[*TAGS, "textures"], license="research use: made available to the computer vision community for research purposes",
    citation="""@InProceedings{cimpoi14describing,
  author = {M. Cimpoi and S. Maji and I. Kokkinos and S. Mohamed and A. Vedaldi},
  title = {Describing Textures in the Wild},
  booktitle = {Proceedings of the {IEEE} Conference on Computer Vision and Pattern Recognition ({CVPR})},
  year = {2014}
}""", homepage=VGG + "dtd/",
)
def dtd_textures(root, index):
    """The Describable Textures Dataset: 5,640 texture images in 47 classes (120 each).

    Partition 1 of the ten published ones: 1,880 images in each of train,
    validation and test. The other partitions are indexed beside it, in the
    folders ``fold2`` to ``fold10`` of the index (``ds.train.files.parent``):
    ``ImageFolder.from_index(ds.train.root, folder, "train", ds.categories)``
    (splits train, val, test).
    Classes are the image folders in sorted order (banded, blotchy...).
    """
    return _splits(root, index)


# No published checksum (see above): the counts are checked instead.
FGVC = archivedownloader(
    "fgvc-aircraft-2013b", VGG + "fgvc-aircraft/archives/fgvc-aircraft-2013b.tar.gz",
    subpath="fgvc-aircraft-2013b/data", varname="data",
)
#: the published number of images of each split, and of classes at each level
COUNTS = {"train": 3334, "val": 3333, "test": 3333}
CLASSES = {"variant": 100, "family": 70, "manufacturer": 30}


def _fgvc_index(data: Path, out: Path) -> None:
    """The variant labels in ``out``, the family and manufacturer labels in ``out/family``, ``out/manufacturer``."""
    for level in fgvc.LEVELS:
        splits, names = fgvc.read(data, level)
        fgvc.check_counts(data, splits, names, {**COUNTS, "classes": CLASSES[level]})
        folder = out if level == "variant" else out / level
        folder.mkdir(exist_ok=True)
        write_indexes(folder, data, splits, names)


@FGVC
@derived("index", _fgvc_index, FGVC)
@dataset(
    ImageFolderClassification, id=PREFIX + "fgvc-aircraft", name="FGVC-Aircraft 2013b", url=VGG + "fgvc-aircraft/", aliases=["fgvc_aircraft", "fgvcaircraft"],
    tags=[*TAGS, "aircraft", "fine-grained"],
    license="non-commercial research only: the photographers keep the copyright of the images (the archive's README)",
    citation="""@techreport{maji13fine-grained,
  title = {Fine-Grained Visual Classification of Aircraft},
  author = {S. Maji and J. Kannala and E. Rahtu and M. Blaschko and A. Vedaldi},
  year = {2013},
  archivePrefix = {arXiv},
  eprint = {1306.5151}
}""", homepage=VGG + "fgvc-aircraft/",
)
def fgvc_aircraft(data, index):
    """FGVC-Aircraft 2013b: 10,000 photos of aircraft, labelled by their variant (100 classes).

    3,334 training, 3,333 validation and 3,333 test images (the published
    trainval split is train plus validation). The family (70 classes) and
    manufacturer (30) labels are indexed beside them, in the folders
    ``family`` and ``manufacturer`` of the index (``ds.train.files.parent``):
    ``ImageFolder.from_index(ds.train.root, folder, "test", read_categories(folder))``
    (splits train, val, test; ``read_categories`` from ``datamaestro.loaders.folder``).
    Each image keeps its 20-pixel copyright banner at the bottom.
    """
    return _splits(data, index)
