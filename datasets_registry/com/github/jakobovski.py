"""The Free Spoken Digit Dataset (github.com/Jakobovski/free-spoken-digit-dataset), release v1.0.9.

The archive of the git tag v1.0.9 holds
``free-spoken-digit-dataset-1.0.9/recordings/<digit>_<speaker>_<index>.wav``
(8 kHz mono). No split file is published: as the README says, recordings
with index 0 to 4 are the test split, the others the training split
(``datamaestro.formats.spoken_digits``).

Checksum: the sha256 digest and size of the tag archive are those of
TensorFlow Datasets (tensorflow_datasets/audio/spoken_digit/checksums.tsv);
it is the only release whose archive has a recorded checksum, so the
definition is pinned to it rather than to a later commit.
"""

from pathlib import Path

from datamaestro.data.audio import AudioClassification, AudioClips
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats import spoken_digits
from datamaestro.loaders.folder import read_categories
from datasets_registry._audio import write_indexes

HOMEPAGE = "https://github.com/Jakobovski/free-spoken-digit-dataset"
RECORDINGS = archivedownloader(
    "recordings", f"{HOMEPAGE}/archive/v1.0.9.tar.gz",
    checksum="sha256:8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0", size=11975353,
    subpath="free-spoken-digit-dataset-1.0.9/recordings",
)


def _index(recordings: Path, out: Path) -> None:
    """The train and test indexes (by recording index), and the digits."""
    write_indexes(out, recordings, *spoken_digits.read(recordings))


@RECORDINGS
@derived("index", _index, RECORDINGS)
@dataset(
    AudioClassification, id="free-spoken-digit-dataset", name="Free Spoken Digit Dataset (v1.0.9)", url=HOMEPAGE, aliases=["spoken_digit", "fsdd"],
    tags=["audio", "speech", "classification", "digits"], license="CC-BY-SA-4.0",
    citation="""@misc{jackson2016fsdd,
  author = {Zohar Jackson and C{\\'e}sar Souza and Jason Flaks and Yuxin Pan and Hereman Nicolas and Adhish Thite},
  title = {Free Spoken Digit Dataset},
  howpublished = {\\url{https://github.com/Jakobovski/free-spoken-digit-dataset}},
  year = {2016}
}""", homepage=HOMEPAGE,
)
def free_spoken_digit_dataset(recordings, index):
    """Free Spoken Digit Dataset: English digits 0 to 9 spoken by several speakers, 50 times each.

    8 kHz mono WAV recordings trimmed to the word (lengths vary: batch them
    with ``length=``). Test split: recordings 0 to 4 of each digit and
    speaker (10%); training split: recordings 5 to 49.
    """
    return {
        "train": AudioClips.from_index(recordings, index, "train"),
        "test": AudioClips.from_index(recordings, index, "test"),
        "categories": read_categories(index),
    }
