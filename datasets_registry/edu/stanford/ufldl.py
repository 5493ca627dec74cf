"""SVHN (cropped digits), The Street View House Numbers dataset of Stanford's UFLDL group.

Checksums and sizes: those of TensorFlow Datasets (``url_checksums/svhn_cropped.txt``);
torchvision's SVHN records md5s of the same files (noted beside each).
"""

from pathlib import Path

from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.download.single import filedownloader
from datamaestro.formats.svhn import save as save_svhn
from datasets_registry._arrays import npy_split, npy_splits

SVHN_HOMEPAGE = "https://ufldl.stanford.edu/housenumbers/"


def _svhn_file(split, sha256, size):
    """``<split>_32x32.mat``, over https, the plain-http address of the SVHN page as a mirror."""
    filename = f"{split}_32x32.mat"
    return filedownloader(
        filename, SVHN_HOMEPAGE + filename, mirrors=["http://ufldl.stanford.edu/housenumbers/" + filename],
        checksum=f"sha256:{sha256}", size=size, varname=f"{split}_mat",
    )


# torchvision's md5s: train e26dedcc434d2e4c54c9b2d4a06d8373, test eb5a983be6a315427106f1b164d9cef3
SVHN_TRAIN = _svhn_file("train", "435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8", 182040794)
SVHN_TEST = _svhn_file("test", "cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b", 64275384)
# torchvision's md5: a93ce644f1a588dc4d68dda5feec44a7
SVHN_EXTRA = _svhn_file("extra", "a133a4beb38a00fcdda90c9489e0c04f900b660ce8a316a5e854838379a71eb3", 1329278602)


def svhn_to_arrays(train: Path, test: Path, out: Path, limits: Limits) -> None:
    """Convert the train and test files (see ``datamaestro.formats.svhn``)."""
    save_svhn(train, out, "train", limits.max_bytes)
    save_svhn(test, out, "test", limits.max_bytes)


def svhn_extra_to_arrays(extra: Path, out: Path, limits: Limits) -> None:
    """Convert the extra file."""
    save_svhn(extra, out, "extra", limits.max_bytes)


SVHN_CITATION = """
@inproceedings{netzer2011reading,
  title = {Reading Digits in Natural Images with Unsupervised Feature Learning},
  author = {Netzer, Yuval and Wang, Tao and Coates, Adam and Bissacco, Alessandro and Wu, Bo and Ng, Andrew Y.},
  booktitle = {NIPS Workshop on Deep Learning and Unsupervised Feature Learning},
  year = {2011}
}
"""
SVHN_LICENSE = "non-commercial use only (as stated on the SVHN page)"
DIGITS = [str(digit) for digit in range(10)]


@SVHN_TRAIN
@SVHN_TEST
@derived("arrays", svhn_to_arrays, SVHN_TRAIN, SVHN_TEST)
@dataset(
    ImageClassification, id="edu.stanford.svhn", name="SVHN (cropped digits)", url=SVHN_HOMEPAGE, homepage=SVHN_HOMEPAGE, aliases=["svhn_cropped", "svhn"],
    license=SVHN_LICENSE, citation=SVHN_CITATION, tags=["images", "classification", "digits", "colour", "mat"],
)
def svhn(train_mat, test_mat, arrays):
    """SVHN cropped digits: 99,289 colour 32x32 house-number digits from Google Street View.

    73,257 training and 26,032 test images (the 531,131 "extra" images are
    the dataset edu.stanford.svhn-extra), converted once from the MATLAB files into (N, 3, 32, 32)
    uint8 arrays. Labels are the digits 0 to 9 (the files use 10 for 0).
    Needs scipy to prepare: ``pip install -e '.[mat]'``.
    """
    return npy_splits(arrays, DIGITS, "train", "test")


@SVHN_EXTRA
@derived("arrays", svhn_extra_to_arrays, SVHN_EXTRA)
@dataset(
    LabelledImages, id="edu.stanford.svhn-extra", name="SVHN (cropped digits, extra)", url=SVHN_HOMEPAGE, homepage=SVHN_HOMEPAGE, aliases=["svhn_extra"],
    license=SVHN_LICENSE, citation=SVHN_CITATION, tags=["images", "classification", "digits", "colour", "mat"],
)
def svhn_extra(extra_mat, arrays):
    """SVHN extra: 531,131 additional, somewhat less difficult colour 32x32 digits for training.

    The ``extra_32x32.mat`` file of SVHN (1.3 GB), a single split converted
    into (N, 3, 32, 32) uint8 arrays and digit labels 0 to 9; use it with
    ``edu.stanford.svhn``. Needs scipy to prepare: ``pip install -e '.[mat]'``.
    """
    split = npy_split(arrays, "extra")
    split.categories = list(DIGITS)
    return split
