"""SQuAD 1.1 and 2.0, SNLI, MultiNLI, GLUE SST-2 and AG News, from fixtures in their exact published layouts.

The fixtures are built here: SQuAD's JSON files, the NLI corpora's zips of
JSON lines, SST-2's zip of TSV files, AG News' CSV files. As their sizes are
not the published ones (every definition declares its file sizes, which are
checked before the checksum), each test first serves them on loopback under
the definition's real URLs and asserts that prepare refuses them for that
mismatch, then prepares from the same files with ``--from DIR --no-verify``
and checks the typed objects end to end. Hostile files (nesting bombs,
offsets outside their context, unknown labels) are refused with one line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from kindfixtures import patched_module, sha256, zip_bytes

from datamaestro.api import prepare_dataset
from datamaestro.data.pairs import TextPairClassification, TextPairs
from datamaestro.data.qa import QAExample, QuestionAnswering, ReadingComprehension
from datamaestro.data.text import LabelledTexts, TextClassification
from datamaestro.errors import DownloadError, FormatError, UnpackLimitError
from datamaestro.formats.ag_news import read_articles
from datamaestro.formats.glue import read_sentences
from datamaestro.formats.nli import read_pairs
from datamaestro.formats.squad import read as read_squad

SQUAD_BASE = "https://rajpurkar.github.io/SQuAD-explorer/dataset/"
NLI = ["entailment", "neutral", "contradiction"]


def serve(env, server, base: str, files: dict[str, bytes]) -> str:
    """Serve ``files`` on loopback under the URL folder ``base`` (through the mirrors setting)."""
    path = "/" + base.split("://", 1)[1]
    for name, data in files.items():
        server.files[path + name] = data
    env.mirror(base, server.url(path))
    return path


def check_refused_by_size(env, server, dataset_id: str, base: str, files: dict[str, bytes], size: int) -> None:
    """Serve ``files`` under the definition's real URL folder: their size, not the published one, stops prepare."""
    path = serve(env, server, base, files)
    first = next(iter(files))
    with pytest.raises(DownloadError, match=re.escape(f"{first}: got {len(files[first])} bytes, expected {size}")):
        prepare_dataset(dataset_id, quiet=True)
    assert server.gets(path + first) >= 1


def fixture_copy(env, module: str, files: dict[str, bytes], published: dict[str, tuple[str, int]], renamed: str = "") -> str:
    """A copy of the definition ``module`` that verifies ``files`` (name -> published (sha256, size)) and
    whose ids start ``org.fixture.<name>`` (``renamed``: the text after the module path of an explicit id)."""
    target = "org.fixture." + module.rsplit(".", 1)[-1]
    replacements = {f"{module}.{renamed}": f"{target}.{renamed}"} if renamed else {}
    for name, (digest, size) in published.items():
        replacements[f"sha256:{digest}"] = f"sha256:{sha256(files[name])}"
        replacements[f"size={size}"] = f"size={len(files[name])}"
    return patched_module(env.use_registry(), module, target, replacements)


SQUAD_PUBLISHED = {
    "v1.1": {
        "train-v1.1.json": ("3527663986b8295af4f7fcdff1ba1ff3f72d07d61a20f487cb238a6ef92fd955", 30288272),
        "dev-v1.1.json": ("95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9", 4854279),
    },
    "v2.0": {
        "train-v2.0.json": ("68dcfbb971bd3e96d5b46c7177b16c1a4e7d4bdef19fb204502738552dede002", 42123633),
        "dev-v2.0.json": ("80a5225e94905956a6446d296ca1093975c4d3b3260f1d6c8f68bc2ab77182d8", 4370528),
    },
}


def squad(env, server, version: str, files: dict[str, bytes]) -> ReadingComprehension:
    """SQuAD ``version`` prepared from ``files``, downloaded on loopback and verified by a fixture copy."""
    serve(env, server, SQUAD_BASE, files)
    module = fixture_copy(env, "io.github.rajpurkar", files, SQUAD_PUBLISHED[version], "squad-")
    return prepare_dataset(f"{module}.squad-{version}", quiet=True)


def squad_json(version: str, articles: list[dict]) -> bytes:
    return json.dumps({"version": version, "data": articles}).encode("utf-8")


# The contexts keep their published leading space and non-ASCII text: offsets are characters.
BEYONCE = " Beyoncé Giselle Knowles-Carter (born September 4, 1981) is an American singer."
TRAIN_V1 = [
    {"title": "Beyoncé", "paragraphs": [
        {"context": BEYONCE, "qas": [
            {"id": "q1", "question": "When was Beyoncé born?", "answers": [{"text": "September 4, 1981", "answer_start": 38}]},
            {"id": "q2", "question": "What is she?", "answers": [{"text": "American singer", "answer_start": 63}]},
        ]},
    ]},
    {"title": "Ünïcode", "paragraphs": [{"context": "Zürich is in Switzerland.", "qas": [
        {"id": "q3", "question": "Where is Zürich?", "answers": [{"text": "Switzerland", "answer_start": 13}]},
    ]}]},
]
DEV_V1 = [{"title": "Beyoncé", "paragraphs": [{"context": BEYONCE, "qas": [
    {"id": "d1", "question": "Born when?", "answers": [
        {"text": "September 4, 1981", "answer_start": 38}, {"text": "1981", "answer_start": 51},
        {"text": "1981 ", "answer_start": 51},
    ]},
]}]}]


def test_squad_v1(env, server, cli):
    files = {"train-v1.1.json": squad_json("1.1", TRAIN_V1), "dev-v1.1.json": squad_json("1.1", DEV_V1)}
    check_refused_by_size(env, server, "io.github.rajpurkar.squad-v1.1", SQUAD_BASE, files, 30288272)
    ds = squad(env, server, "v1.1", files)
    assert isinstance(ds, ReadingComprehension) and isinstance(ds.train, QuestionAnswering)
    assert set(ds.splits()) == {"train", "validation"} and len(ds.train) == 3 and len(ds.validation) == 1
    assert ds.train.example(0) == QAExample(
        id="q1", title="Beyoncé", context=BEYONCE, question="When was Beyoncé born?", answers=["September 4, 1981"],
        answer_starts=[38], is_impossible=False,
    )
    assert ds.train.example(2).context == "Zürich is in Switzerland." and ds.train.example(2).title == "Ünïcode"
    for example in ds.train.examples_at(slice(None)):
        for text, start in zip(example.answers, example.answer_starts):
            assert example.context[start : start + len(text)] == text
    dev = ds.validation.example(0)
    assert dev.answers == ["September 4, 1981", "1981", "1981 "] and dev.answer_starts == [38, 51, 51]
    assert ds.train.stats() == {"count": 3, "contexts": 2, "answers": 3, "unanswerable": 0, "misaligned_answers": 0}
    # the dev answer with a trailing space (the context has '1981)') is kept as published, and counted
    assert ds.validation.stats()["misaligned_answers"] == 1
    assert [len(batch) for batch in ds.train.batches(2, shuffle=False)] == [2, 1]
    assert sorted(e.id for b in ds.train.batches(2, seed=3) for e in b) == ["q1", "q2", "q3"]
    info = json.loads(cli("info", "--json", "org.fixture.rajpurkar.squad-v1.1").stdout)
    assert info["splits"]["train"] == ds.train.stats()


def test_squad_v2_unanswerable_and_shared_contexts(env, server):
    context = "The Normans were a people in Normandy."
    train = [{"title": "Normans", "paragraphs": [{"context": context, "qas": [
        {"id": "a", "question": "Who were the Normans?", "answers": [{"text": "a people", "answer_start": 17}],
         "is_impossible": False},
        {"id": "b", "question": "Who were the Saxons?", "answers": [], "is_impossible": True,
         "plausible_answers": [{"text": "a people", "answer_start": 17}]},
    ]}, {"context": context, "qas": [
        {"id": "c", "question": "Where?", "answers": [{"text": "Normandy", "answer_start": 29}], "is_impossible": False},
    ]}]}]
    dev = [{"title": "Normans", "paragraphs": [{"context": context, "qas": [
        {"id": "d", "question": "When?", "answers": [], "is_impossible": True},
    ]}]}]
    files = {"train-v2.0.json": squad_json("v2.0", train), "dev-v2.0.json": squad_json("v2.0", dev)}
    check_refused_by_size(env, server, "io.github.rajpurkar.squad-v2.0", SQUAD_BASE, files, 42123633)
    ds = squad(env, server, "v2.0", files)
    assert ds.train.example(1) == QAExample(
        id="b", title="Normans", context=context, question="Who were the Saxons?", answers=[], answer_starts=[],
        is_impossible=True,
    )
    assert ds.train.example(2).answers == ["Normandy"] and ds.train.example(2).answer_starts == [29]
    # the context is stored once for both paragraphs
    assert ds.train.stats() == {"count": 3, "contexts": 1, "answers": 2, "unanswerable": 1, "misaligned_answers": 0}
    assert ds.validation.stats()["unanswerable"] == 1 and ds.validation.example(0).is_impossible


def squad_refusal(env, server, train: bytes) -> str:
    files = {"train-v1.1.json": train, "dev-v1.1.json": squad_json("1.1", DEV_V1)}
    with pytest.raises(FormatError) as error:
        squad(env, server, "v1.1", files)
    message = str(error.value)
    assert "\n" not in message and "train-v1.1.json" in message
    return message


def test_squad_answer_outside_its_context_names_the_question(env, server):
    bad = json.loads(json.dumps(TRAIN_V1))
    bad[1]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = 250
    message = squad_refusal(env, server, squad_json("1.1", bad))
    assert "question q3: answer 0 starts at character 250, outside its context of 25 characters" in message


def answer_start_as_text() -> bytes:
    bad = json.loads(json.dumps(TRAIN_V1))
    bad[0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = "38"
    return squad_json("1.1", bad)


@pytest.mark.parametrize("train,problem", [
    (b"[" * 200_000 + b"]" * 200_000, "refused: its JSON is nested too deeply; it is not a SQuAD file"),
    (b'{"data": "x"}', "data: expected list, found str; it is not a SQuAD file"),
    (b'{"data": [', "not JSON (Expecting value at line 1, column 11)"),
    (answer_start_as_text(), "data[0].paragraphs[0].qas[0].answers[0].answer_start: expected int, found str"),
], ids=["nesting-bomb", "data-not-a-list", "truncated", "offset-as-text"])
def test_squad_nesting_bomb_and_wrong_shapes_are_refused(tmp_path: Path, train: bytes, problem: str):
    path = tmp_path / "train-v1.1.json"
    path.write_bytes(train)
    with pytest.raises(FormatError) as error:
        read_squad(path)
    assert str(error.value).startswith(f"{path}: ") and problem in str(error.value) and "\n" not in str(error.value)


def test_squad_byte_offsets_are_refused_and_size_bounded(tmp_path: Path):
    # offsets counted in UTF-8 bytes, not characters: every answer after the 'é' is misaligned
    qas = [{"id": f"b{k}", "question": "When?", "answers": [{"text": "September", "answer_start": 39}]} for k in range(11)]
    path = tmp_path / "train-v1.1.json"
    path.write_bytes(squad_json("1.1", [{"title": "Bytes", "paragraphs": [{"context": BEYONCE, "qas": qas}]}]))
    with pytest.raises(FormatError, match="train-v1.1.json: 11 of 11 answers are not the context's text at their offset"):
        read_squad(path)
    path = tmp_path / "big.json"
    path.write_bytes(squad_json("1.1", TRAIN_V1))
    with pytest.raises(UnpackLimitError, match="big.json: refused: the JSON file would take"):
        read_squad(path, max_bytes=100)


def nli_lines(rows: list[tuple[str, str, str]]) -> bytes:
    return b"".join(
        json.dumps({"annotator_labels": [g], "captionID": "x", "gold_label": g, "pairID": f"p{k}",
                    "sentence1": a, "sentence1_parse": "(ROOT)", "sentence2": b}).encode() + b"\n"
        for k, (a, b, g) in enumerate(rows)
    )


SNLI_BASE = "https://nlp.stanford.edu/projects/snli/"
MNLI_BASE = "https://cims.nyu.edu/~sbowman/multinli/"
MNLI_SHA256 = "049f507b9e36b1fcb756cfd5aeb3b7a0cfcb84bf023793652987f7e7e0957822"


def snli(env, server, files: dict[str, bytes]) -> TextPairClassification:
    serve(env, server, SNLI_BASE, files)
    published = {"snli_1.0.zip": ("afb3d70a5af5d8de0d9d81e2637e0fb8c22d1235c2749d83125ca43dab0dbd3e", 94550081)}
    module = fixture_copy(env, "edu.stanford.nlp", files, published, "snli-1.0")
    return prepare_dataset(f"{module}.snli-1.0", quiet=True)


SNLI_TRAIN = [
    ("A person on a horse jumps.", "A person is outdoors.", "entailment"),
    ("Children smiling.", "Kids are sad.", "contradiction"),
    ("Two \"quoted\" men, café.", "Men are eating.", "neutral"),
    ("A dog runs.", "An animal moves.", "-"),
]


def test_snli(env, server, cli):
    archive = zip_bytes({
        "snli_1.0/README.txt": b"SNLI", "snli_1.0/snli_1.0_train.txt": b"gold_label\tsentence1\n",
        "snli_1.0/snli_1.0_train.jsonl": nli_lines(SNLI_TRAIN),
        "snli_1.0/snli_1.0_dev.jsonl": nli_lines([("A.", "B.", "neutral")]),
        "snli_1.0/snli_1.0_test.jsonl": nli_lines([("C.", "D.", "contradiction"), ("E.", "F.", "-")]),
        "__MACOSX/snli_1.0/._README.txt": b"\x00",
    })
    files = {"snli_1.0.zip": archive}
    check_refused_by_size(env, server, "edu.stanford.nlp.snli-1.0", SNLI_BASE, files, 94550081)
    ds = snli(env, server, files)
    assert isinstance(ds, TextPairClassification) and isinstance(ds.train, TextPairs)
    assert ds.categories == NLI and ds.train.categories == NLI and set(ds.splits()) == {"train", "validation", "test"}
    firsts, seconds, labels = ds.train.arrays()
    assert firsts == [a for a, _, _ in SNLI_TRAIN] and seconds == [b for _, b, _ in SNLI_TRAIN]
    assert labels.dtype == np.int64 and labels.tolist() == [0, 2, 1, -1]
    assert ds.train.pair(2) == ("Two \"quoted\" men, café.", "Men are eating.", 1)
    assert ds.test.arrays()[2].tolist() == [2, -1]
    assert ds.train.stats() == {"count": 4, "labels": {"entailment": 1, "neutral": 1, "contradiction": 1}, "unlabelled": 1}
    batches = list(ds.train.batches(3, shuffle=False))
    assert [len(b[0]) for b in batches] == [3, 1] and batches[1][:2] == (["A dog runs."], ["An animal moves."]) and batches[1][2].tolist() == [-1]
    info = json.loads(cli("info", "--json", "org.fixture.nlp.snli-1.0").stdout)
    assert info["splits"]["test"] == {"count": 2, "labels": {"entailment": 0, "neutral": 0, "contradiction": 1}, "unlabelled": 1}


@pytest.mark.parametrize("train,problem", [
    (nli_lines([("a", "b", "neutral"), ("c", "d", "maybe")]),
     "snli_1.0_train.jsonl: line 2: unknown gold_label 'maybe' (expected one of entailment, neutral, contradiction, -)"),
    (b"[" * 100_000 + b"\n", "snli_1.0_train.jsonl: line 1 is not a JSON object (or is nested too deeply)"),
    (b'{"sentence1": 1}\n', "snli_1.0_train.jsonl: line 1: expected the strings sentence1, sentence2 and gold_label"),
    (b"{}" + b" " * (1 << 20) + b"\n", "snli_1.0_train.jsonl: line 1 is longer than 1048576 bytes"),
], ids=["unknown-label", "nesting-bomb", "not-strings", "huge-line"])
def test_snli_unknown_label_and_bad_lines_are_refused(tmp_path: Path, train: bytes, problem: str):
    path = tmp_path / "snli_1.0_train.jsonl"
    path.write_bytes(train)
    with pytest.raises(FormatError) as error:
        list(read_pairs(path, NLI))
    assert problem in str(error.value) and "\n" not in str(error.value)


def test_snli_bad_label_stops_prepare(env, server):
    archive = zip_bytes({
        "snli_1.0/snli_1.0_train.jsonl": nli_lines([("a", "b", "maybe")]), "snli_1.0/snli_1.0_dev.jsonl": b"",
        "snli_1.0/snli_1.0_test.jsonl": b"",
    })
    with pytest.raises(FormatError, match=r"snli_1.0/snli_1.0_train.jsonl: line 1: unknown gold_label 'maybe'"):
        snli(env, server, {"snli_1.0.zip": archive})


def test_multinli_has_a_mismatched_validation_split(env, server):
    archive = zip_bytes({
        "multinli_1.0/multinli_1.0_train.jsonl": nli_lines([("Fiction.", "A story.", "entailment")]),
        "multinli_1.0/multinli_1.0_dev_matched.jsonl": nli_lines([("M1.", "M2.", "neutral"), ("M3.", "M4.", "-")]),
        "multinli_1.0/multinli_1.0_dev_mismatched.jsonl": nli_lines([("X1.", "X2.", "contradiction")]),
        "multinli_1.0/paper.pdf": b"%PDF",
    })
    files = {"multinli_1.0.zip": archive}
    check_refused_by_size(env, server, "edu.nyu.cims.multinli-1.0", MNLI_BASE, files, 226850426)
    serve(env, server, MNLI_BASE, files)
    module = fixture_copy(env, "edu.nyu.cims", files, {"multinli_1.0.zip": (MNLI_SHA256, 226850426)}, "multinli-1.0")
    ds = prepare_dataset(f"{module}.multinli-1.0", quiet=True)
    assert set(ds.splits()) == {"train", "validation", "validation_mismatched"}
    assert ds.validation_mismatched.categories == NLI
    firsts, seconds, labels = ds.validation.arrays()
    assert (firsts, seconds, labels.tolist()) == (["M1.", "M3."], ["M2.", "M4."], [1, -1])
    assert ds.validation_mismatched.pair(0) == ("X1.", "X2.", 2)


SST_BASE = "https://dl.fbaipublicfiles.com/glue/data/"


def sst2(env, server, files: dict[str, bytes]) -> TextClassification:
    serve(env, server, SST_BASE, files)
    published = {"SST-2.zip": ("d67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa", 7439277)}
    return prepare_dataset(f"{fixture_copy(env, 'com.gluebenchmark', files, published)}.sst-2", quiet=True)


def test_sst2_test_split_has_no_labels(env, server):
    archive = zip_bytes({
        "SST-2/train.tsv": b"sentence\tlabel\nhide new secretions from the parental units \t0\n"
                           b"the greatest musicians \t1\n\"quoted\" and 'ok' \t1\n",
        "SST-2/dev.tsv": b"sentence\tlabel\nit 's a charming journey . \t1\n",
        "SST-2/test.tsv": b"index\tsentence\n0\tuneasy mishmash of styles .\n1\tcaf\xc3\xa9 .\n",
        "SST-2/original/README.txt": b"SST",
    })
    files = {"SST-2.zip": archive}
    check_refused_by_size(env, server, "com.gluebenchmark.sst-2", SST_BASE, files, 7439277)
    ds = sst2(env, server, files)
    assert isinstance(ds, TextClassification) and isinstance(ds.test, LabelledTexts)
    assert ds.categories == ["negative", "positive"] and set(ds.splits()) == {"train", "validation", "test"}
    texts, labels = ds.train.arrays()
    assert texts == ["hide new secretions from the parental units ", "the greatest musicians ", "\"quoted\" and 'ok' "]
    assert labels.tolist() == [0, 1, 1]
    assert ds.validation.text(0) == "it 's a charming journey . "
    assert ds.test.arrays()[0] == ["uneasy mishmash of styles .", "café ."] and ds.test.arrays()[1].tolist() == [-1, -1]


@pytest.mark.parametrize("content,problem", [
    (b"sentence\tlabel\ngood \t1\nbad \t7\n", "train.tsv: line 3: label '7' is not 0 or 1"),
    (b"sentence\tlabel\ngood \t1\tx\n", "train.tsv: line 2 has 3 fields, not 2"),
    (b"text,label\n", "train.tsv: expected the header 'sentence<TAB>label' or 'index<TAB>sentence'"),
])
def test_sst2_bad_lines_are_refused(tmp_path: Path, content: bytes, problem: str):
    path = tmp_path / "train.tsv"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=re.escape(problem)):
        list(read_sentences(path, ["negative", "positive"]))


AG_BASE = "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/555590db4219b1243abb1918effd6a7425a2d75f/data/ag_news_csv/"


def ag_news(env, server, files: dict[str, bytes]) -> TextClassification:
    serve(env, server, AG_BASE, files)
    published = {
        "train.csv": ("76a0a2d2f92b286371fe4d4044640910a04a803fdd2538e0f3f29a5c6f6b672e", 29470338),
        "test.csv": ("521465c2428ed7f02f8d6db6ffdd4b5447c1c701962353eb2c40d548c3c85699", 1857427),
    }
    return prepare_dataset(f"{fixture_copy(env, 'it.unipi.di', files, published)}.ag-news", quiet=True)


def test_ag_news(env, server):
    files = {
        "train.csv": b'"3","Fears for T N pension after talks","Unions say they are ""disappointed"" after talks."\n'
                     b'"4","The Race is On (SPACE.com)","SPACE.com - A second\\team of rocketeers, competing."\n'
                     b'"1","World, news","Line one\nline two"\n',
        "test.csv": b'"2","Sports","Match report."\n',
    }
    check_refused_by_size(env, server, "it.unipi.di.ag-news", AG_BASE, files, 29470338)
    ds = ag_news(env, server, files)
    assert ds.categories == ["World", "Sports", "Business", "Sci/Tech"]
    texts, labels = ds.train.arrays()
    assert texts == [
        "Fears for T N pension after talks Unions say they are \"disappointed\" after talks.",
        "The Race is On (SPACE.com) SPACE.com - A second\\team of rocketeers, competing.",
        "World, news Line one\nline two",
    ]
    assert labels.tolist() == [2, 3, 0]
    assert ds.test.text(0) == "Sports Match report." and ds.test.arrays()[1].tolist() == [1]


@pytest.mark.parametrize("content,problem", [
    (b'"1","t","d"\n"5","t","d"\n', "train.csv: line 2: class '5' is not 1 to 4"),
    (b'"1","t"\n', "train.csv: line 1 has 2 fields, not 3 (class, title, description)"),
])
def test_ag_news_bad_rows_are_refused(tmp_path: Path, content: bytes, problem: str):
    path = tmp_path / "train.csv"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=re.escape(problem)):
        list(read_articles(path, ["World", "Sports", "Business", "Sci/Tech"]))
