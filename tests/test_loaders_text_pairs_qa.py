"""The text pair and question answering kinds: storage, batches, torch and tf adapters, stats."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from datamaestro.data.qa import QAExample
from datamaestro.formats.squad import Paragraph, Question
from datamaestro.loaders.pairs import pairs_split, write_pairs
from datamaestro.loaders.qa import qa_split, write_qa

PAIRS = [("A man é.", "A person.", 0), ("", "Empty first.", 2), ("No label.", "", -1), ("Dogs.", "Cats.", 1)]


@pytest.fixture
def pairs(tmp_path: Path):
    assert write_pairs(tmp_path, "s", PAIRS) == 4
    split = pairs_split(tmp_path, "s")
    split.categories = ["entailment", "neutral", "contradiction"]
    return split


@pytest.fixture
def qa(tmp_path: Path):
    paragraphs = [
        Paragraph("T1", "Paris is in France.", [
            Question("q0", "Where is Paris?", [("France", 12), ("in France", 9)], False),
            Question("q1", "Where is Rome?", [], True),
        ]),
        Paragraph("T2", "Ünïcode text.", [Question("q2", "Which text?", [("Ünïcode", 0)], False)]),
        Paragraph("T1", "Paris is in France.", [Question("q3", "Capital?", [("Paris", 0)], False)]),
    ]
    assert write_qa(tmp_path, "s", paragraphs) == 4
    return qa_split(tmp_path, "s")


def test_pairs_read_back_with_their_labels(pairs):
    assert len(pairs) == 4 and pairs.pair(0) == ("A man é.", "A person.", 0) and pairs.pair(-1) == ("Dogs.", "Cats.", 1)
    firsts, seconds, labels = pairs.arrays()
    assert firsts == [p[0] for p in PAIRS] and seconds == [p[1] for p in PAIRS] and labels.tolist() == [0, 2, -1, 1]
    assert pairs.stats() == {"count": 4, "labels": {"entailment": 1, "neutral": 1, "contradiction": 1}, "unlabelled": 1}


def test_pair_batches_are_reproducible_and_cover_the_split(pairs):
    one = [(f, s, y.tolist()) for f, s, y in pairs.batches(3, seed=5, epoch=0)]
    assert one == [(f, s, y.tolist()) for f, s, y in pairs.batches(3, seed=5, epoch=0)]
    assert [len(f) for f, _, _ in one] == [3, 1]
    assert sorted(x for f, _, _ in one for x in f) == sorted(p[0] for p in PAIRS)
    assert len(pairs.batches(3, drop_last=True)) == 1
    shares = [list(pairs.batches(2, seed=1, rank=r, world_size=2, epoch=0)) for r in (0, 1)]
    assert sorted(x for share in shares for f, _, _ in share for x in f) == sorted(p[0] for p in PAIRS)


def test_qa_examples_and_shared_contexts(qa):
    assert len(qa) == 4
    assert qa.example(0) == QAExample(
        id="q0", title="T1", context="Paris is in France.", question="Where is Paris?", answers=["France", "in France"],
        answer_starts=[12, 9], is_impossible=False,
    )
    assert qa.example(1).is_impossible and qa.example(1).answers == [] and qa.example(2).context == "Ünïcode text."
    assert [e.id for e in qa.examples_at([3, 0])] == ["q3", "q0"]
    assert qa.stats() == {"count": 4, "contexts": 2, "answers": 4, "unanswerable": 1, "misaligned_answers": 0}
    assert qa.contexts.data().shape == (2, 2) and qa.questions.data()[3, 2] == 0  # q3 shares q0's context
    assert [len(b) for b in qa.batches(3, shuffle=False)] == [3, 1]
    assert sorted(e.id for b in qa.batches(2, seed=2) for e in b) == ["q0", "q1", "q2", "q3"]


def test_empty_splits(tmp_path: Path):
    write_pairs(tmp_path, "e", [])
    write_qa(tmp_path, "e", [])
    pairs, qa = pairs_split(tmp_path, "e"), qa_split(tmp_path, "e")
    assert len(pairs) == 0 and pairs.arrays()[0] == [] and pairs.stats() == {"count": 0, "labels": {}, "unlabelled": 0}
    assert len(qa) == 0 and list(qa.batches(4)) == [] and qa.stats()["count"] == 0


def test_torch_datasets(pairs, qa):
    torch = pytest.importorskip("torch")
    ds = pairs.to_torch()
    assert len(ds) == 4 and ds[0] == ("A man é.", "A person.", 0) and ds.categories == pairs.categories
    firsts, seconds, labels = ds[torch.tensor([3, 2])]
    assert firsts == ["Dogs.", "No label."] and labels.dtype == torch.int64 and labels.tolist() == [1, -1]
    with pytest.raises(IndexError):
        ds[4]
    firsts, seconds, labels = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert list(firsts) == [p[0] for p in PAIRS] and labels.tolist() == [0, 2, -1, 1]
    assert [len(b[0]) for b in ds.loader(batch_size=3, shuffle=True, seed=0)] == [3, 1]
    assert pickle.loads(pickle.dumps(ds))[1] == ("", "Empty first.", 2)
    questions = qa.to_torch()
    assert questions[2].id == "q2" and [e.id for e in questions[[0, 3]]] == ["q0", "q3"]
    assert [[e.id for e in batch] for batch in questions.loader(batch_size=3)] == [["q0", "q1", "q2"], ["q3"]]
    assert pickle.loads(pickle.dumps(questions))[0] == qa.example(0)


def test_tf_dataset_of_pairs(pairs):
    tf = pytest.importorskip("tensorflow")
    examples = list(pairs.to_tf().as_numpy_iterator())
    assert [(a.decode(), b.decode(), int(y)) for (a, b), y in examples] == PAIRS
    batches = list(pairs.to_tf(batch_size=3, shuffle=True, seed=1))
    assert [int(y.shape[0]) for _, y in batches] == [3, 1] and batches[0][1].dtype == tf.int64
    assert np.array_equal(
        [y.numpy() for _, y in pairs.to_tf(batch_size=4, shuffle=True, seed=1)][0],
        [y.numpy() for _, y in pairs.to_tf(batch_size=4, shuffle=True, seed=1)][0],
    )
