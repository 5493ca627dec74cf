"""The Penn-Fudan pedestrian database (University of Pennsylvania, Jianbo Shi's group).

``PennFudanPed.zip`` holds ``PennFudanPed/PNGImages/<stem>.png`` (170 photos
from Penn and Fudan campuses), ``PennFudanPed/PedMasks/<stem>_mask.png``
(0 background, 1, 2... one value per pedestrian) and per-image text
annotations; read by ``datamaestro.formats.penn_fudan``. As in torchvision's
detection tutorial, each pedestrian's box is derived from its mask, and its
mask is kept (``split.masks(i)``).

Checksums: none is published (by the group, torchvision or TensorFlow
Datasets), nor the archive's exact size: the zip is downloaded unverified,
and its published counts (170 images, 345 pedestrians, torchvision's
tutorial) are checked when it is indexed, so that another file is refused.
"""

from pathlib import Path

from datamaestro.data.detection import Detection, ObjectDetection
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats import penn_fudan
from datamaestro.formats.objects_index import write_classes, write_detection_index

HOMEPAGE = "https://www.cis.upenn.edu/~jshi/ped_html/"
# No published checksum (see above): the counts are checked instead.
PENN_FUDAN = archivedownloader("PennFudanPed", HOMEPAGE + "PennFudanPed.zip", subpath="PennFudanPed", varname="data")
#: the published numbers of images and pedestrians
COUNTS = {"images": 170, "pedestrians": 345}


def _index(data: Path, out: Path) -> None:
    """The index of all the images (the database has no split), after checking the published counts."""
    items = penn_fudan.read(data)
    penn_fudan.check_counts(data, items, COUNTS["images"], COUNTS["pedestrians"])
    write_detection_index(out, "all", data, items)
    write_classes(out, penn_fudan.CLASSES)


@PENN_FUDAN
@derived("index", _index, PENN_FUDAN)
@dataset(
    Detection, id="penn-fudan-ped", name="Penn-Fudan pedestrians", url=HOMEPAGE, aliases=["penn_fudan", "pennfudanped"],
    tags=["images", "colour", "objects", "detection", "instance-segmentation", "pedestrians"],
    license="unknown: no license is stated on the database's page (research use)",
    citation="""@inproceedings{wang2007object,
  author = {Liming Wang and Jianbo Shi and Gang Song and I-fan Shen},
  title = {Object Detection Combining Recognition and Segmentation},
  booktitle = {Asian Conference on Computer Vision (ACCV)},
  year = {2007}
}""", homepage=HOMEPAGE,
)
def penn_fudan_ped(data, index):
    """The Penn-Fudan pedestrian database: 170 photos with 345 pedestrians, boxes and instance masks.

    One split, ``train`` (the database has none; torchvision's tutorial
    holds out 50 images for testing). Each pedestrian has label 1
    (``pedestrian``; 0 is the background), the box around its mask in pixels
    (corner form, ``x1``, ``y1`` one past the last pixel: torchvision's
    ``masks_to_boxes`` gives one less), its instance mask
    (``ds.train.masks(i)``) and its mask value as id.
    """
    return {"train": ObjectDetection.from_index(data, index, "all"), "categories": list(penn_fudan.CLASSES)}
