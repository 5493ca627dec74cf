"""ImageNet (image-net.org): the ILSVRC 2012 classification data, ImageNet-1k, behind a sign-in.

The files cannot be downloaded by a program: a person signs in at
https://image-net.org/download-images, accepts the terms of access and
downloads them; ``prepare`` then takes them from ``--from DIR`` or from the
data folder ``imagenet`` (``datamaestro datafolders set imagenet DIR``).

- ``ILSVRC2012_img_train.tar``: 1,000 tars ``n########.tar``, one per class
  (WordNet id), each holding ``n########_<k>.JPEG``: 1,281,167 images.
- ``ILSVRC2012_img_val.tar``: 50,000 files ``ILSVRC2012_val_<8 digits>.JPEG``,
  unlabelled; the labels are in the devkit.
- ``ILSVRC2012_devkit_t12.tar.gz``: ``ILSVRC2012_devkit_t12/data/meta.mat``
  (the classes) and ``ILSVRC2012_validation_ground_truth.txt``
  (``datamaestro.formats.imagenet_devkit``).

Checksums: the sha256 digests and sizes of the train and validation tars are
those of TensorFlow Datasets (datasets/imagenet2012/checksums.tsv), equal to
torchvision's prototype datasets (imagenet.py), which also records the
devkit's sha256; torchvision's md5 digests of the same three files
(datasets/imagenet.py) are 1d675b47d978889d74fa0da5fadfb00e,
29b22e2961454d5413ddabcf34fc5622 and fa75699e90414af021442c21a62c3abf. The
devkit's size is not recorded by either, so it is checked by its digest only.
"""

from pathlib import Path

from datamaestro.data.folder import ImageFolder, ImageFolderClassification
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.manual import SignInFile, signin, unpacked, untar_each
from datamaestro.download.packing import Limits
from datamaestro.download.unpack import untar
from datamaestro.errors import FormatError
from datamaestro.formats import imagenet_devkit
from datamaestro.loaders.folder import read_categories
from datasets_registry._folders import write_indexes

TRAIN_TAR = "ILSVRC2012_img_train.tar"
VAL_TAR = "ILSVRC2012_img_val.tar"
DEVKIT = "ILSVRC2012_devkit_t12.tar.gz"

ORIGINALS = signin(
    "originals", "https://image-net.org/download-images", [
        SignInFile(
            TRAIN_TAR, "sha256:b08200a27a8e34218a0e58fde36b0fe8f73bc377f4acea2d91602057c3ca45bb", size=147897477120
        ),
        SignInFile(VAL_TAR, "sha256:c7e06a6c0baccf06d8dbeb6577d71efff84673a5dbdd50633ab44f8ea0456ae0", size=6744924160),
        SignInFile(DEVKIT, "sha256:b59243268c0d266621fd587d2018f69e906fb22875aca0e295b48cafaa927953"),
    ], datafolder="imagenet",
)


def _train(originals: Path, out: Path, limits: Limits) -> None:
    """The training images, one folder per class: each inner tar of the train tar extracted."""
    untar_each(originals / TRAIN_TAR, out, limits, TRAIN_TAR)


def _val(originals: Path, out: Path, limits: Limits) -> None:
    """The 50,000 validation images."""
    out.rmdir()  # (untar makes its folder)
    untar(originals / VAL_TAR, out, limits, VAL_TAR)


def _devkit(originals: Path, out: Path, limits: Limits) -> None:
    """The devkit's data folder (meta.mat, the validation ground truth)."""
    out.rmdir()
    untar(originals / DEVKIT, out, limits, DEVKIT, subpath="ILSVRC2012_devkit_t12/data")


TRAIN = unpacked("train", _train, ORIGINALS, unpacked_size=150 << 30, unpacked_files=1_300_000)
VAL = unpacked("val", _val, ORIGINALS, unpacked_size=7 << 30, unpacked_files=50_000)
DEVKIT_DATA = derived("devkit", _devkit, ORIGINALS)


def _index(train: Path, val: Path, devkit: Path, out: Path) -> None:
    """The train and validation indexes (labels: sorted WordNet ids, as torchvision's), the class names."""
    synsets = imagenet_devkit.read_synsets(devkit / imagenet_devkit.META)
    wnids = [s.wnid for s in synsets]
    folders = sorted(p.name for p in train.iterdir())
    unknown = sorted(set(folders) - set(wnids))
    if unknown:
        raise FormatError(f"{TRAIN_TAR}: {unknown[0]}.tar is not one of the devkit's {len(wnids)} classes")
    label_of = {w: k for k, w in enumerate(wnids)}
    train_items = [
        (f"{wnid}/{image.name}", label_of[wnid]) for wnid in folders for image in sorted((train / wnid).iterdir())
    ]
    truth = imagenet_devkit.read_ground_truth(devkit / imagenet_devkit.GROUND_TRUTH, len(synsets))
    val_count = sum(1 for _ in val.iterdir())
    if len(truth) != val_count:
        raise FormatError(f"{imagenet_devkit.GROUND_TRUTH}: {len(truth)} labels for {val_count} validation images")
    write_indexes(out, train, {"train": train_items}, wnids)
    write_indexes(out, val, {"validation": imagenet_devkit.validation_labels(synsets, truth)})
    (out / "words.txt").write_text("".join(f"{s.wnid}\t{s.words}\n" for s in synsets), encoding="utf-8")


@ORIGINALS
@TRAIN
@VAL
@DEVKIT_DATA
@derived("index", _index, TRAIN, VAL, DEVKIT_DATA)
@dataset(
    ImageFolderClassification, id="ilsvrc2012", name="ImageNet-1k (ILSVRC 2012)", aliases=["imagenet2012", "imagenet"],
    url="https://image-net.org/challenges/LSVRC/2012/",
    tags=["images", "classification", "colour", "folder", "sign-in"],
    license="ImageNet terms of access (non-commercial research and education)",
    citation="""@article{ILSVRC15,
  author = {Olga Russakovsky and Jia Deng and Hao Su and Jonathan Krause and Sanjeev Satheesh and Sean Ma and
            Zhiheng Huang and Andrej Karpathy and Aditya Khosla and Michael Bernstein and Alexander C. Berg and
            Li Fei-Fei},
  title = {{ImageNet Large Scale Visual Recognition Challenge}},
  journal = {International Journal of Computer Vision (IJCV)},
  year = {2015},
  volume = {115},
  number = {3},
  pages = {211-252}
}""", homepage="https://image-net.org/",
)
def ilsvrc2012(originals, train, val, devkit, index):
    """ImageNet-1k: the ILSVRC 2012 classification images, 1,000 classes, behind a sign-in.

    1,281,167 training and 50,000 validation JPEG images of varying sizes,
    labelled 0 to 999: the position of the class's WordNet id among the sorted
    WordNet ids (as torchvision and TensorFlow Datasets number them).
    ``categories`` are the WordNet ids (``n01440764``...), ``descriptions``
    each one's words ("tench, Tinca tinca"). A person
    downloads the three files after signing in at image-net.org; then
    ``datamaestro prepare org.image_net.ilsvrc2012 --from DIR``, or
    ``datamaestro datafolders set imagenet DIR`` once. Preparing needs about
    twice the training tar's size free (the linked tars, the images), and
    scipy (the extra ``mat``) to read the devkit.
    """
    words = dict(line.split("\t", 1) for line in (index / "words.txt").read_text(encoding="utf-8").splitlines())
    categories = read_categories(index)
    return {
        "train": ImageFolder.from_index(train, index, "train"),
        "validation": ImageFolder.from_index(val, index, "validation"),
        "categories": categories,
        "descriptions": [words[wnid] for wnid in categories],
    }
