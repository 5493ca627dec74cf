"""Alex Krizhevsky's CIFAR datasets (University of Toronto)."""

from datamaestro.data.cifar import CoarseImageClassification
from datamaestro.data.images import ImageClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats.cifar import batches_to_arrays
from datasets_registry._arrays import cifar_classification

BASE = "https://www.cs.toronto.edu/~kriz/"
HOMEPAGE = "https://www.cs.toronto.edu/~kriz/cifar.html"
#: the technical report the CIFAR page asks users to cite
CITATION = """
@techreport{krizhevsky2009learning,
  title = {Learning Multiple Layers of Features from Tiny Images},
  author = {Krizhevsky, Alex},
  institution = {University of Toronto},
  year = {2009}
}
"""
#: the CIFAR page states no license (TensorFlow Datasets records it as unknown)
LICENSE = "unknown: no license is stated on the CIFAR page"

# Checksums: the md5s printed on the CIFAR page (also torchvision's). Sizes: the Content-Length the host
# sends, as recorded by Keras's and torchvision's download logs (no library records them).

CIFAR10_ARCHIVE = archivedownloader(
    "cifar-10-batches-py", BASE + "cifar-10-python.tar.gz", checksum="md5:c58f30108f718f92721af3b95e74349a", size=170498071,
    subpath="cifar-10-batches-py",
)
CIFAR100_ARCHIVE = archivedownloader(
    "cifar-100-python", BASE + "cifar-100-python.tar.gz", checksum="md5:eb9058c3a382ffc7106e4002c42a8d85", size=169001437,
    subpath="cifar-100-python",
)


@CIFAR10_ARCHIVE
@derived("arrays", batches_to_arrays, CIFAR10_ARCHIVE)
@dataset(
    ImageClassification, id="cifar-10", name="CIFAR-10", url="https://www.cs.toronto.edu/~kriz/cifar.html", aliases=["cifar10"],
    homepage=HOMEPAGE, license=LICENSE, citation=CITATION, tags=["images", "classification", "colour"],
)
def cifar10(cifar_10_batches_py, arrays):
    """CIFAR-10: 60,000 colour 32x32 images in 10 classes.

    50,000 training images (data_batch_1..5) and 10,000 test images
    (test_batch) of airplanes, cars, birds, cats, deer, dogs, frogs, horses,
    ships and trucks. Images are (N, 3, 32, 32) uint8, labels int64.
    """
    return cifar_classification(arrays)


@CIFAR100_ARCHIVE
@derived("arrays", batches_to_arrays, CIFAR100_ARCHIVE)
@dataset(
    CoarseImageClassification, id="cifar-100", name="CIFAR-100", url="https://www.cs.toronto.edu/~kriz/cifar.html", aliases=["cifar100"],
    homepage=HOMEPAGE, license=LICENSE, citation=CITATION, tags=["images", "classification", "colour"],
)
def cifar100(cifar_100_python, arrays):
    """CIFAR-100: 60,000 colour 32x32 images in 100 classes grouped in 20 superclasses.

    50,000 training and 10,000 test images; ``labels`` are the 100 fine
    classes, ``coarse_labels`` the 20 superclasses (``coarse_categories``).
    """
    return cifar_classification(arrays)
