"""AG's corpus of news articles (University of Pisa): Zhang et al.'s AG News classification version.

Its publishers host ``ag_news_csv.tar.gz`` on Google Drive only; the two CSV
files are taken from the copy in the GitHub repository mhjabreel/CharCnn_Keras
(``data/ag_news_csv/{train,test}.csv``) that Hugging Face datasets and
torchtext download, pinned at commit 555590db (the files are unchanged since
03836ce0, 2018). See ``datamaestro.formats.ag_news``: each article's text is
its title and description joined by a space, its label the published class
minus 1.

Checksums: the sha256 digests and sizes are those of Hugging Face datasets
(``ag_news``; the test file's digest was also checked against that commit);
torchtext records md5 b1a00f826fdfbd249f79597b59e1dc12 (train) and
d52ea96a97a2d943681189a97654912d (test).
"""

from pathlib import Path

from datamaestro.data.text import TextClassification
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.download.single import filedownloader
from datamaestro.formats.ag_news import read_articles
from datamaestro.loaders.text import write_texts
from datasets_registry._texts import texts_split

BASE = "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/555590db4219b1243abb1918effd6a7425a2d75f/data/ag_news_csv/"
CATEGORIES = ["World", "Sports", "Business", "Sci/Tech"]

TRAIN = filedownloader(
    "train.csv", BASE + "train.csv",
    checksum="sha256:76a0a2d2f92b286371fe4d4044640910a04a803fdd2538e0f3f29a5c6f6b672e", size=29470338,
)
TEST = filedownloader(
    "test.csv", BASE + "test.csv",
    checksum="sha256:521465c2428ed7f02f8d6db6ffdd4b5447c1c701962353eb2c40d548c3c85699", size=1857427,
)


def _texts(train: Path, test: Path, out: Path, limits: Limits) -> None:
    """One texts file per split from the CSV files."""
    for split, path in (("train", train), ("test", test)):
        write_texts(out, split, read_articles(path, CATEGORIES, limits.max_bytes))


@TRAIN
@TEST
@derived("texts", _texts, TRAIN, TEST)
@dataset(
    TextClassification, id="ag-news", name="AG News", aliases=["ag_news_subset", "ag_news"], url="http://groups.di.unipi.it/~gulli/AG_corpus_of_news_articles.html",
    homepage="http://groups.di.unipi.it/~gulli/AG_corpus_of_news_articles.html",
    tags=["text", "classification", "news", "english"],
    license="unknown: the corpus page provides it for research and other non-commercial use, with no formal license",
    citation="""
@inproceedings{zhang2015character,
  title = {Character-level Convolutional Networks for Text Classification},
  author = {Zhang, Xiang and Zhao, Junbo and LeCun, Yann},
  booktitle = {Advances in Neural Information Processing Systems},
  volume = {28},
  year = {2015},
  pages = {649--657}
}
""",
)
def ag_news(train, test, texts):
    """AG News: 127,600 news articles (title and description) in 4 balanced classes.

    120,000 training and 7,600 test articles, labelled World (0), Sports (1),
    Business (2) or Sci/Tech (3), from the AG corpus of news articles.
    """
    return {"train": texts_split(texts, "train"), "test": texts_split(texts, "test"), "categories": CATEGORIES}
