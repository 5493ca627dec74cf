"""The Kuzushiji datasets of the ROIS-DS Center for Open Data in the Humanities (CODH).

Files: the NumPy format of https://github.com/rois-codh/kmnist (see ``datamaestro.formats.kmnist``).

Checksums: the authors publish none. The md5s below are those recorded by
Mila's DataLad mirror of these files (github.com/datasets-mila/datasets--kmnist,
file ``md5sums``), computed from the files downloaded from codh.rois.ac.jp;
the sizes are those of the same mirror (its git-annex keys, ``MD5E-s<size>--<md5>``).
"""

from pathlib import Path

from datamaestro.data.images import ImageClassification
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.download.single import filedownloader
from datamaestro.formats.kmnist import read_classmap
from datamaestro.formats.kmnist import save as save_kmnist
from datasets_registry._arrays import npy_splits

BASE = "https://codh.rois.ac.jp/kmnist/dataset/"
HOMEPAGE = "https://github.com/rois-codh/kmnist"
LICENSE = "CC-BY-SA-4.0"
CITATION = """
@online{clanuwat2018deep,
  author = {Tarin Clanuwat and Mikel Bober-Irizar and Asanobu Kitamoto and Alex Lamb and Kazuaki Yamamoto and David Ha},
  title = {Deep Learning for Classical Japanese Literature},
  date = {2018-12-03},
  year = {2018},
  eprintclass = {cs.CV},
  eprinttype = {arXiv},
  eprint = {cs.CV/1812.01718}
}
"""


def _file(folder: str, filename: str, md5: str, size: int) -> filedownloader:
    """One file of ``dataset/<folder>/``: https first, the http address of the README as a mirror."""
    return filedownloader(
        filename, f"{BASE}{folder}/{filename}",
        mirrors=[f"http://codh.rois.ac.jp/kmnist/dataset/{folder}/{filename}"], checksum=f"md5:{md5}", size=size,
    )


def npz_to_arrays(train_images, train_labels, test_images, test_labels, classmap: Path, out: Path, limits: Limits) -> None:
    """Write the four published arrays as memory-mappable ``.npy`` split files."""
    classes = len(read_classmap(classmap))
    save_kmnist(train_images, train_labels, classes, out, "train", limits.max_bytes)
    save_kmnist(test_images, test_labels, classes, out, "test", limits.max_bytes)


#: id, name, md5 of the train images, train labels, test images, test labels and class map, their sizes, description
VARIANTS = [
    ("kmnist", "Kuzushiji-MNIST", (
        "a183fbc01ed9a345513b145673d3d0bb", "b0e1d240e8afec72b50437fc3bc5908a", "dace6de62ca8b90843cc45366337d02e",
        "3ae489a79983d0fe386152684e3b5412", "899202f6e8dc29a321ac210a03d0f2f1",
    ), (18384171, 29700, 3079479, 5304, 151), """Kuzushiji-MNIST: 70,000 28x28 grey-scale images of 10 cursive Japanese (Kuzushiji) characters.

A drop-in replacement for MNIST, one hiragana character for each of the
10 rows of the hiragana table: 60,000 training and 10,000 test images,
perfectly balanced. Class names are the characters themselves (from
``kmnist_classmap.csv``)."""),
    ("k49", "Kuzushiji-49", (
        "7ac088b20481cf51dcd01ceaab89d821", "44a8e1b893f81e63ff38d73cad420f7a", "d352e201d846ce6b94f42c990966f374",
        "4da6f7a62e67a832d5eb1bd85c5ee448", "f7d0d0391f68bdf0fe4cf160ceb85753",
    ), (66117696, 164485, 10971201, 27450, 697), """Kuzushiji-49: 270,912 28x28 grey-scale images of 49 cursive Japanese (Kuzushiji) characters.

48 hiragana and one iteration mark; imbalanced (the authors recommend
balanced accuracy): 232,365 training and 38,547 test images. Class names
are the characters themselves (from ``k49_classmap.csv``)."""),
]


def _definition(dataset_id: str, name: str, md5s: tuple[str, ...], sizes: tuple[int, ...], doc: str):
    """One dataset: its five files, and the arrays converted from them."""
    names = ("train-imgs.npz", "train-labels.npz", "test-imgs.npz", "test-labels.npz")
    files = [_file(dataset_id, f"{dataset_id}-{n}", md5, size) for n, md5, size in zip(names, md5s, sizes)]
    files.append(_file(dataset_id, f"{dataset_id}_classmap.csv", md5s[4], sizes[4]))

    def splits(arrays: Path, **files: Path) -> dict:
        return npy_splits(arrays, read_classmap(files[f"{dataset_id}_classmap"]), "train", "test")

    splits.__name__ = splits.__qualname__ = dataset_id
    definition = dataset(
        ImageClassification, id=dataset_id, name=name, url="https://codh.rois.ac.jp/kmnist/", homepage=HOMEPAGE, aliases=[dataset_id],
        license=LICENSE, citation=CITATION, description=doc,
        tags=["images", "classification", "characters", "handwriting", "japanese"],
    )(splits)
    derived("arrays", npz_to_arrays, *files)(definition)
    for resource in reversed(files):
        resource(definition)
    return definition


for _variant in VARIANTS:
    globals()[_variant[0]] = _definition(*_variant)
