"""Datasets of the Stanford AI Lab: Andrew Maas's Large Movie Review Dataset (IMDB reviews) and STL-10.

``aclImdb_v1.tar.gz`` holds ``aclImdb/{train,test}/{neg,pos}/<id>_<rating>.txt``
(one review per file, UTF-8) and ``aclImdb/train/unsup`` (50,000 unlabelled
reviews, left out). At prepare time the labelled reviews are gathered into
one text file per split with their offsets and labels, in (label, id) order.

Checksums: the IMDB sha256 digest and size are those of TensorFlow Datasets
(tensorflow_datasets/datasets/imdb_reviews/checksums.tsv); STL-10's sha256 and
size are TensorFlow Datasets' (``url_checksums/stl10.txt``), and torchvision's
STL10 records an md5 of the same file (noted beside it).
"""

from pathlib import Path

import numpy as np

from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.npy import NPY
from datamaestro.data.text import LabelledTexts, TextClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.formats.imdb import reviews as imdb_reviews
from datamaestro.formats.stl10 import read_class_names, read_folds, save_unlabelled
from datamaestro.formats.stl10 import save as save_stl10
from datamaestro.loaders.text import text_files, write_texts
from datasets_registry._arrays import npy_split, npy_splits

CATEGORIES = ["neg", "pos"]

ARCHIVE = archivedownloader(
    "aclImdb", "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    checksum="sha256:c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe", size=84125825,
    subpath="aclImdb",
)


def _texts(reviews: Path, out: Path) -> None:
    """One texts file per split from the review folders."""
    for split in ("train", "test"):
        write_texts(out, split, imdb_reviews(reviews, split, CATEGORIES))


def _split(texts: Path, split: str) -> LabelledTexts:
    blob, offsets, labels = text_files(texts, split)
    return LabelledTexts(texts=blob, offsets=NPY(path=offsets), labels=NPY(path=labels))


@ARCHIVE
@derived("texts", _texts, ARCHIVE)
@dataset(
    TextClassification, id="imdb", name="IMDB movie reviews", url="https://ai.stanford.edu/~amaas/data/sentiment/", aliases=["imdb_reviews", "imdb"],
    tags=["text", "classification", "sentiment", "english"],
    license="unknown: no license is stated on the dataset page (the reviews come from IMDb)",
    citation="""@InProceedings{maas-EtAl:2011:ACL-HLT2011,
  author = {Maas, Andrew L. and Daly, Raymond E. and Pham, Peter T. and Huang, Dan and Ng, Andrew Y. and Potts, Christopher},
  title = {Learning Word Vectors for Sentiment Analysis},
  booktitle = {Proceedings of the 49th Annual Meeting of the Association for Computational Linguistics: Human Language Technologies},
  month = {June},
  year = {2011},
  address = {Portland, Oregon, USA},
  publisher = {Association for Computational Linguistics},
  pages = {142--150},
  url = {http://www.aclweb.org/anthology/P11-1015}
}""", homepage="https://ai.stanford.edu/~amaas/data/sentiment/",
)
def imdb(aclImdb, texts):
    """Large Movie Review Dataset: 50,000 IMDB reviews labelled negative or positive.

    25,000 training and 25,000 test reviews, balanced, as strings (raw text,
    with the published ``<br />`` line breaks); labels 0 (neg, rating <= 4)
    and 1 (pos, rating >= 7).
    """
    return {"train": _split(texts, "train"), "test": _split(texts, "test"), "categories": CATEGORIES}


STL10_HOMEPAGE = "https://cs.stanford.edu/~acoates/stl10/"

STL10_ARCHIVE = archivedownloader(
    "stl10_binary",
    "https://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
    mirrors=["http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"],
    # torchvision: md5 91f7769df0f17e558f3565bffb0c7dfb
    checksum="sha256:f31fd99273a1acb8609c8db427cebb1de3f71de77758cdc0e22956e1289b9866", size=2640397119,
    subpath="stl10_binary",
)


def stl10_to_arrays(folder: Path, out: Path, limits: Limits) -> None:
    """Write the labelled splits (see ``datamaestro.formats.stl10``)."""
    for split in ("train", "test"):
        save_stl10(folder, out, split, limits.max_bytes)


@STL10_ARCHIVE
@derived("arrays", stl10_to_arrays, STL10_ARCHIVE)
@dataset(
    ImageClassification, id="edu.stanford.stl-10", name="STL-10", url=STL10_HOMEPAGE, homepage=STL10_HOMEPAGE, aliases=["stl10"],
    license="unknown: no license is stated on the STL-10 page", citation="""
@inproceedings{coates2011analysis,
  title = {An Analysis of Single-Layer Networks in Unsupervised Feature Learning},
  author = {Coates, Adam and Ng, Andrew and Lee, Honglak},
  booktitle = {Proceedings of the Fourteenth International Conference on Artificial Intelligence and Statistics},
  series = {Proceedings of Machine Learning Research},
  volume = {15},
  pages = {215--223},
  year = {2011}
}
""", tags=["images", "classification", "colour"],
)
def stl10(stl10_binary, arrays):
    """STL-10: colour 96x96 images of 10 classes, for unsupervised and self-taught learning.

    5,000 labelled training and 8,000 test images (airplane, bird, car, cat,
    deer, dog, horse, monkey, ship, truck), converted from the column-major
    binary files into upright (N, 3, 96, 96) uint8 arrays. The 100,000
    unlabelled images are edu.stanford.stl-10-unlabeled, the ten training
    folds edu.stanford.stl-10-folds: the archive is downloaded once, the
    others link the folder the first of them unpacked.
    """
    return npy_splits(arrays, read_class_names(stl10_binary), "train", "test")


STL10_CITATION = stl10.citation
STL10_LICENSE = stl10.license
#: the training images the folds index
STL10_TRAIN = 5000


def stl10_unlabelled(folder: Path, out: Path, limits: Limits) -> None:
    """Write the unlabelled split (see ``datamaestro.formats.stl10.save_unlabelled``)."""
    save_unlabelled(folder, out, limits.max_bytes)


def stl10_folds(folder: Path, out: Path) -> None:
    """Write the 10 training folds of ``fold_indices.txt`` as ``folds.npy``."""
    np.save(out / "folds.npy", read_folds(folder, STL10_TRAIN))


@STL10_ARCHIVE
@derived("arrays", stl10_unlabelled, STL10_ARCHIVE)
@dataset(
    LabelledImages, id="edu.stanford.stl-10-unlabeled", name="STL-10 (unlabelled)", url=STL10_HOMEPAGE, aliases=["stl10_unlabeled"],
    homepage=STL10_HOMEPAGE, license=STL10_LICENSE, citation=STL10_CITATION,
    tags=["images", "colour", "unlabelled", "self-supervised"],
)
def stl10_unlabeled(stl10_binary, arrays):
    """STL-10 unlabelled: 100,000 colour 96x96 images for unsupervised learning, without labels.

    The ``unlabeled_X.bin`` split of edu.stanford.stl-10's archive, converted
    into an upright (100000, 3, 96, 96) uint8 array (2.8 GB, written a chunk
    at a time). Labels are all -1, "no label" (as torchvision's STL10 gives
    them); the images also hold classes other than the 10 labelled ones.
    """
    split = npy_split(arrays, "unlabeled")
    split.categories = read_class_names(stl10_binary)
    return split


@STL10_ARCHIVE
@derived("folds", stl10_folds, STL10_ARCHIVE)
@dataset(
    NPY, id="edu.stanford.stl-10-folds", name="STL-10 (training folds)", url=STL10_HOMEPAGE, homepage=STL10_HOMEPAGE, aliases=["stl10_folds"],
    license=STL10_LICENSE, citation=STL10_CITATION, tags=["images", "colour", "folds"],
)
def stl10_folds_dataset(stl10_binary, folds):
    """STL-10 training folds: the 10 predefined folds of 1,000 training images each.

    A (10, 1000) int64 array: row k holds the 0-based indices, into the
    train split of edu.stanford.stl-10, of the images of fold k (from the
    archive's ``fold_indices.txt``). The STL-10 protocol trains on each fold
    and reports the mean accuracy on the test split:
    ``train.images.data()[folds.data()[k]]``.
    """
    return {"path": folds / "folds.npy"}
