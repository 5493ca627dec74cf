"""The Institut für Neuroinformatik (Ruhr-Universität Bochum): the German Traffic Sign Recognition Benchmark.

The files are on the publisher's archive at sid.erda.dk, as torchvision uses
them: ``GTSRB-Training_fixed.zip`` (``GTSRB/Training/<5-digit class>/*.ppm``,
26,640 images), ``GTSRB_Final_Test_Images.zip`` (``GTSRB/Final_Test/Images/
<5 digits>.ppm``, 12,630 images) and ``GTSRB_Final_Test_GT.zip``
(``GT-final_test.csv``, their classes and sign boxes); see
``datamaestro.formats.gtsrb``.

Checksums: the sha256 digests of torchvision's prototype gtsrb.py; torchvision
records md5 digests of the same files (gtsrb.py: 513f3c79a4c5141765e10e952eaa2478,
c7e4e6327067d32654124b0fe9e82185, fe31e9c9270bbcd7b84b7f21a9d9d9e5). Their
sizes are not published. Class names: the archives number the classes; the
names are those commonly used with the benchmark (signnames.csv).
"""

from pathlib import Path

from datamaestro.data.folder import ImageFolder, ImageFolderClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats import gtsrb
from datamaestro.loaders.folder import write_categories, write_index

BASE = "https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"
TRAINING = archivedownloader(
    "training", BASE + "GTSRB-Training_fixed.zip", subpath="GTSRB/Training",
    checksum="sha256:df4144942083645bd60b594de348aa6930126c3e0e5de09e39611630abf8455a",
)
TEST = archivedownloader(
    "test", BASE + "GTSRB_Final_Test_Images.zip", subpath="GTSRB/Final_Test/Images",
    checksum="sha256:48ba6fab7e877eb64eaf8de99035b0aaecfbc279bee23e35deca4ac1d0a837fa",
)
TEST_LABELS = archivedownloader(
    "test_labels", BASE + "GTSRB_Final_Test_GT.zip",
    checksum="sha256:f94e5a7614d75845c74c04ddb26b8796b9e483f43541dd95dd5b726504e16d6d",
)


def _index(training: Path, test: Path, labels: Path, out: Path) -> None:
    """The train index from the class folders, the test index from the ground-truth table."""
    write_index(out, "train", training, gtsrb.read_training(training))
    write_index(out, "test", test, gtsrb.read_test(labels / "GT-final_test.csv"))
    write_categories(out, gtsrb.NAMES)


@TRAINING
@TEST
@TEST_LABELS
@derived("index", _index, TRAINING, TEST, TEST_LABELS)
@dataset(
    ImageFolderClassification, id="gtsrb", name="German Traffic Sign Recognition Benchmark (GTSRB)", aliases=["gtsrb"],
    url="https://benchmark.ini.rub.de/", tags=["images", "classification", "colour", "traffic-signs", "folder"],
    license="unknown: no license is stated on the benchmark's page",
    citation="""@article{Stallkamp2012,
  title = {Man vs. computer: Benchmarking machine learning algorithms for traffic sign recognition},
  author = {J. Stallkamp and M. Schlipsing and J. Salmen and C. Igel},
  journal = {Neural Networks},
  year = {2012},
  doi = {10.1016/j.neunet.2012.02.016}
}""", homepage="https://benchmark.ini.rub.de/",
)
def gtsrb_signs(training, test, test_labels, index):
    """GTSRB: photos of German traffic signs in 43 classes, from 15x15 to 250x250 pixels (PPM).

    26,640 training images (the IJCNN 2011 training set, as torchvision
    uses it) and the 12,630 images of the final test set. Each image holds one
    sign, with a margin; the sign's box is in the CSV tables, not read here.
    """
    return {
        "train": ImageFolder.from_index(training, index, "train"),
        "test": ImageFolder.from_index(test, index, "test"),
        "categories": list(gtsrb.NAMES),
    }
