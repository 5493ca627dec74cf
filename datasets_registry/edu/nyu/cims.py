"""Datasets hosted at NYU's Courant Institute: the Multi-Genre Natural Language Inference corpus (MultiNLI 1.0).

``multinli_1.0.zip`` holds
``multinli_1.0/multinli_1.0_{train,dev_matched,dev_mismatched}.jsonl`` (and
tab-separated twins, unused), one pair a line (see
``datamaestro.formats.nli``). At prepare time each split is gathered into one
texts file with its offsets and labels, in the published order; pairs whose
gold label is ``-`` are kept with label -1 (the published counts of the
validation splits, 9,815 and 9,832, are those of the labelled pairs).

Checksum: the sha256 digest and size are those of Hugging Face datasets
(``multi_nli``) and TensorFlow Datasets (``url_checksums/multi_nli.txt``);
torchtext records md5 0f70aaf66293b3c088a864891db51353 for the same file.
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
HOMEPAGE = "https://cims.nyu.edu/~sbowman/multinli/"
#: split, published file
SPLITS = [("train", "train"), ("validation", "dev_matched"), ("validation_mismatched", "dev_mismatched")]

ARCHIVE = archivedownloader(
    "multinli_1.0", "https://cims.nyu.edu/~sbowman/multinli/multinli_1.0.zip",
    checksum="sha256:049f507b9e36b1fcb756cfd5aeb3b7a0cfcb84bf023793652987f7e7e0957822", size=226850426,
    subpath="multinli_1.0",
    varname="archive",
)


def _pairs(folder: Path, out: Path, limits: Limits) -> None:
    """One texts file per split from the JSON lines files."""
    for split, name in SPLITS:
        write_pairs(out, split, read_pairs(folder / f"multinli_1.0_{name}.jsonl", CATEGORIES, limits.max_bytes))


@ARCHIVE
@derived("pairs", _pairs, ARCHIVE)
@dataset(
    TextPairClassification, id="edu.nyu.cims.multinli-1.0", name="MultiNLI 1.0", url=HOMEPAGE, homepage=HOMEPAGE, aliases=["multi_nli", "multinli"],
    tags=["text", "pairs", "natural-language-inference", "english"],
    license="mixed: each genre keeps the license of its source (see the MultiNLI page); no single license covers it",
    citation="""
@inproceedings{williams-etal-2018-broad,
  title = {A Broad-Coverage Challenge Corpus for Sentence Understanding through Inference},
  author = {Williams, Adina and Nangia, Nikita and Bowman, Samuel},
  booktitle = {Proceedings of the 2018 Conference of the North American Chapter of the Association for Computational Linguistics: Human Language Technologies, Volume 1 (Long Papers)},
  year = {2018},
  pages = {1112--1122},
  url = {https://aclanthology.org/N18-1101}
}
""",
)
def multinli(archive, pairs):
    """The Multi-Genre Natural Language Inference corpus: premise and hypothesis pairs from ten genres, 3 classes.

    392,702 training pairs from five genres; two validation splits, matched
    (``validation``: the training genres) and mismatched
    (``validation_mismatched``: five other genres), with 9,815 and 9,832
    labelled pairs. Labels: entailment (0), neutral (1), contradiction (2);
    pairs without a gold label have label -1. The test sets are not published.
    """
    splits = {split: pairs_split(pairs, split) for split, _ in SPLITS}
    return {**splits, "categories": CATEGORIES}
