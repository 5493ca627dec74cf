"""Stanford's small natural-image datasets: SVHN (cropped digits) and STL-10.

Checksums: the sha256s of TensorFlow Datasets (``url_checksums/svhn_cropped.txt``
and ``url_checksums/stl10.txt``); torchvision's SVHN and STL10 record md5s of
the same files (noted beside each).
"""

from pathlib import Path

import numpy as np

from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.download.single import filedownloader
from datamaestro.errors import FormatError
from datamaestro.optional import require
from datasets_registry._arrays import npy_split, save_split

SVHN_HOMEPAGE = "https://ufldl.stanford.edu/housenumbers/"


def _svhn_file(split, sha256):
    """``<split>_32x32.mat``, over https, the plain-http address of the SVHN page as a mirror."""
    filename = f"{split}_32x32.mat"
    return filedownloader(
        filename,
        SVHN_HOMEPAGE + filename,
        mirrors=["http://ufldl.stanford.edu/housenumbers/" + filename],
        checksum=f"sha256:{sha256}",
        varname=f"{split}_mat",
    )


# torchvision's md5s: train e26dedcc434d2e4c54c9b2d4a06d8373, test eb5a983be6a315427106f1b164d9cef3
SVHN_TRAIN = _svhn_file("train", "435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8")
SVHN_TEST = _svhn_file("test", "cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b")
# torchvision's md5: a93ce644f1a588dc4d68dda5feec44a7
SVHN_EXTRA = _svhn_file("extra", "a133a4beb38a00fcdda90c9489e0c04f900b660ce8a316a5e854838379a71eb3")


def read_mat(path: Path) -> dict:
    """The variables of a MATLAB v5 file, read with scipy.io (extra ``datamaestro[mat]``)."""
    scipy_io = require("scipy.io", "reading MATLAB .mat files", "scipy", "mat")
    try:
        return scipy_io.loadmat(path)
    except (ValueError, TypeError, OSError, EOFError, NotImplementedError) as e:
        raise FormatError(f"{path}: not a readable MATLAB v5 .mat file ({e})") from None


def svhn_split(path: Path, out: Path, split: str) -> None:
    """Write SVHN's ``X`` (32, 32, 3, N) as (N, 3, 32, 32) uint8 images and ``y`` (10 meaning 0) as digits."""
    content = read_mat(path)
    if "X" not in content or "y" not in content:
        raise FormatError(f"{path}: expected the variables X and y")
    images, labels = np.asarray(content["X"]), np.asarray(content["y"]).reshape(-1)
    if images.ndim != 4 or images.shape[2] != 3 or images.dtype != np.uint8:
        raise FormatError(f"{path}: X should be (32, 32, 3, N) uint8, got {images.shape} {images.dtype}")
    if ((labels < 1) | (labels > 10)).any():
        raise FormatError(f"{path}: y should hold labels 1 to 10 (10 for the digit 0)")
    save_split(out, split, images.transpose(3, 2, 0, 1), labels.astype(np.int64) % 10, 10, str(path))


def svhn_to_arrays(train: Path, test: Path, out: Path) -> None:
    """Convert the train and test files (see ``svhn_split``)."""
    svhn_split(train, out, "train")
    svhn_split(test, out, "test")


def svhn_extra_to_arrays(extra: Path, out: Path) -> None:
    """Convert the extra file (see ``svhn_split``)."""
    svhn_split(extra, out, "extra")


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
    ImageClassification,
    id="svhn",
    name="SVHN (cropped digits)",
    url=SVHN_HOMEPAGE,
    homepage=SVHN_HOMEPAGE,
    license=SVHN_LICENSE,
    citation=SVHN_CITATION,
    tags=["images", "classification", "digits", "colour", "mat"],
)
def svhn(train_mat, test_mat, arrays):
    """SVHN cropped digits: 99,289 colour 32x32 house-number digits from Google Street View.

    73,257 training and 26,032 test images (the 531,131 "extra" images are
    the dataset edu.stanford.svhn-extra), converted once from the MATLAB files into (N, 3, 32, 32)
    uint8 arrays. Labels are the digits 0 to 9 (the files use 10 for 0).
    Needs scipy to prepare: ``pip install -e '.[mat]'``.
    """
    return {"train": npy_split(arrays, "train"), "test": npy_split(arrays, "test"), "categories": DIGITS}


@SVHN_EXTRA
@derived("arrays", svhn_extra_to_arrays, SVHN_EXTRA)
@dataset(
    LabelledImages,
    id="svhn-extra",
    name="SVHN (cropped digits, extra)",
    url=SVHN_HOMEPAGE,
    homepage=SVHN_HOMEPAGE,
    license=SVHN_LICENSE,
    citation=SVHN_CITATION,
    tags=["images", "classification", "digits", "colour", "mat"],
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


STL10_HOMEPAGE = "https://cs.stanford.edu/~acoates/stl10/"
STL10_SIDE = 96

STL10_ARCHIVE = archivedownloader(
    "stl10_binary",
    "https://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
    mirrors=["http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"],
    # torchvision: md5 91f7769df0f17e558f3565bffb0c7dfb
    checksum="sha256:f31fd99273a1acb8609c8db427cebb1de3f71de77758cdc0e22956e1289b9866",
    subpath="stl10_binary",
)


def read_class_names(folder: Path) -> list[str]:
    """The lines of ``class_names.txt``."""
    path = Path(folder) / "class_names.txt"
    try:
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(f"{path}: not readable ({e})") from None
    if not names:
        raise FormatError(f"{path}: no class names")
    return names


def stl10_to_arrays(folder: Path, out: Path) -> None:
    """Write the labelled splits as upright (N, 3, 96, 96) uint8 images and 0-based labels.

    Each image of ``<split>_X.bin`` is stored channel by channel, each channel
    column by column (MATLAB order); ``<split>_y.bin`` holds one byte per
    image, 1 to 10.
    """
    classes = len(read_class_names(folder))
    item = 3 * STL10_SIDE * STL10_SIDE
    for split in ("train", "test"):
        images_path, labels_path = Path(folder) / f"{split}_X.bin", Path(folder) / f"{split}_y.bin"
        for path in (images_path, labels_path):
            if not path.is_file():
                raise FormatError(f"{folder}: missing {path.name}")
        size = images_path.stat().st_size
        if size == 0 or size % item:
            raise FormatError(f"{images_path}: {size} bytes is not a whole number of 3x96x96 images")
        raw = np.memmap(images_path, dtype=np.uint8, mode="r").reshape(-1, 3, STL10_SIDE, STL10_SIDE)
        labels = np.fromfile(labels_path, dtype=np.uint8).astype(np.int64) - 1
        save_split(out, split, raw.transpose(0, 1, 3, 2), labels, classes, str(labels_path))


@STL10_ARCHIVE
@derived("arrays", stl10_to_arrays, STL10_ARCHIVE)
@dataset(
    ImageClassification,
    id="stl-10",
    name="STL-10",
    url=STL10_HOMEPAGE,
    homepage=STL10_HOMEPAGE,
    license="unknown: no license is stated on the STL-10 page",
    citation="""
@inproceedings{coates2011analysis,
  title = {An Analysis of Single-Layer Networks in Unsupervised Feature Learning},
  author = {Coates, Adam and Ng, Andrew and Lee, Honglak},
  booktitle = {Proceedings of the Fourteenth International Conference on Artificial Intelligence and Statistics},
  series = {Proceedings of Machine Learning Research},
  volume = {15},
  pages = {215--223},
  year = {2011}
}
""",
    tags=["images", "classification", "colour"],
)
def stl10(stl10_binary, arrays):
    """STL-10: colour 96x96 images of 10 classes, for unsupervised and self-taught learning.

    5,000 labelled training and 8,000 test images (airplane, bird, car, cat,
    deer, dog, horse, monkey, ship, truck), converted from the column-major
    binary files into upright (N, 3, 96, 96) uint8 arrays. The 100,000
    unlabelled images and the ten training folds stay in ``stl10_binary``.
    """
    return {
        "train": npy_split(arrays, "train"),
        "test": npy_split(arrays, "test"),
        "categories": read_class_names(stl10_binary),
    }
