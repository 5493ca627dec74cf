"""Joseph Redmon's CSV copy of MNIST: retired.

pjreddie.com stopped serving ``mnist_train.csv`` and ``mnist_test.csv`` in
2025, and no other host publishes these files with a checksum. The id stays
so that scripts naming it get a one-line answer saying where the data went:
the same 70,000 digits are ``com.lecun.mnist`` (IDX files, verified by
torchvision's md5s), and ``datamaestro export com.lecun.mnist -f mnist_csv``
writes them in this CSV layout.
"""

from datamaestro.data.images import ImageClassification
from datamaestro.definitions import dataset
from datamaestro.errors import DownloadError
from datasets_registry.com.lecun import CITATION, LICENSE

#: what prepare says, and info shows in the description
RETIRED = (
    "com.pjreddie.mnist-csv is retired: pjreddie.com no longer serves mnist_train.csv and mnist_test.csv "
    "(gone since 2025); the same 70,000 digits are com.lecun.mnist: datamaestro prepare com.lecun.mnist "
    "(datamaestro export com.lecun.mnist -f mnist_csv writes them as CSV)"
)


@dataset(
    ImageClassification,
    id="mnist-csv",
    name="MNIST (CSV, retired)",
    url="https://pjreddie.com/projects/mnist-in-csv/",
    homepage="https://pjreddie.com/projects/mnist-in-csv/",
    license=LICENSE,  # MNIST's own: the same images, written out as text
    citation=CITATION,
    tags=["images", "classification", "digits", "handwriting", "csv", "retired"],
    description=f"""MNIST in CSV: one row per image, the label then 784 pixel values.

Retired: {RETIRED.split(": ", 1)[1]}.""",
)
def mnist_csv():
    """Refuse with the message saying where the data went."""
    raise DownloadError(RETIRED)
