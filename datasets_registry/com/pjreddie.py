"""Joseph Redmon's CSV copy of MNIST."""

from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.tensor import IDX
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.single import filedownloader
from datamaestro.formats.mnist_csv import csv_to_idx
from datasets_registry.com.lecun import CITATION, LICENSE

BASE = "https://pjreddie.com/media/files/"

# No checksum is published for these files: they are recorded, with a warning, as unverified.
TRAIN_CSV = filedownloader("mnist_train.csv", BASE + "mnist_train.csv")
TEST_CSV = filedownloader("mnist_test.csv", BASE + "mnist_test.csv")


def _to_idx(train_csv, test_csv, out):
    """Convert both CSV files once into memory-mappable IDX files."""
    csv_to_idx(train_csv, out, "train")
    csv_to_idx(test_csv, out, "test")


@TRAIN_CSV
@TEST_CSV
@derived("idx", _to_idx, TRAIN_CSV, TEST_CSV)
@dataset(
    ImageClassification,
    id="mnist-csv",
    name="MNIST (CSV)",
    url="https://pjreddie.com/projects/mnist-in-csv/",
    homepage="https://pjreddie.com/projects/mnist-in-csv/",
    license=LICENSE,  # MNIST's own: the same images, written out as text
    citation=CITATION,
    tags=["images", "classification", "digits", "handwriting", "csv"],
)
def mnist_csv(mnist_train, mnist_test, idx):
    """MNIST in CSV: one row per image, the label then 784 pixel values.

    The same 70,000 28x28 digits as com.lecun.mnist (60,000 train, 10,000
    test); converted once at prepare time into IDX files, so loading is as
    fast as the IDX version.
    """
    return {
        "train": LabelledImages(images=IDX(path=idx / "train_images.idx"), labels=IDX(path=idx / "train_labels.idx")),
        "test": LabelledImages(images=IDX(path=idx / "test_images.idx"), labels=IDX(path=idx / "test_labels.idx")),
        "categories": [str(digit) for digit in range(10)],
    }
