"""Extractive question answering (SQuAD style): questions on a context, answered by spans of it.

The loaders (``batches``, ``to_torch``) are those ``datamaestro.loaders.qa``
registers for ``QuestionAnswering``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from datamaestro.data.base import Base
from datamaestro.data.loading import Pass, loaders_for
from datamaestro.data.ml import Supervised
from datamaestro.data.tensor import Tensor
from datamaestro.data.text import blob


@dataclass(frozen=True)
class QAExample:
    """One question: its context, and its answers (texts and character offsets into ``context``).

    An unanswerable question (SQuAD 2.0) has ``is_impossible`` set and no answers.
    """

    id: str
    title: str
    context: str
    question: str
    answers: list[str]
    answer_starts: list[int]
    is_impossible: bool


class QuestionAnswering(Base):
    """Questions on contexts, with their answers, stored compactly and read memory-mapped.

    ``texts`` holds every string once (titles and contexts deduplicated), UTF-8,
    one after the other; ``offsets`` (S + 1 int64) where each starts. The tables
    refer to strings by number: ``contexts`` (C, 2) is (context, title);
    ``questions`` (Q, 4) is (id, question, context row, is_impossible);
    ``answers`` (A, 2) is (text, character start in the context), question
    ``i``'s answers being rows ``answer_offsets[i]:answer_offsets[i+1]``
    (``datamaestro.loaders.qa.write_qa`` writes them).
    """

    texts: Path
    offsets: Tensor
    contexts: Tensor
    questions: Tensor
    answer_offsets: Tensor
    answers: Tensor

    def __len__(self) -> int:
        return int(self.questions.data().shape[0])

    def strings(self, numbers: Any) -> list[str]:
        """The stored strings of the given numbers."""
        import numpy as np  # (only here: describing data does not need numpy)

        data = self.__dict__.get("_blob")
        if data is None:
            data = self.__dict__["_blob"] = blob(self.texts)
        offsets = self.offsets.data()
        numbers = np.asarray(numbers, dtype=np.int64)
        starts, ends = offsets[numbers].tolist(), offsets[numbers + 1].tolist()
        return [bytes(data[s:e]).decode("utf-8") for s, e in zip(starts, ends)]

    def example(self, i: int) -> QAExample:
        """Question ``i`` with its context and answers."""
        return self.examples_at([i])[0]

    def examples_at(self, indices: Any) -> list[QAExample]:
        """The questions at ``indices`` (a position, a slice, or a sequence of positions)."""
        import numpy as np  # (only here: describing data does not need numpy)

        positions = np.atleast_1d(np.arange(len(self))[indices])
        rows = np.asarray(self.questions.data()[positions])
        where = np.asarray(self.contexts.data()[rows[:, 2]])
        bounds = np.asarray(self.answer_offsets.data())
        examples = []
        for k, (id_, question, context, title) in enumerate(
            zip(*(self.strings(c) for c in (rows[:, 0], rows[:, 1], where[:, 0], where[:, 1])))
        ):
            i = int(positions[k])
            answers = np.asarray(self.answers.data()[bounds[i] : bounds[i + 1]])
            examples.append(QAExample(
                id=id_, title=title, context=context, question=question, answers=self.strings(answers[:, 0]),
                answer_starts=answers[:, 1].tolist(), is_impossible=bool(rows[k, 3]),
            ))
        return examples

    def batches(
        self,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: Optional[int] = None,
        drop_last: bool = False,
        *,
        epoch: Optional[int] = None,
        rank: Optional[int] = None,
        world_size: Optional[int] = None,
        distributed: bool = False,
    ) -> Pass[list[QAExample]]:
        """An iterator of minibatches (lists of ``QAExample``) over one pass; shuffling, seeds, epochs
        and ranks as ``LabelledImages.batches``."""
        return loaders_for(self).batches(
            batch_size, shuffle, seed, drop_last, epoch=epoch, rank=rank, world_size=world_size,
            distributed=distributed,
        )

    def one_pass(
        self, epoch: int, batch_size: int = 64, shuffle: bool = True, seed: Optional[int] = None,
        drop_last: bool = False, **options: Any,
    ) -> Pass[list[QAExample]]:
        """Pass ``epoch`` of ``batches()`` (options as there), not counted as one of its calls."""
        return loaders_for(self).one_pass(epoch, batch_size, shuffle, seed, drop_last, **options)

    def to_torch(self) -> Any:
        """A ``torch.utils.data.Dataset`` of ``QAExample`` (needs ``datamaestro[torch]``);
        ``dataset.loader(...)`` is a ``DataLoader`` of lists of them."""
        return loaders_for(self).to_torch()

    def stats(self, categories: Optional[list[str]] = None) -> dict[str, Any]:
        """What ``info`` says of the split: questions, contexts, answers, unanswerable questions, and
        answers whose text is not the context's span at their offset (``misaligned_answers``)."""
        import numpy as np  # (only here: describing data does not need numpy)

        questions = np.asarray(self.questions.data())
        return {
            "count": int(questions.shape[0]),
            "contexts": int(self.contexts.data().shape[0]),
            "answers": int(self.answers.data().shape[0]),
            "unanswerable": int(questions[:, 3].sum()) if questions.size else 0,
            "misaligned_answers": self.misaligned(),
        }

    def misaligned(self) -> int:
        """How many answers' texts differ from the context at their character offset."""
        import numpy as np  # (only here: describing data does not need numpy)

        questions = np.asarray(self.questions.data())
        if not questions.size:
            return 0
        counts = np.diff(np.asarray(self.answer_offsets.data()))
        answer_contexts = np.repeat(questions[:, 2], counts)
        contexts = self.strings(np.asarray(self.contexts.data())[:, 0])
        answers = np.asarray(self.answers.data())
        texts = self.strings(answers[:, 0])
        starts = answers[:, 1].tolist()
        return sum(
            contexts[c][s : s + len(t)] != t for c, s, t in zip(answer_contexts.tolist(), starts, texts)
        )


class ReadingComprehension(Supervised):
    """Question answering splits (``QuestionAnswering``): train, validation (SQuAD's dev), test."""
