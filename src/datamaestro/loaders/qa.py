"""Question answering splits stored compactly (strings in one UTF-8 file, tables of numbers), and
their loaders.

A split ``<split>`` is ``<split>_qa.txt`` (every string once: titles and
contexts deduplicated), ``<split>_qa_offsets.npy`` (S + 1 byte offsets) and
the int64 tables ``<split>_qa_contexts.npy`` (C, 2), ``<split>_qa_questions.npy``
(Q, 4), ``<split>_qa_answer_offsets.npy`` (Q + 1) and ``<split>_qa_answers.npy``
(A, 2), as ``datamaestro.data.qa.QuestionAnswering`` describes. Written at
prepare time, read memory-mapped.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, Optional

import numpy as np

from datamaestro.data.base import from_json_value
from datamaestro.data.loading import register
from datamaestro.data.npy import NPY
from datamaestro.data.qa import QAExample, QuestionAnswering
from datamaestro.formats.squad import Paragraph
from datamaestro.loaders.passes import IndexBatches, counted_epoch
from datamaestro.loaders.torch import batch_loader, import_torch

#: the tables of a split, by field name, and their number of columns (0: one value a row)
TABLES = {"offsets": 0, "contexts": 2, "questions": 4, "answer_offsets": 0, "answers": 2}


def qa_files(folder: Path, split: str) -> dict[str, Path]:
    """The files of ``split`` in ``folder``: ``texts`` and each table, by field name."""
    return {"texts": folder / f"{split}_qa.txt", **{name: folder / f"{split}_qa_{name}.npy" for name in TABLES}}


def qa_split(folder: Path, split: str) -> QuestionAnswering:
    """The ``QuestionAnswering`` that ``write_qa`` wrote for ``split`` in ``folder``."""
    files = qa_files(folder, split)
    return QuestionAnswering(texts=files["texts"], **{name: NPY(path=files[name]) for name in TABLES})


class StringWriter:
    """Appends strings to the texts file and numbers them; ``shared`` strings are written once."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.offsets = [0]
        self.known: dict[str, int] = {}

    def add(self, text: str, shared: bool = False) -> int:
        """The number of ``text``, written now unless ``shared`` and already written."""
        if shared and text in self.known:
            return self.known[text]
        data = text.encode("utf-8")
        self.out.write(data)
        self.offsets.append(self.offsets[-1] + len(data))
        number = len(self.offsets) - 2
        if shared:
            self.known[text] = number
        return number


def write_qa(folder: Path, split: str, paragraphs: Iterable[Paragraph]) -> int:
    """Write the questions of ``paragraphs`` as ``split`` into ``folder``; returns their number."""
    files = qa_files(folder, split)
    tables: dict[str, list[Any]] = {"contexts": [], "questions": [], "answer_offsets": [0], "answers": []}
    rows: dict[tuple[int, int], int] = {}
    with open(files["texts"], "wb") as out:
        strings = StringWriter(out)
        for paragraph in paragraphs:
            key = (strings.add(paragraph.context, shared=True), strings.add(paragraph.title, shared=True))
            if key not in rows:
                rows[key] = len(tables["contexts"])
                tables["contexts"].append(key)
            for q in paragraph.questions:
                tables["questions"].append((strings.add(q.id), strings.add(q.question), rows[key], q.is_impossible))
                tables["answers"].extend((strings.add(text), start) for text, start in q.answers)
                tables["answer_offsets"].append(len(tables["answers"]))
    tables["offsets"] = strings.offsets
    for name, columns in TABLES.items():
        array = np.array(tables[name], dtype=np.int64)
        np.save(files[name], array.reshape(-1, columns) if columns else array)
    return len(tables["questions"])


class QALoaders:
    """What ``QuestionAnswering.batches()`` and ``to_torch()`` give."""

    def __init__(self, split: QuestionAnswering):
        self.split = split

    def batches(self, *args: Any, epoch: Optional[int] = None, **options: Any) -> IndexBatches[list[QAExample]]:
        """The next pass of ``batches()`` on this split (or pass ``epoch``)."""
        return self.one_pass(counted_epoch(self.split, epoch), *args, **options)

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, *, rank: Optional[int] = None, world_size: Optional[int] = None,
        distributed: bool = False,
    ) -> IndexBatches[list[QAExample]]:
        """Pass ``epoch`` of the split's minibatches."""
        return IndexBatches(
            len(self.split), self.split.examples_at, batch_size=batch_size, shuffle=shuffle, seed=seed,
            epoch=epoch, drop_last=drop_last, rank=rank, world_size=world_size, distributed=distributed,
        )

    def to_torch(self) -> Any:
        """A ``torch.utils.data.Dataset`` of the split's questions."""
        return qa_dataset_class()(self.split)


def rebuild(description: dict[str, Any]) -> Any:
    """A question answering dataset again, after pickling (DataLoader workers started by spawn)."""
    return qa_dataset_class()(from_json_value(description))


@functools.cache
def qa_dataset_class() -> type:
    """``QADataset``, a ``torch.utils.data.Dataset`` of the questions of a split."""
    torch = import_torch()

    class QADataset(torch.utils.data.Dataset):  # type: ignore[name-defined]
        """``dataset[i]``: a ``QAExample``; ``dataset[indices]``: a list of them. Tokenizing is the
        model's: ``dataset.loader(...)`` gives lists of examples to hand to a tokenizer."""

        def __init__(self, split: QuestionAnswering):
            self.split = split

        def __len__(self) -> int:
            return len(self.split)

        def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
            # The class is made at run time (and the split holds a memory map): rebuild it from its description.
            return rebuild, (self.split.to_json(),)

        def __getitem__(self, index: Any) -> Any:
            if isinstance(index, (int, np.integer)):
                if not -len(self) <= index < len(self):
                    raise IndexError(f"index {index} is out of range for {len(self)} questions")
                return self.split.example(int(index))
            if isinstance(index, torch.Tensor):
                index = index.numpy()
            return self.split.examples_at(np.asarray(index, dtype=np.intp))

        loader = batch_loader

    return QADataset


register(QuestionAnswering, QALoaders)
