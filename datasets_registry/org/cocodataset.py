"""Microsoft COCO 2017 (Common Objects in Context): object detection with instance masks.

Two datasets on the same files: ``org.cocodataset.coco-2017-val`` (the
validation images and the annotations, about 1 GB) and
``org.cocodataset.coco-2017`` (also the 19 GB of training images). The
annotations archive holds ``annotations/instances_{train,val}2017.json``
(read with ``datamaestro.formats.coco``; its captions and keypoints files are
kept, not indexed); the image zips hold ``val2017/<12 digits>.jpg`` and
``train2017/...``. The 80 categories, whose ids run from 1 to 90 with gaps,
are labelled 0-79 in id order. Crowd annotations are kept, with the crowd
flag; instance masks (polygons, or run-length encoded for crowds) are
indexed as published and decoded when read (``split.masks(i)``).

The host ``images.cocodataset.org`` serves http only (its https certificate
is S3's, for another name): the first URL is the same S3 bucket over https,
the publisher's http address its mirror.

Checksums: the sha256 digests and sizes of TensorFlow Datasets
(url_checksums/coco.txt, coco2017.txt), equal to those torchvision's
prototype datasets record (coco.py); the md5 digests that circulate disagree
with each other and are not used.
"""

from pathlib import Path

from datamaestro.data.detection import Detection, ObjectDetection
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats import coco
from datamaestro.formats.annotations import Item
from datamaestro.formats.objects_index import read_classes, write_classes, write_detection_index

S3 = "https://s3.amazonaws.com/images.cocodataset.org/"
HOST = "http://images.cocodataset.org/"
HOMEPAGE = "https://cocodataset.org/"
TAGS = ["images", "colour", "objects", "detection", "instance-segmentation"]
LICENSE = "CC-BY-4.0 (the annotations); the images keep their Flickr owners' terms (the COCO terms of use)"
CITATION = """@article{DBLP:journals/corr/LinMBHPRDZ14,
  author = {Tsung{-}Yi Lin and Michael Maire and Serge J. Belongie and Lubomir D. Bourdev and Ross B. Girshick and James Hays and Pietro Perona and Deva Ramanan and Piotr Doll{\\'{a}}r and C. Lawrence Zitnick},
  title = {Microsoft {COCO:} Common Objects in Context},
  journal = {CoRR},
  volume = {abs/1405.0312},
  year = {2014},
  eprint = {1405.0312}
}"""


def _zip(name: str, path: str, checksum: str, size: int, subpath: str):
    """One COCO zip, over https from the S3 bucket, else from the publisher's http address."""
    return archivedownloader(name, S3 + path, mirrors=[HOST + path], checksum=checksum, size=size, subpath=subpath)


VAL = _zip(
    "val2017", "zips/val2017.zip",
    "sha256:4f7e2ccb2866ec5041993c9cf2a952bbed69647b115d0f74da7ce8f4bef82f05", size=815585330, subpath="val2017",
)
TRAIN = _zip(
    "train2017", "zips/train2017.zip",
    "sha256:69a8bb58ea5f8f99d24875f21416de2e9ded3178e903f1f7603e283b9e06d929", size=19336861798, subpath="train2017",
)
ANNOTATIONS = _zip(
    "annotations", "annotations/annotations_trainval2017.zip",
    "sha256:113a836d90195ee1f884e704da6304dfaaecff1f023f49b6ca93c4aaae470268", size=252907541, subpath="annotations",
)


def instances(annotations: Path, subset: str, images: Path) -> tuple[list[Item], list[str]]:
    """The images of ``instances_<subset>.json`` (files in ``images``) with their objects, and the class names."""
    reader = coco.Reader(annotations.parent)
    reader.read_source(coco.Source("instances", subset, annotations / f"instances_{subset}.json", images))
    return list(reader.items.get(subset, {}).values()), reader.categories


def _index(out: Path, annotations: Path, subsets: dict[str, Path]) -> None:
    """The index of each subset (its images folder), and the class names."""
    categories: list[str] = []
    for subset, images in subsets.items():
        items, categories = instances(annotations, subset, images)
        write_detection_index(out, subset, images, items)
    write_classes(out, categories)


def _val_index(val2017: Path, annotations: Path, out: Path) -> None:
    _index(out, annotations, {"val2017": val2017})


def _full_index(train2017: Path, val2017: Path, annotations: Path, out: Path) -> None:
    _index(out, annotations, {"train2017": train2017, "val2017": val2017})


@VAL
@ANNOTATIONS
@derived("index", _val_index, VAL, ANNOTATIONS)
@dataset(
    Detection, id="coco-2017-val", name="COCO 2017 (validation only)", aliases=["coco2017_val"], url=HOMEPAGE, tags=TAGS, license=LICENSE,
    citation=CITATION, homepage=HOMEPAGE,
)
def coco_2017_val(val2017, annotations, index):
    """COCO 2017 validation: 5,000 photos with the objects of 80 categories (boxes, instance masks).

    The validation split alone (4,952 of its images have objects), for
    evaluation or a first look without the 19 GB of training images
    (``org.cocodataset.coco-2017`` adds them). Boxes are pixels in corner
    form; labels 0-79 (the category ids in order); crowd regions carry the
    crowd flag; ``split.masks(i)`` decodes the instance masks.
    """
    return {"validation": ObjectDetection.from_index(val2017, index, "val2017"), "categories": read_classes(index).categories}


@TRAIN
@VAL
@ANNOTATIONS
@derived("index", _full_index, TRAIN, VAL, ANNOTATIONS)
@dataset(
    Detection, id="coco-2017", name="COCO 2017", aliases=["coco", "coco2017"], url=HOMEPAGE, tags=TAGS, license=LICENSE, citation=CITATION,
    homepage=HOMEPAGE,
)
def coco_2017(train2017, val2017, annotations, index):
    """COCO 2017 object detection: 123,287 photos with the objects of 80 categories (boxes, instance masks).

    Splits train (118,287 images, 117,266 with objects) and validation (5,000;
    4,952 with objects); the test images have no published annotations. A
    download of 20 GB; ``org.cocodataset.coco-2017-val`` is the validation
    split alone. Objects as there: corner boxes in pixels, labels 0-79, the
    crowd flag, instance masks decoded by ``split.masks(i)``. Indexing reads
    the 450 MB ``instances_train2017.json`` once, in a few GB of memory.
    """
    return {
        "train": ObjectDetection.from_index(train2017, index, "train2017"),
        "validation": ObjectDetection.from_index(val2017, index, "val2017"),
        "categories": read_classes(index).categories,
    }
