"""Stanford CS231n's Tiny ImageNet: 200 ImageNet classes in 64x64 images.

The zip holds ``tiny-imagenet-200/wnids.txt`` (the 200 WordNet ids),
``words.txt`` (WordNet id, tab, English names), ``train/<wnid>/images/*.JPEG``
(500 per class), ``val/images/val_<k>.JPEG`` with ``val/val_annotations.txt``
(file name, tab, WordNet id, tab, bounding box) and ``test/images`` (no labels,
so not indexed).

Checksum: none is published, by the course page, torchvision (which has no
Tiny ImageNet) or TensorFlow Datasets (neither); the archive is downloaded
unverified (with a warning, and its sha256 recorded).
"""

from pathlib import Path

from datamaestro.data.folder import ImageFolder, ImageFolderClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.errors import FormatError
from datamaestro.loaders.folder import read_categories, write_categories, write_index

# No published checksum (see above).
ARCHIVE = archivedownloader(
    "tiny-imagenet-200", "https://cs231n.stanford.edu/tiny-imagenet-200.zip", subpath="tiny-imagenet-200",
    varname="images",
)


def _lines(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(f"{path}: cannot read ({e})") from None
    return [line.split("\t") for line in text.splitlines() if line.strip()]


def _index(images: Path, out: Path) -> None:
    """The train and val indexes, and the class names, from the archive's text files."""
    wnids = sorted(fields[0].strip() for fields in _lines(images / "wnids.txt"))
    words = {fields[0].strip(): fields[1].split(",")[0].strip() for fields in _lines(images / "words.txt") if len(fields) > 1}
    names = [words.get(w, w) for w in wnids]
    names = [f"{n} ({w})" if names.count(n) > 1 else n for n, w in zip(names, wnids)]
    label = {w: k for k, w in enumerate(wnids)}
    train = []
    for wnid in wnids:
        folder = images / "train" / wnid / "images"
        if not folder.is_dir():
            raise FormatError(f"{folder}: missing: the archive is not Tiny ImageNet's")
        train += [(f"train/{wnid}/images/{p.name}", label[wnid]) for p in sorted(folder.glob("*.JPEG"))]
    val = []
    annotations = images / "val" / "val_annotations.txt"
    for number, fields in enumerate(_lines(annotations), start=1):
        if len(fields) < 2 or fields[1] not in label:
            raise FormatError(f"{annotations} line {number}: expected a file name and one of the 200 WordNet ids")
        val.append((f"val/images/{fields[0]}", label[fields[1]]))
    write_index(out, "train", images, train)
    write_index(out, "val", images, val)
    write_categories(out, names)


@ARCHIVE
@derived("index", _index, ARCHIVE)
@dataset(
    ImageFolderClassification, id="tiny-imagenet", name="Tiny ImageNet", url="https://cs231n.stanford.edu/",
    tags=["images", "classification", "colour", "imagenet", "folder"],
    license="unknown: no license is stated on the course page; the images come from ImageNet, under its terms of access (non-commercial research and education)",
    citation="""@article{le2015tiny,
  title = {Tiny ImageNet Visual Recognition Challenge},
  author = {Le, Ya and Yang, Xuan},
  journal = {CS 231N},
  volume = {7},
  number = {7},
  pages = {3},
  year = {2015}
}""", homepage="https://cs231n.stanford.edu/",
)
def tiny_imagenet(images, index):
    """Tiny ImageNet: 200 ImageNet classes, 64x64 colour JPEG images.

    100,000 training images (500 per class) and 10,000 validation images (50
    per class); the 10,000 test images have no published labels and are left
    out. Classes are the WordNet ids in sorted order, named by their first
    English name. A few images are grey-scale: they are decoded as RGB.
    """
    return {
        "train": ImageFolder.from_index(images, index, "train"),
        "validation": ImageFolder.from_index(images, index, "val"),
        "categories": read_categories(index),
    }
