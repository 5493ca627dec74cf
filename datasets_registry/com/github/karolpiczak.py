"""ESC-50 (github.com/karolpiczak/ESC-50): 2,000 environmental sound clips in 50 classes and 5 folds.

The archive of the repository at commit 00aa5afbc655f148255d139b51abcfa5abf9ccb5
(after release v2.0.0, which made WAV the format) holds
``ESC-50-<commit>/audio/<fold>-<clip>-<take>-<target>.wav`` (5 s, 44.1 kHz
mono) and ``meta/esc50.csv`` (``datamaestro.formats.esc50``). The README
links the archive of the master branch, which changes whenever the branch
moves: the definition pins a commit instead.

No checksum is published for any archive of the repository (neither by its
author nor by torchaudio or TensorFlow Datasets), so the download is not
verified (a warning says so, and its sha256 is recorded); instead the
published counts are checked when it is indexed: 2,000 clips, 40 per
class, 400 per fold, each file name agreeing with its fold and class.
"""

from pathlib import Path

from datamaestro.data.audio import AudioClips, AudioFolds
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats import esc50
from datamaestro.loaders.folder import read_categories
from datasets_registry._audio import write_indexes

COMMIT = "00aa5afbc655f148255d139b51abcfa5abf9ccb5"
HOMEPAGE = "https://github.com/karolpiczak/ESC-50"
REPOSITORY = archivedownloader(
    "repository", f"{HOMEPAGE}/archive/{COMMIT}.zip", mirrors=[f"https://github.com/karoldvl/ESC-50/archive/{COMMIT}.zip"],
    subpath=f"ESC-50-{COMMIT}",
)


def _index(repository: Path, out: Path) -> None:
    """The index of each fold (the counts checked), and the class names."""
    write_indexes(out, repository, *esc50.read(repository))


@REPOSITORY
@derived("index", _index, REPOSITORY)
@dataset(
    AudioFolds, id="esc-50", name="ESC-50: Dataset for Environmental Sound Classification", url=HOMEPAGE, aliases=["esc50", "esc_50"],
    tags=["audio", "environmental-sounds", "classification", "folds"],
    license="CC-BY-NC-3.0 (the ESC-10 subset: CC-BY-3.0)",
    citation="""@inproceedings{piczak2015dataset,
  title = {{ESC}: {Dataset} for {Environmental Sound Classification}},
  author = {Piczak, Karol J.},
  booktitle = {Proceedings of the 23rd {Annual ACM Conference} on {Multimedia}},
  date = {2015-10-13},
  url = {http://dl.acm.org/citation.cfm?doid=2733373.2806390},
  doi = {10.1145/2733373.2806390},
  location = {{Brisbane, Australia}},
  isbn = {978-1-4503-3459-4},
  publisher = {{ACM Press}},
  pages = {1015--1018}
}""", homepage=HOMEPAGE,
)
def esc_50(repository, index):
    """ESC-50: 2,000 five-second environmental recordings (dog, rain, sneezing, siren...), 50 classes.

    44.1 kHz mono WAV clips from freesound.org, 40 per class, in 5 folds of
    400 for cross-validation (clips cut from one recording stay in one fold):
    ``folds[k]`` is fold k + 1 (``fold1``...``fold5`` in ``info``). Labels 0
    to 49 are the published targets.
    """
    names = read_categories(index)
    return {"folds": [AudioClips.from_index(repository, index, f"fold{k}") for k in range(1, 6)], "categories": names}
