"""Speech Commands v0.02 (TensorFlow's keyword-spotting dataset), from download.tensorflow.org.

The archive has no top folder: ``<word>/<speaker>_nohash_<n>.wav`` (16 kHz
mono, about 1 s) for 35 words, ``_background_noise_/`` (not a class, not
indexed), ``validation_list.txt`` and ``testing_list.txt``
(``datamaestro.formats.speech_commands``). Labels follow the alphabetical
order of the words.

Checksum: the sha256 digest and size are those of TensorFlow Datasets
(tensorflow_datasets/url_checksums/speech_commands.txt); torchaudio records
the same sha256 for the same URL (torchaudio/datasets/speechcommands.py).
"""

from pathlib import Path

from datamaestro.data.audio import AudioClassification, AudioClips
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats import speech_commands
from datamaestro.loaders.folder import read_categories
from datasets_registry._audio import write_indexes

ARCHIVE = "speech_commands_v0.02.tar.gz"
CLIPS = archivedownloader(
    "clips", f"https://download.tensorflow.org/data/{ARCHIVE}",
    mirrors=[f"http://download.tensorflow.org/data/{ARCHIVE}", f"https://storage.googleapis.com/download.tensorflow.org/data/{ARCHIVE}"],
    checksum="sha256:af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58", size=2428923189,
)


def _index(clips: Path, out: Path) -> None:
    """The train, validation and test indexes, and the 35 words."""
    write_indexes(out, clips, *speech_commands.read(clips))


@CLIPS
@derived("index", _index, CLIPS)
@dataset(
    AudioClassification, id="org.tensorflow.speech-commands-v0.02", name="Speech Commands v0.02", aliases=["speech_commands", "speechcommands"],
    url="https://arxiv.org/abs/1804.03209", tags=["audio", "speech", "classification", "keywords"],
    license="CC-BY-4.0",
    citation="""@article{speechcommandsv2,
  author = {{Warden}, P.},
  title = "{Speech Commands: A Dataset for Limited-Vocabulary Speech Recognition}",
  journal = {ArXiv e-prints},
  archivePrefix = "arXiv",
  eprint = {1804.03209},
  primaryClass = "cs.CL",
  keywords = {Computer Science - Computation and Language, Computer Science - Human-Computer Interaction},
  year = 2018,
  month = apr,
  url = {https://arxiv.org/abs/1804.03209},
}""", homepage="https://arxiv.org/abs/1804.03209",
)
def speech_commands_v0_02(clips, index):
    """Speech Commands v0.02: 105,829 one-second clips of 35 spoken words.

    84,843 training, 9,981 validation and 11,005 test clips (from the
    archive's validation and testing lists), 16 kHz mono WAV, labelled with
    their word (0 to 34, alphabetical: backward, bed, bird...). Clips shorter
    than a second are common: batch them with ``length=16000``.
    """
    names = read_categories(index)
    return {
        "train": AudioClips.from_index(clips, index, "train"),
        "validation": AudioClips.from_index(clips, index, "validation"),
        "test": AudioClips.from_index(clips, index, "test"),
        "categories": names,
    }
