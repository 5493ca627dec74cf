"""Andrew Maas's Large Movie Review Dataset (IMDB reviews), Stanford AI Lab.

``aclImdb_v1.tar.gz`` holds ``aclImdb/{train,test}/{neg,pos}/<id>_<rating>.txt``
(one review per file, UTF-8) and ``aclImdb/train/unsup`` (50,000 unlabelled
reviews, left out). At prepare time the labelled reviews are gathered into
one text file per split with their offsets and labels, in (label, id) order.

Checksum: the sha256 digest and size are those of TensorFlow Datasets
(tensorflow_datasets/datasets/imdb_reviews/checksums.tsv).
"""

from pathlib import Path

from datamaestro.data.text import LabelledTexts, TextClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.errors import FormatError
from datamaestro.loaders.text import read_text, text_files, write_texts

CATEGORIES = ["neg", "pos"]

ARCHIVE = archivedownloader(
    "aclImdb",
    "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    checksum="sha256:c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
    size=84125825,
    subpath="aclImdb",
)


def _review_id(path: Path) -> tuple[int, str]:
    number = path.stem.split("_")[0]
    return (int(number), path.name) if number.isdigit() else (-1, path.name)


def _texts(reviews: Path, out: Path) -> None:
    """One texts file per split from the review folders."""
    for split in ("train", "test"):
        items = []
        for label, name in enumerate(CATEGORIES):
            folder = reviews / split / name
            if not folder.is_dir():
                raise FormatError(f"{folder}: missing: the archive is not the IMDB reviews'")
            items += [(read_text(p), label) for p in sorted(folder.glob("*.txt"), key=_review_id)]
        write_texts(out, split, items)


def _split(texts: Path, split: str) -> LabelledTexts:
    from datamaestro.data.npy import NPY

    blob, offsets, labels = text_files(texts, split)
    return LabelledTexts(texts=blob, offsets=NPY(path=offsets), labels=NPY(path=labels))


@ARCHIVE
@derived("texts", _texts, ARCHIVE)
@dataset(
    TextClassification,
    id="imdb",
    name="IMDB movie reviews",
    url="https://ai.stanford.edu/~amaas/data/sentiment/",
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
}""",
    homepage="https://ai.stanford.edu/~amaas/data/sentiment/",
)
def imdb(aclImdb, texts):
    """Large Movie Review Dataset: 50,000 IMDB reviews labelled negative or positive.

    25,000 training and 25,000 test reviews, balanced, as strings (raw text,
    with the published ``<br />`` line breaks); labels 0 (neg, rating <= 4)
    and 1 (pos, rating >= 7).
    """
    return {"train": _split(texts, "train"), "test": _split(texts, "test"), "categories": CATEGORIES}
