"""fast.ai's Imagenette and Imagewoof: 10-class subsets of ImageNet (github.com/fastai/imagenette).

Each archive (on fast.ai's S3 bucket) holds ``<name>/train/<wnid>/*.JPEG``,
``<name>/val/<wnid>/*.JPEG`` and ``<name>/noisy_<dataset>.csv``, whose
columns are ``path, noisy_labels_0, noisy_labels_1, noisy_labels_5,
noisy_labels_25, noisy_labels_50, is_valid``. The index is built from that
CSV: ``noisy_labels_0`` (the true label) and ``is_valid`` (the validation
split). Classes are the WordNet ids in sorted order, named in English.

Checksums: the Imagenette sha256 digests and sizes are those of TensorFlow
Datasets (tensorflow_datasets/datasets/imagenette/checksums.tsv); torchvision
publishes md5 digests of the same three archives (torchvision/datasets/
imagenette.py: full fe2fc210e6bb7c5664d602c3cd71e612, 320px
3df6f0d01a2c9592104656642f5e78a3, 160px e793b78cc4c9e9a4ccc0c1155377a412).
Neither fast.ai, torchvision nor TensorFlow Datasets publishes checksums of
the Imagewoof archives: they are downloaded unverified (with a warning, and
their sha256 recorded). Their sizes are fast.ai's own
(fastai/data/download_checks.py, which gives the Imagenette archives the same
sizes as TensorFlow Datasets; its second column is not used: it is not the
md5 of these files).
"""

from pathlib import Path

from datamaestro.data.folder import ImageFolder, ImageFolderClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats.imagenette import read as read_labels
from datasets_registry._folders import write_indexes

S3 = "https://s3.amazonaws.com/fast-ai-imageclas/"
HOMEPAGE = "https://github.com/fastai/imagenette"
LICENSE = "Apache-2.0 (the images come from ImageNet, under its terms of access)"
CITATION = """@software{Howard_Imagenette_2019,
  title = {Imagenette: A smaller subset of 10 easily classified classes from Imagenet},
  author = {Jeremy Howard},
  year = {2019},
  month = {March},
  publisher = {GitHub},
  url = {https://github.com/fastai/imagenette}
}"""

#: WordNet id -> class name, in label order
IMAGENETTE_CLASSES = {
    "n01440764": "tench",
    "n02102040": "English springer",
    "n02979186": "cassette player",
    "n03000684": "chain saw",
    "n03028079": "church",
    "n03394916": "French horn",
    "n03417042": "garbage truck",
    "n03425413": "gas pump",
    "n03445777": "golf ball",
    "n03888257": "parachute",
}
IMAGEWOOF_CLASSES = {
    "n02086240": "Shih-Tzu",
    "n02087394": "Rhodesian ridgeback",
    "n02088364": "beagle",
    "n02089973": "English foxhound",
    "n02093754": "Border terrier",
    "n02096294": "Australian terrier",
    "n02099601": "golden retriever",
    "n02105641": "Old English sheepdog",
    "n02111889": "Samoyed",
    "n02115641": "dingo",
}


def _archive(name, checksum=None, size=None):
    """The archive ``<name>.tgz`` on fast.ai's bucket, extracted (its top folder is ``name``)."""
    return archivedownloader(name, f"{S3}{name}.tgz", checksum=checksum, size=size, subpath=name, varname="images")


def _index(csv_name, classes):
    """The build of the train and val indexes from the archive's CSV of labels."""

    def build(images: Path, out: Path) -> None:
        write_indexes(out, images, read_labels(images / csv_name, classes))

    return build


IMAGENETTE_INDEX = _index("noisy_imagenette.csv", IMAGENETTE_CLASSES)
IMAGEWOOF_INDEX = _index("noisy_imagewoof.csv", IMAGEWOOF_CLASSES)
TAGS = ["images", "classification", "colour", "imagenet", "folder"]
IMAGENETTE_FULL = """Imagenette: 10 easily classified ImageNet classes, full-size JPEG images.

9,469 training and 3,925 validation images of tench, English springer,
cassette player, chain saw, church, French horn, garbage truck, gas pump,
golf ball and parachute; sizes vary. Decoded on access as (H, W, 3) uint8."""
IMAGEWOOF_FULL = """Imagewoof: 10 dog breeds of ImageNet, hard to tell apart, full-size JPEG images.

9,025 training and 3,929 validation images of Australian terriers, Border
terriers, Samoyeds, beagles, Shih-Tzus, English foxhounds, Rhodesian
ridgebacks, dingos, golden retrievers and Old English sheepdogs."""
RESIZED = """{name} with images resized so that their shorter side is {size} pixels.

The 10 classes and splits of com.github.fastai.{id}."""
#: id, name, archive, its checksum (Imagewoof's: none published) and size, index, classes, description
VARIANTS = [
    ("imagenette", "Imagenette (full size)", "imagenette2",
     "sha256:6cbfac238434d89fe99e651496f0812ebc7a10fa62bd42d6874042bf01de4efd", 1557161267,
     IMAGENETTE_INDEX, IMAGENETTE_CLASSES, IMAGENETTE_FULL),
    ("imagenette-320", "Imagenette (320 px)", "imagenette2-320",
     "sha256:569b4497c98db6dd29f335d1f109cf315fe127053cedf69010d047f0188e158c", 341663724,
     IMAGENETTE_INDEX, IMAGENETTE_CLASSES, RESIZED.format(name="Imagenette", size=320, id="imagenette")),
    ("imagenette-160", "Imagenette (160 px)", "imagenette2-160",
     "sha256:64d0c4859f35a461889e0147755a999a48b49bf38a7e0f9bd27003f10db02fe5", 99003388,
     IMAGENETTE_INDEX, IMAGENETTE_CLASSES, RESIZED.format(name="Imagenette", size=160, id="imagenette")),
    ("imagewoof", "Imagewoof (full size)", "imagewoof2", None, 1343715595, IMAGEWOOF_INDEX, IMAGEWOOF_CLASSES, IMAGEWOOF_FULL),
    ("imagewoof-320", "Imagewoof (320 px)", "imagewoof2-320", None, 328387740,
     IMAGEWOOF_INDEX, IMAGEWOOF_CLASSES, RESIZED.format(name="Imagewoof", size=320, id="imagewoof")),
    ("imagewoof-160", "Imagewoof (160 px)", "imagewoof2-160", None, 92612825,
     IMAGEWOOF_INDEX, IMAGEWOOF_CLASSES, RESIZED.format(name="Imagewoof", size=160, id="imagewoof")),
]


def _definition(dataset_id, name, archive_name, checksum, size, build_index, classes, doc):
    """One variant: its archive, the index built from the archive's CSV, and its typed splits."""
    archive = _archive(archive_name, checksum, size)

    def splits(images: Path, index: Path) -> dict:
        return {
            "train": ImageFolder.from_index(images, index, "train"),
            "validation": ImageFolder.from_index(images, index, "val"),
            "categories": [classes[w] for w in sorted(classes)],
        }

    splits.__name__ = splits.__qualname__ = dataset_id.replace("-", "_")
    declare = dataset(
        ImageFolderClassification, id=dataset_id, name=name, url=HOMEPAGE, tags=TAGS, description=doc, aliases=[dataset_id.replace("-", "_")],
        license=LICENSE, citation=CITATION, homepage=HOMEPAGE,
    )
    return archive(derived("index", build_index, archive)(declare(splits)))


for _variant in VARIANTS:
    globals()[_variant[0].replace("-", "_")] = _definition(*_variant)
