"""DFKI's Multimedia Analysis and Data Mining group: EuroSAT (RGB).

``EuroSAT.zip`` holds ``2750/<class>/<class>_<n>.jpg``: 27,000 Sentinel-2
patches of 64x64 pixels in 10 land-use classes. No split is published: the
dataset is one split, ``all`` (the class folders in sorted order, the files
in name order); draw your own (torchgeo and others publish some).

Checksum: the sha256 digest and size of TensorFlow Datasets
(url_checksums/eurosat.txt, also torchvision's prototype eurosat.py);
torchvision records the md5 digest c8fa014336c82ac7804f0398fcb19387 for the
same file and fetches it from the torchgeo copy on Hugging Face (a mirror
here). The multispectral archive (EuroSATallBands.zip) is not defined.
"""

from pathlib import Path

from datamaestro.data.folder import ImageFolder
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats.lists import class_folders
from datamaestro.loaders.folder import read_categories
from datasets_registry._folders import write_indexes

ARCHIVE = archivedownloader(
    "eurosat", "https://madm.dfki.de/files/sentinel/EuroSAT.zip", subpath="2750", varname="root",
    mirrors=[
        "http://madm.dfki.de/files/sentinel/EuroSAT.zip",
        "https://huggingface.co/datasets/torchgeo/eurosat/resolve/c877bcd43f099cd0196738f714544e355477f3fd/EuroSAT.zip",
    ],
    checksum="sha256:8ebea626349354c5328b142b96d0430e647051f26efc2dc974c843f25ecf70bd", size=94280567,
)


def _index(root: Path, out: Path) -> None:
    """The index of every image (split ``all``), labelled by its class folder."""
    items, names = class_folders(root, (".jpg",))
    write_indexes(out, root, {"all": items}, names)


@ARCHIVE
@derived("index", _index, ARCHIVE)
@dataset(
    ImageFolder, id="eurosat-rgb", name="EuroSAT (RGB)", aliases=["eurosat", "eurosat_rgb"], url="https://github.com/phelber/EuroSAT",
    tags=["images", "classification", "colour", "satellite", "remote-sensing", "folder"],
    license="MIT (the publisher's repository; whether it covers the images is not stated)",
    citation="""@article{helber2019eurosat,
  title = {EuroSAT: A Novel Dataset and Deep Learning Benchmark for Land Use and Land Cover Classification},
  author = {Helber, Patrick and Bischke, Benjamin and Dengel, Andreas and Borth, Damian},
  journal = {IEEE Journal of Selected Topics in Applied Earth Observations and Remote Sensing},
  year = {2019}
}""", homepage="https://github.com/phelber/EuroSAT",
)
def eurosat_rgb(root, index):
    """EuroSAT (RGB): 27,000 Sentinel-2 satellite patches, 64x64 RGB JPEG, in 10 land-use classes.

    AnnualCrop, Forest, HerbaceousVegetation, Highway, Industrial, Pasture,
    PermanentCrop, Residential, River and SeaLake, 2,000 to 3,000 images
    each. One split, ``all``: no split is published.
    """
    return ImageFolder.from_index(root, index, "all", read_categories(index))
