"""CelebA (mmlab.ie.cuhk.edu.hk): 202,599 aligned face images with 40 attributes, identities, landmarks and boxes.

The files are published only through Google Drive and Baidu links on the
homepage (https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html), which datamaestro
never uses as download URLs: a person downloads the six files below and
``prepare`` takes them from ``--from DIR`` or from the data folder ``celeba``
(``datamaestro datafolders set celeba DIR``), as for ImageNet.

- ``img_align_celeba.zip``: ``img_align_celeba/000001.jpg`` ... ``202599.jpg``
  (178 x 218, aligned and cropped), extracted by the safe unpack.
- the lists read by ``datamaestro.formats.celeba``: ``list_eval_partition.txt``
  (0 train, 1 valid, 2 test), ``identity_CelebA.txt``, ``list_attr_celeba.txt``
  (1/-1), ``list_bbox_celeba.txt``, ``list_landmarks_align_celeba.txt``.

What a split is: a ``FaceImages`` (``datamaestro.data.faces``), an
``ImageFolder`` whose label is the person's identity, plus three arrays in
the image order: ``attributes`` (N, 40) uint8 0/1 (-1 made 0, as torchvision
does; ``attribute_names`` from the file's header), ``landmarks`` (N, 10)
int32 (the x and y of the eyes, nose and mouth corners, in the aligned
images; ``landmark_names``) and ``boxes`` (N, 4) int32 ``x_1, y_1, width,
height`` as published (the box file is the one published for the
in-the-wild images: its coordinates are those images', not the aligned
ones'). So every image folder loader, ``show`` and ``info`` work unchanged,
and the annotations are plain arrays: no new kind was needed.
``categories`` are the identity numbers as published ("1" ... "10177"):
label ``k`` is identity ``int(categories[k])``. The partitions' counts
(162,770 / 19,867 / 19,962) are checked at prepare time.

Checksums: the sha256 digests of torchvision's prototype datasets
(prototype/datasets/_builtin/celeba.py) and, with the sizes, TensorFlow
Datasets' (datasets/celeb_a/checksums.tsv); torchvision's md5 digests of the
same files (datasets/celeba.py) are 00d2c5bc6d35e252742224ab0c1e8fcb (zip),
75e246fa4810816ffd6ee81facbd244c (attributes), 32bd1bd63d3c78cd57e08160ec5ed1e2
(identities), 00566efa6fedff7a56946cd1c10f1c16 (boxes),
cc24ecafdb5b50baae59b03474781f8c (landmarks) and
d32c9cbf5e040fd4025c592c306e6668 (partitions). No library records the size
of ``list_bbox_celeba.txt``: it is checked by its digest only.
"""

import json
from pathlib import Path

import numpy as np

from datamaestro.data.faces import FaceImages, face_files
from datamaestro.data.folder import ImageFolderClassification
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.manual import SignInFile, signin, unpacked
from datamaestro.download.packing import Limits
from datamaestro.download.unpack import unzip
from datamaestro.errors import FormatError
from datamaestro.formats import celeba
from datamaestro.loaders.folder import read_categories
from datasets_registry._folders import write_indexes

ZIP = "img_align_celeba.zip"
HOMEPAGE = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
#: the partitions' codes 0, 1, 2 and their published counts
SPLIT_COUNTS = {"train": 162_770, "validation": 19_867, "test": 19_962}
NAMES = "names.json"

ORIGINALS = signin(
    "originals", HOMEPAGE, [
        SignInFile(ZIP, "sha256:46fb89443c578308acf364d7d379fe1b9efb793042c0af734b6112e4fd3a8c74", size=1443490838),
        SignInFile(
            celeba.ATTRIBUTES, "sha256:f0e5da289d5ccf75ffe8811132694922b60f2af59256ed362afa03fefba324d0", size=26721026
        ),
        SignInFile(
            celeba.IDENTITIES, "sha256:c6143857c3e2630ac2da9f782e9c1232e5e59be993a9d44e8a7916c78a6158c0", size=3424458
        ),
        SignInFile(celeba.BOXES, "sha256:7487a82e57c4bb956c5445ae2df4a91ffa717e903c5fa22874ede0820c8ec41b"),
        SignInFile(
            celeba.LANDMARKS, "sha256:6c02a87569907f6db2ba99019085697596730e8129f67a3d61659f198c48d43b", size=12156055
        ),
        SignInFile(
            celeba.PARTITIONS, "sha256:fc955bcb3ef8fbdf7d5640d9a8693a8431b5f2ee291a5c1449a1549e7e073fe7", size=2836386
        ),
    ], datafolder="celeba",
)


def _images(originals: Path, out: Path, limits: Limits) -> None:
    """The aligned images: the zip's folder ``img_align_celeba``."""
    out.rmdir()  # (unzip makes its folder)
    unzip(originals / ZIP, out, limits, ZIP, subpath="img_align_celeba")


IMAGES = unpacked("images", _images, ORIGINALS, unpacked_size=2 << 30, unpacked_files=210_000)


def _partitions(originals: Path) -> dict[str, list[str]]:
    """The image files of each split, checked against the published counts."""
    path = originals / celeba.PARTITIONS
    table = celeba.read_table(path)
    codes = table.values[:, 0]
    if len(codes) and not np.isin(codes, (0, 1, 2)).all():
        raise FormatError(f"{path}: partitions are 0, 1 or 2; {int(codes[~np.isin(codes, (0, 1, 2))][0])} is not")
    splits = {}
    for code, (split, expected) in enumerate(SPLIT_COUNTS.items()):
        splits[split] = [name for name, c in zip(table.files, codes.tolist()) if c == code]
        if len(splits[split]) != expected:
            raise FormatError(
                f"{path}: {len(splits[split])} {split} images, the published file has {expected}; "
                "it is not the published file"
            )
    return splits


def _index(originals: Path, images: Path, out: Path) -> None:
    """Each split's image index (labels: identities) and its attributes, landmarks and boxes."""
    splits = _partitions(originals)
    listed = sum(len(files) for files in splits.values())
    found = sum(1 for _ in images.iterdir())
    if found != listed:
        raise FormatError(f"{ZIP}: {found} images, {celeba.PARTITIONS} lists {listed}")
    identities = celeba.read_table(originals / celeba.IDENTITIES)
    attributes = celeba.read_attributes(originals / celeba.ATTRIBUTES)
    landmarks = celeba.read_table(originals / celeba.LANDMARKS, header=True)
    boxes = celeba.read_table(originals / celeba.BOXES, header=True)
    for name, table, columns in ((celeba.LANDMARKS, landmarks, 10), (celeba.BOXES, boxes, 4)):
        if len(table.names) != columns:
            raise FormatError(f"{originals / name} line 2: expected {columns} column names, found {len(table.names)}")
    known = np.unique(celeba.by_file(originals / celeba.IDENTITIES, identities, sum(splits.values(), []))[:, 0])
    for split, files in splits.items():
        people = celeba.by_file(originals / celeba.IDENTITIES, identities, files)[:, 0]
        write_indexes(out, images, {split: list(zip(files, np.searchsorted(known, people).tolist()))})
        attributes_file, landmarks_file, boxes_file = face_files(out, split)
        np.save(attributes_file, celeba.by_file(originals / celeba.ATTRIBUTES, attributes, files))
        np.save(landmarks_file, celeba.by_file(originals / celeba.LANDMARKS, landmarks, files).astype(np.int32))
        np.save(boxes_file, celeba.by_file(originals / celeba.BOXES, boxes, files).astype(np.int32))
    write_indexes(out, images, {}, [str(k) for k in known.tolist()])
    names = {"attributes": attributes.names, "landmarks": landmarks.names}
    (out / NAMES).write_text(json.dumps(names), encoding="utf-8")


@ORIGINALS
@IMAGES
@derived("index", _index, ORIGINALS, IMAGES)
@dataset(
    ImageFolderClassification, id="celeba", name="CelebA (aligned faces)", aliases=["celeba", "celeb_a"],
    url=HOMEPAGE, tags=["images", "faces", "attributes", "landmarks", "colour", "folder", "sign-in"],
    license="CelebA non-commercial research agreement (its text: see the homepage)",
    citation="""@inproceedings{conf/iccv/LiuLWT15,
  author = {Liu, Ziwei and Luo, Ping and Wang, Xiaogang and Tang, Xiaoou},
  booktitle = {ICCV},
  pages = {3730-3738},
  publisher = {IEEE Computer Society},
  title = {Deep Learning Face Attributes in the Wild.},
  year = {2015}
}""", homepage=HOMEPAGE,
)
def celeba_faces(originals, images, index):
    """CelebA: 202,599 aligned face images of 10,177 people, with 40 attributes, 5 landmarks and a box each.

    Splits ``train`` (162,770), ``validation`` (19,867) and ``test`` (19,962)
    as ``list_eval_partition.txt`` gives them, each a ``FaceImages``: labels
    are identities (``categories[k]`` is the published identity number),
    ``attributes`` (N, 40) 0/1, ``landmarks`` (N, 10), ``boxes`` (N, 4). A
    person downloads the six files from the homepage's links; then
    ``datamaestro prepare celeba --from DIR``, or ``datamaestro datafolders
    set celeba DIR`` once.
    """
    names = json.loads((index / NAMES).read_text(encoding="utf-8"))
    categories = read_categories(index)
    return {
        split: FaceImages.from_face_index(images, index, split, names["attributes"], names["landmarks"])
        for split in SPLIT_COUNTS
    } | {"categories": categories}
