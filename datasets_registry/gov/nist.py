"""EMNIST, the extension of MNIST to handwritten letters, from NIST Special Database 19.

The published archive ``gzip.zip`` (see ``datamaestro.formats.emnist``) holds
the six splits (the table SPLITS); each is its own dataset, converted from the
same archive into upright ``.npy`` arrays.

Checksum: sha256 of ``gzip.zip`` from TensorFlow Datasets
(``url_checksums/emnist.txt``, 561,753,746 bytes); torchvision's EMNIST
records md5 58c8d27c78d21e728a6bc7b3cc06412e for the same file. The former
mirror www.itl.nist.gov/iaui/vip/cs_links/EMNIST/gzip.zip is not used: it
now serves other bytes.
"""

from pathlib import Path

from datamaestro.data.images import ImageClassification
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.download.single import filedownloader
from datamaestro.formats.emnist import class_names, convert_split
from datasets_registry._arrays import npy_splits

HOMEPAGE = "https://www.nist.gov/itl/products-and-services/emnist-dataset"
LICENSE = "unknown: no license is stated on the EMNIST page (derived from NIST Special Database 19)"
CITATION = """
@inproceedings{cohen2017emnist,
  title = {{EMNIST}: Extending {MNIST} to handwritten letters},
  author = {Cohen, Gregory and Afshar, Saeed and Tapson, Jonathan and van Schaik, Andr{\\'e}},
  booktitle = {2017 International Joint Conference on Neural Networks (IJCNN)},
  pages = {2921--2926},
  year = {2017},
  doi = {10.1109/IJCNN.2017.7966217}
}
"""

ARCHIVE = filedownloader(
    "gzip.zip", "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",
    checksum="sha256:fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e", size=561753746,
    varname="archive",
)


def _definition(split: str, name: str, extra_tags: list[str], doc: str):
    """The dataset of one split: its arrays are converted from the shared archive."""

    def build(archive_path: Path, out: Path, limits: Limits) -> None:
        convert_split(split, archive_path, out, limits.max_bytes)

    def emnist(archive: Path, arrays: Path) -> dict:
        return npy_splits(arrays, class_names(archive, split), "train", "test")

    build.__doc__ = f"Convert the EMNIST {split} split of gzip.zip into upright .npy arrays."
    emnist.__name__ = emnist.__qualname__ = f"emnist_{split}"
    declare = dataset(
        ImageClassification, id=f"gov.nist.emnist.{split}", name=name, description=doc, url=HOMEPAGE, aliases=[f"emnist_{split}", "emnist"],
        homepage=HOMEPAGE, license=LICENSE, citation=CITATION, tags=TAGS + extra_tags,
    )
    return ARCHIVE(derived("arrays", build, ARCHIVE)(declare(emnist)))


TAGS = ["images", "classification", "characters", "handwriting", "emnist"]
#: split, name, extra tags, description
SPLITS = [
    ("byclass", "EMNIST ByClass", [], """EMNIST ByClass: 814,255 28x28 handwritten characters in 62 unbalanced classes.

Digits, upper- and lower-case letters (0-9, A-Z, a-z): 697,932 training
and 116,323 test images, upright."""),
    ("bymerge", "EMNIST ByMerge", [], """EMNIST ByMerge: 814,255 28x28 handwritten characters in 47 unbalanced classes.

As ByClass, with the 15 letters whose upper and lower case look alike
(C, I, J, K, L, M, O, P, S, U, V, W, X, Y, Z) merged: 697,932 training
and 116,323 test images, upright."""),
    ("balanced", "EMNIST Balanced", [], """EMNIST Balanced: 131,600 28x28 handwritten characters in 47 balanced classes.

The ByMerge classes with the same number of images each: 112,800
training and 18,800 test images, upright."""),
    ("letters", "EMNIST Letters", [], """EMNIST Letters: 145,600 28x28 handwritten letters in 26 balanced classes.

Upper and lower case merged: 124,800 training and 20,800 test images,
upright. Labels are 1 to 26 as published (category 0 is unused, "N/A")."""),
    ("digits", "EMNIST Digits", ["digits"], """EMNIST Digits: 280,000 28x28 handwritten digits in 10 balanced classes.

240,000 training and 40,000 test images, upright."""),
    ("mnist", "EMNIST MNIST", ["digits"], """EMNIST MNIST: 70,000 28x28 handwritten digits, the size and balance of MNIST.

60,000 training and 10,000 test images, upright, converted from NIST
Special Database 19 by the EMNIST process."""),
]
for _split, _name, _tags, _doc in SPLITS:
    globals()[f"emnist_{_split}"] = _definition(_split, _name, _tags, _doc)
