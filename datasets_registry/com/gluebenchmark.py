"""Tasks of the GLUE benchmark: the Stanford Sentiment Treebank's binary sentences (SST-2).

``SST-2.zip`` holds ``SST-2/train.tsv`` and ``SST-2/dev.tsv`` (a header, then
``sentence<TAB>label``) and ``SST-2/test.tsv`` (``index<TAB>sentence``, no
labels), see ``datamaestro.formats.glue``. At prepare time each split is
gathered into one texts file with its offsets and labels (``LabelledTexts``);
the test sentences have label -1.

Checksum: the sha256 digest and size are those of Hugging Face datasets
(``glue``, ``sst2``; TensorFlow Datasets' ``url_checksums/glue.txt`` records
the same for an older address); torchtext records md5
9f81648d4199384278b86e315dac217c for the same file.
"""

from pathlib import Path

from datamaestro.data.text import TextClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.formats.glue import read_sentences
from datamaestro.loaders.text import write_texts
from datasets_registry._texts import texts_split

CATEGORIES = ["negative", "positive"]
#: split, published file
SPLITS = [("train", "train"), ("validation", "dev"), ("test", "test")]

ARCHIVE = archivedownloader(
    "SST-2", "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip",
    checksum="sha256:d67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa", size=7439277,
    subpath="SST-2",
    varname="archive",
)


def _texts(folder: Path, out: Path, limits: Limits) -> None:
    """One texts file per split from the TSV files."""
    for split, name in SPLITS:
        write_texts(out, split, read_sentences(folder / f"{name}.tsv", CATEGORIES, limits.max_bytes))


@ARCHIVE
@derived("texts", _texts, ARCHIVE)
@dataset(
    TextClassification, id="sst-2", name="GLUE SST-2", aliases=["sst2", "glue_sst2"], url="https://gluebenchmark.com/tasks",
    homepage="https://nlp.stanford.edu/sentiment/index.html",
    tags=["text", "classification", "sentiment", "english", "glue"],
    license="unknown: no license is stated on the GLUE or Stanford Sentiment Treebank pages",
    citation="""
@inproceedings{socher-etal-2013-recursive,
  title = {Recursive Deep Models for Semantic Compositionality Over a Sentiment Treebank},
  author = {Socher, Richard and Perelygin, Alex and Wu, Jean and Chuang, Jason and Manning, Christopher D. and Ng, Andrew and Potts, Christopher},
  booktitle = {Proceedings of the 2013 Conference on Empirical Methods in Natural Language Processing},
  year = {2013},
  pages = {1631--1642},
  url = {https://aclanthology.org/D13-1170}
}

@inproceedings{wang2019glue,
  title = {{GLUE}: A Multi-Task Benchmark and Analysis Platform for Natural Language Understanding},
  author = {Wang, Alex and Singh, Amanpreet and Michael, Julian and Hill, Felix and Levy, Omer and Bowman, Samuel R.},
  booktitle = {International Conference on Learning Representations},
  year = {2019}
}
""",
)
def sst2(archive, texts):
    """GLUE SST-2: 70,042 movie review sentences labelled negative or positive.

    67,349 training, 872 validation (dev) and 1,821 test sentences from the
    Stanford Sentiment Treebank (as GLUE publishes them: lower-cased,
    tokenized), labelled negative (0) or positive (1); the test labels are not
    published (label -1).
    """
    return {**{split: texts_split(texts, split) for split, _ in SPLITS}, "categories": CATEGORIES}
