"""Zalando Research's datasets.

Fashion-MNIST's publisher host is an S3 *website* endpoint, which serves plain
http only; the project's GitHub repository holds a copy of the four files
(``data/fashion/``) served over https, the mirror here, pinned to the commit
b2617bb6 (2022-03-21; the files last changed in 2017). Checksums: the md5s are
those of the published files (the README's, also torchvision's); the sha256s
are of their decompressed data. The GitHub copies of the two label files are
the published bytes (their md5s match, checked on the repository at that
commit); a copy whose compressed bytes differ but whose data is the same (the
GitHub image files, if they do; Debian's recompressed package) is accepted by
the data checksum. No size is declared: a recompressed copy has another size
(the published files are 26,421,880, 29,515, 4,422,102 and 5,148 bytes,
TensorFlow Datasets' ``url_checksums/fashion_mnist.txt``).
"""

from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.tensor import IDX
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader

BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
GITHUB = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/b2617bb6d3ffa2e429640350f613e3291e10b141/data/fashion/"
CATEGORIES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]


def _file(name, filename, md5, data_sha256):
    """One Fashion-MNIST file, GitHub's https copy as mirror; ``data_sha256`` also accepts recompressed copies."""
    return filedownloader(
        name, BASE + filename, mirrors=[GITHUB + filename], checksum=f"md5:{md5}",
        data_checksum=f"sha256:{data_sha256}",
    )


@_file(
    "train_images.idx", "train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
)
@_file(
    "train_labels.idx", "train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe",
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
)
@_file(
    "test_images.idx", "t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79",
    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
)
@_file(
    "test_labels.idx", "t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310",
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
)
@dataset(
    ImageClassification, id="fashion-mnist", name="Fashion-MNIST", aliases=["fashion_mnist", "fashionmnist"],
    url="https://github.com/zalandoresearch/fashion-mnist",
    homepage="https://github.com/zalandoresearch/fashion-mnist", license="MIT", citation="""
@online{xiao2017fashionmnist,
  author = {Han Xiao and Kashif Rasul and Roland Vollgraf},
  title = {Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms},
  date = {2017-08-28},
  year = {2017},
  eprintclass = {cs.LG},
  eprinttype = {arXiv},
  eprint = {cs.LG/1708.07747}
}
""", tags=["images", "classification", "fashion"],
)
def fashion_mnist(train_images, train_labels, test_images, test_labels):
    """Fashion-MNIST: Zalando's article images, a drop-in replacement for MNIST.

    70,000 grey-scale 28x28 images of 10 kinds of clothing (60,000 for
    training, 10,000 for test), in the same IDX format as MNIST.
    """
    return {
        "train": LabelledImages(images=IDX(path=train_images), labels=IDX(path=train_labels)),
        "test": LabelledImages(images=IDX(path=test_images), labels=IDX(path=test_labels)),
        "categories": CATEGORIES,
    }
