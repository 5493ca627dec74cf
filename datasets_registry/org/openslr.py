"""Open Speech and Language Resources (openslr.org): yesno (SLR 1) and LibriSpeech dev-clean and test-clean (SLR 12).

yesno: ``waves_yesno/<b1>_..._<b8>.wav`` (8 kHz), 60 recordings of one man
saying eight Hebrew words, each "yes" or "no"; the label of a clip is that
sequence of eight 0/1 values, from its name (``datamaestro.formats.yesno``).
No split is published: the dataset is one split.

LibriSpeech: ``LibriSpeech/<subset>/<speaker>/<chapter>/`` holds FLAC clips
(16 kHz, read with soundfile: the ``audio`` extra) and their transcripts
(``datamaestro.formats.librispeech``); a clip is labelled with its speaker.

Checksums: the yesno sha256 digest and size are those of TensorFlow Datasets
(tensorflow_datasets/audio/yesno/checksums.tsv), the same sha256 as torchaudio's
(torchaudio/datasets/yesno.py). The LibriSpeech sha256 digests and sizes are
those of TensorFlow Datasets (url_checksums/librispeech.txt), the same as
torchaudio's (torchaudio/datasets/librispeech.py) and Hugging Face's
(librispeech_asr).
"""

from pathlib import Path

from datamaestro.data.audio import SequenceLabelledClips, TranscribedSpeech
from datamaestro.definitions import dataset
from datamaestro.download.archive import archivedownloader
from datamaestro.download.derived import derived
from datamaestro.formats import librispeech, yesno
from datamaestro.loaders.audio import write_index
from datamaestro.loaders.folder import read_categories, write_categories

RESOURCES = "https://www.openslr.org/resources/"
HTTP = "http://www.openslr.org/resources/"

WAVES = archivedownloader(
    "waves", f"{RESOURCES}1/waves_yesno.tar.gz", mirrors=[f"{HTTP}1/waves_yesno.tar.gz"],
    checksum="sha256:c3f49e0cca421f96b75b41640749167b52118f232498667ca7a5f9416aef8e73", size=4703754,
    subpath="waves_yesno",
)


def _yesno_index(waves: Path, out: Path) -> None:
    """The index of the 60 recordings, labelled with their eight words."""
    write_index(out, "all", waves, yesno.read(waves))
    write_categories(out, yesno.WORDS)


@WAVES
@derived("index", _yesno_index, WAVES)
@dataset(
    SequenceLabelledClips, id="yesno", name="yesno", aliases=["yesno", "yes_no"], url="https://www.openslr.org/1/",
    tags=["audio", "speech", "sequence-labels", "hebrew"],
    license="unknown (no license is stated by openslr.org; it was made for the Kaldi project)",
    citation="""@misc{yesno,
  title = {YesNo},
  author = {{The Kaldi project}},
  howpublished = {\\url{https://www.openslr.org/1/}}
}""", homepage="https://www.openslr.org/1/",
)
def yesno_dataset(waves, index):
    """yesno: 60 recordings of one man saying eight Hebrew words, each "yes" or "no".

    8 kHz mono WAV, a few seconds each. The label of a clip is a row of
    eight values, 0 for "no" and 1 for "yes", in the order spoken
    (``labels`` is (60, 8) int64; ``text_labels`` gives the words).
    """
    return SequenceLabelledClips.from_index(waves, index, "all", read_categories(index))


def _librispeech_index(subset: str):
    """The build of the index of one subset: clips, speaker labels, transcripts, speaker ids."""

    def build(audio: Path, out: Path) -> None:
        found = librispeech.read(audio / subset)
        write_index(out, "all", audio / subset, zip(found.paths, found.labels), texts=found.texts)
        write_categories(out, found.speakers)

    return build


CITATION = """@inproceedings{panayotov2015librispeech,
  title = {Librispeech: an ASR corpus based on public domain audio books},
  author = {Panayotov, Vassil and Chen, Guoguo and Povey, Daniel and Khudanpur, Sanjeev},
  booktitle = {Acoustics, Speech and Signal Processing (ICASSP), 2015 IEEE International Conference on},
  pages = {5206--5210},
  year = {2015},
  organization = {IEEE}
}"""
#: subset, its sha256, its size, its utterances and speakers (Hugging Face's librispeech_asr card)
SUBSETS = [
    ("dev-clean", "76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3", 337926286, "2,703"),
    ("test-clean", "39fde525e59672dc6d1551919b1478f724438a95aa55f874b576be21967e6c23", 346663984, "2,620"),
]
DESCRIPTION = """LibriSpeech {subset}: {count} read English utterances with their transcripts.

16 kHz mono FLAC clips from LibriVox audio books (read with soundfile, the
``audio`` extra), labelled with their speaker (``categories`` are the speaker
ids); ``texts()`` gives the transcripts (upper case) and ``utterance_id(i)``
the ``speaker-chapter-utterance`` id. Batches are (waveforms, speakers, transcripts)."""


def _definition(subset: str, checksum: str, size: int, count: str):
    """One subset: its archive, the index of its utterances, and its typed clips."""
    archive = archivedownloader(
        "audio", f"{RESOURCES}12/{subset}.tar.gz", mirrors=[f"{HTTP}12/{subset}.tar.gz"],
        checksum=f"sha256:{checksum}", size=size, subpath="LibriSpeech",
    )

    def clips(audio: Path, index: Path) -> TranscribedSpeech:
        return TranscribedSpeech.from_index(audio / subset, index, "all", read_categories(index))

    clips.__name__ = clips.__qualname__ = f"librispeech_{subset.replace('-', '_')}"
    declare = dataset(
        TranscribedSpeech, id=f"librispeech-{subset}", name=f"LibriSpeech {subset}", url="https://www.openslr.org/12/", aliases=["librispeech", clips.__name__],
        tags=["audio", "speech", "transcribed", "english"], description=DESCRIPTION.format(subset=subset, count=count),
        license="CC-BY-4.0", citation=CITATION, homepage="https://www.openslr.org/12/",
    )
    return archive(derived("index", _librispeech_index(subset), archive)(declare(clips)))


for _subset in SUBSETS:
    globals()[f"librispeech_{_subset[0].replace('-', '_')}"] = _definition(*_subset)
