"""The Stanford Question Answering Dataset (SQuAD) 1.1 and 2.0, from the SQuAD explorer's site.

Each version is two JSON files, ``train-vX.json`` and ``dev-vX.json`` (see
``datamaestro.formats.squad``), converted at prepare time into compact
``QuestionAnswering`` splits (train, and validation for dev): contexts stored
once, answers as texts with character offsets into their context, SQuAD 2.0's
unanswerable questions marked ``is_impossible`` with no answers.

Strings are kept exactly as published, so each answer's text is the context's
text at its offset (misalignment reported elsewhere came from stripping
contexts); an answer that is not is kept as published, counted by ``info``
(``misaligned_answers``) and warned about, and an offset outside its context is
refused (see ``datamaestro.formats.squad``).

Checksums: the sha256 digests and sizes are those of Hugging Face datasets
(``squad`` and ``squad_v2``; for 1.1 also TensorFlow Datasets'
``url_checksums/squad.txt``); torchtext records md5s of the same files
(noted beside each).
"""

from pathlib import Path

from datamaestro.data.qa import ReadingComprehension
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.download.single import filedownloader
from datamaestro.formats.squad import read
from datamaestro.loaders.qa import qa_split, write_qa
from datamaestro.log import log

BASE = "https://rajpurkar.github.io/SQuAD-explorer/dataset/"
HOMEPAGE = "https://rajpurkar.github.io/SQuAD-explorer/"
LICENSE = "CC-BY-SA-4.0"
CITATION = """
@inproceedings{rajpurkar-etal-2016-squad,
  title = {{SQ}u{AD}: 100,000+ Questions for Machine Comprehension of Text},
  author = {Rajpurkar, Pranav and Zhang, Jian and Lopyrev, Konstantin and Liang, Percy},
  booktitle = {Proceedings of the 2016 Conference on Empirical Methods in Natural Language Processing},
  year = {2016},
  pages = {2383--2392},
  url = {https://aclanthology.org/D16-1264}
}
"""
CITATION_2 = CITATION + """
@inproceedings{rajpurkar-etal-2018-know,
  title = {Know What You Don't Know: Unanswerable Questions for {SQ}u{AD}},
  author = {Rajpurkar, Pranav and Jia, Robin and Liang, Percy},
  booktitle = {Proceedings of the 56th Annual Meeting of the Association for Computational Linguistics (Volume 2: Short Papers)},
  year = {2018},
  pages = {784--789},
  url = {https://aclanthology.org/P18-2124}
}
"""
#: the training and dev files of each version (torchtext's md5s of the same files beside them)
TRAIN = {
    # md5 981b29407e0affa3b1b156f72073b945
    "v1.1": filedownloader(
        "train-v1.1.json", BASE + "train-v1.1.json", varname="train", size=30288272,
        checksum="sha256:3527663986b8295af4f7fcdff1ba1ff3f72d07d61a20f487cb238a6ef92fd955",
    ),
    # md5 62108c273c268d70893182d5cf8df740
    "v2.0": filedownloader(
        "train-v2.0.json", BASE + "train-v2.0.json", varname="train", size=42123633,
        checksum="sha256:68dcfbb971bd3e96d5b46c7177b16c1a4e7d4bdef19fb204502738552dede002",
    ),
}
DEV = {
    # md5 3e85deb501d4e538b6bc56f786231552
    "v1.1": filedownloader(
        "dev-v1.1.json", BASE + "dev-v1.1.json", varname="dev", size=4854279,
        checksum="sha256:95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9",
    ),
    # md5 246adae8b7002f8679c027697b0b7cf8
    "v2.0": filedownloader(
        "dev-v2.0.json", BASE + "dev-v2.0.json", varname="dev", size=4370528,
        checksum="sha256:80a5225e94905956a6446d296ca1093975c4d3b3260f1d6c8f68bc2ab77182d8",
    ),
}
#: version, name, description
VERSIONS = [
    ("v1.1", "SQuAD 1.1", """SQuAD 1.1: 98,169 questions on Wikipedia paragraphs, each answered by a span of its paragraph.

87,599 training and 10,570 validation (dev) questions, posed by crowdworkers
on Wikipedia articles; a training question has one answer, a validation
question several (the answers of other crowdworkers). No test set is
published."""),
    ("v2.0", "SQuAD 2.0", """SQuAD 2.0: SQuAD 1.1 with over 50,000 unanswerable questions, written to look answerable.

130,319 training and 11,873 validation (dev) questions; an unanswerable one
has ``is_impossible`` set and no answers. No test set is published."""),
]


def _definition(version: str, name: str, doc: str):
    """The dataset of one SQuAD version: its two JSON files, converted once."""
    train, dev = TRAIN[version], DEV[version]

    def build(train_path: Path, dev_path: Path, out: Path, limits: Limits) -> None:
        for split, path in (("train", train_path), ("validation", dev_path)):
            paragraphs = read(path, limits.max_bytes)
            if paragraphs.misaligned:
                log.warning(
                    "%s: %d of %d answers are not the context's text at their offset; kept as published",
                    path.name, paragraphs.misaligned, paragraphs.answers,
                )
            write_qa(out, split, paragraphs.items)

    def squad(train: Path, dev: Path, qa: Path) -> dict:
        return {"train": qa_split(qa, "train"), "validation": qa_split(qa, "validation")}

    build.__doc__ = f"Convert SQuAD {version}'s JSON files into compact question answering splits."
    squad.__name__ = squad.__qualname__ = f"squad_{version.replace('.', '_')}"
    declare = dataset(
        ReadingComprehension, id=f"io.github.rajpurkar.squad-{version}", name=name, description=doc, url=HOMEPAGE,
        homepage=HOMEPAGE, license=LICENSE, citation=CITATION_2 if version == "v2.0" else CITATION,
        aliases=["squad_v2" if version == "v2.0" else "squad", squad.__name__],
        tags=["text", "question-answering", "reading-comprehension", "english", "squad"],
    )
    return train(dev(derived("qa", build, train, dev)(declare(squad))))


for _version, _name, _doc in VERSIONS:
    globals()[f"squad_{_version.replace('.', '_')}"] = _definition(_version, _name, _doc)
