"""Datasets of the Stanford NLP Group: the Stanford Natural Language Inference corpus (SNLI 1.0).

``snli_1.0.zip`` holds ``snli_1.0/snli_1.0_{train,dev,test}.jsonl`` (and
tab-separated twins, unused), one pair a line (see
``datamaestro.formats.nli``). At prepare time each split is gathered into one
texts file with its offsets and labels, in the published order; pairs whose
gold label is ``-`` (no consensus among the annotators) are kept with label -1,
as Hugging Face datasets does (torchtext drops them).

Checksum: the sha256 digest and size are those of Hugging Face datasets
(``snli``) and TensorFlow Datasets (``url_checksums/snli.txt``).
"""

from pathlib import Path

from datamaestro.data.pairs import TextPairClassification
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.formats.nli import read_pairs
from datamaestro.loaders.pairs import pairs_split, write_pairs

CATEGORIES = ["entailment", "neutral", "contradiction"]
HOMEPAGE = "https://nlp.stanford.edu/projects/snli/"

ARCHIVE = archivedownloader(
    "snli_1.0", "https://nlp.stanford.edu/projects/snli/snli_1.0.zip",
    checksum="sha256:afb3d70a5af5d8de0d9d81e2637e0fb8c22d1235c2749d83125ca43dab0dbd3e", size=94550081,
    subpath="snli_1.0",
    varname="archive",
)


def _pairs(folder: Path, out: Path, limits: Limits) -> None:
    """One texts file per split from the JSON lines files."""
    for split, name in (("train", "train"), ("validation", "dev"), ("test", "test")):
        write_pairs(out, split, read_pairs(folder / f"snli_1.0_{name}.jsonl", CATEGORIES, limits.max_bytes))


@ARCHIVE
@derived("pairs", _pairs, ARCHIVE)
@dataset(
    TextPairClassification, id="edu.stanford.nlp.snli-1.0", name="SNLI 1.0", url=HOMEPAGE, homepage=HOMEPAGE, aliases=["snli"],
    tags=["text", "pairs", "natural-language-inference", "english"], license="CC-BY-SA-4.0",
    citation="""
@inproceedings{bowman-etal-2015-large,
  title = {A large annotated corpus for learning natural language inference},
  author = {Bowman, Samuel R. and Angeli, Gabor and Potts, Christopher and Manning, Christopher D.},
  booktitle = {Proceedings of the 2015 Conference on Empirical Methods in Natural Language Processing},
  year = {2015},
  pages = {632--642},
  url = {https://aclanthology.org/D15-1075}
}
""",
)
def snli(archive, pairs):
    """The Stanford Natural Language Inference corpus: 570,152 premise and hypothesis pairs in 3 classes.

    550,152 training, 10,000 validation (dev) and 10,000 test pairs of English
    sentences (premises are Flickr30k captions), labelled entailment (0),
    neutral (1) or contradiction (2); pairs without a gold label have label -1.
    """
    return {
        "train": pairs_split(pairs, "train"), "validation": pairs_split(pairs, "validation"),
        "test": pairs_split(pairs, "test"), "categories": CATEGORIES,
    }
