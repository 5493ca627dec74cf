"""CIFAR-10.1, a new test set for CIFAR-10 (Recht, Roelofs, Schmidt and Shankar).

The files are plain ``.npy`` arrays in the GitHub repository: images
(N, 32, 32, 3) uint8, channels last, and 0-based labels in CIFAR-10's class
order; they are used as published (memory-mapped, no conversion).

Checksums and sizes: those of TensorFlow Datasets (``url_checksums/cifar10_1.txt``,
recorded for the ``github.com/.../blob/master/...?raw=true`` addresses, which
redirect to the same files on raw.githubusercontent.com). Both addresses are
pinned here to the repository's commit d9982abb (2020-04-15; the data files
last changed in 2018), so that a later push cannot change what they serve.
"""

from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.npy import NPY
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader
from datamaestro.formats.cifar import CIFAR10_LABELS

COMMIT = "d9982abb0bfc4846b8d13a11e66b887d946205d0"
BASE = f"https://raw.githubusercontent.com/modestyachts/CIFAR-10.1/{COMMIT}/datasets/"
HOMEPAGE = "https://github.com/modestyachts/CIFAR-10.1"
CITATION = """
@article{recht2018cifar10.1,
  author = {Benjamin Recht and Rebecca Roelofs and Ludwig Schmidt and Vaishaal Shankar},
  title = {Do {CIFAR-10} Classifiers Generalize to {CIFAR-10}?},
  year = {2018},
  note = {\\url{https://arxiv.org/abs/1806.00451}}
}

@article{torralba2008tinyimages,
  author = {Antonio Torralba and Rob Fergus and William T. Freeman},
  journal = {IEEE Transactions on Pattern Analysis and Machine Intelligence},
  title = {80 Million Tiny Images: A Large Data Set for Nonparametric Object and Scene Recognition},
  year = {2008},
  volume = {30},
  number = {11},
  pages = {1958--1970}
}
"""
#: the repository's license file
LICENSE = "MIT"


def _file(filename, sha256, size, varname):
    return filedownloader(
        filename, BASE + filename, mirrors=[f"{HOMEPAGE}/blob/{COMMIT}/datasets/{filename}?raw=true"],
        checksum=f"sha256:{sha256}", size=size, varname=varname,
    )


#: id, name, version, sha256 and size of the images and of the labels, description
VERSIONS = [
    ("cifar-10.1", "CIFAR-10.1", "v6", "2997188e5816f5bd545dc77771b6227828c28146049fcecf3fa10775474cacc6", 6144128,
     "ae40beda001693674edc94d925ee8268cfe68905f8f9aff800c8dcdfcd6c9448", 8128,
     """CIFAR-10.1 (v6): 2,000 new colour 32x32 test images for classifiers trained on CIFAR-10.

Drawn from Tiny Images like CIFAR-10, 200 per class (the version of the
paper's appendix D). A test split only: (2000, 32, 32, 3) uint8 images,
channels last, in CIFAR-10's 10 classes."""),
    ("cifar-10.1-v4", "CIFAR-10.1 (v4)", "v4", "5aaedc268df8f4cffca2ac0cf9e608ae1897a8cddb630c7a850a2ea8f6558e75", 6208640,
     "1f9544300ded199539b6662364ce7fe6c2e1ea9f87408f06db4b1a6184cffb18", 8212,
     """CIFAR-10.1 (v4): 2,021 new colour 32x32 test images, the version of the paper's main results.

Built from the top 25 Tiny Images keywords of each class, hence slightly
imbalanced (ships are 8%). A test split only: (2021, 32, 32, 3) uint8
images, channels last, in CIFAR-10's 10 classes."""),
]


def _definition(dataset_id, name, version, images_sha256, images_size, labels_sha256, labels_size, doc):
    def test_set(images, labels):
        return {"test": LabelledImages(images=NPY(path=images), labels=NPY(path=labels)), "categories": list(CIFAR10_LABELS)}

    test_set.__name__ = test_set.__qualname__ = dataset_id.replace("cifar-10.1", "cifar10_1").replace("-", "_")
    definition = dataset(
        ImageClassification, id=f"com.github.modestyachts.{dataset_id}", name=name, url=HOMEPAGE, homepage=HOMEPAGE, aliases=["cifar10_1", f"cifar10_1_{version}"],
        license=LICENSE, citation=CITATION, tags=["images", "classification", "colour", "test-set"], description=doc,
    )(test_set)
    _file(f"cifar10.1_{version}_labels.npy", labels_sha256, labels_size, "labels")(definition)
    return _file(f"cifar10.1_{version}_data.npy", images_sha256, images_size, "images")(definition)


for _version in VERSIONS:
    globals()[_version[0].replace("cifar-10.1", "cifar10_1").replace("-", "_")] = _definition(*_version)
