"""SQuAD's JSON files (1.1 and 2.0): articles of paragraphs, each a context with its questions.

``{"version", "data": [{"title", "paragraphs": [{"context", "qas": [{"id",
"question", "answers": [{"text", "answer_start"}], "is_impossible"}]}]}]}``.
``answer_start`` is a character offset into ``context``; ``is_impossible``
(2.0 only) marks an unanswerable question, which has no ``answers`` (its
``plausible_answers`` are left out). Every string is kept exactly as
published: stripping a context's leading whitespace shifts its offsets.

Checks: the file is read within a size bound, its nesting is bounded by
Python's JSON decoder (too deep is refused, not a crash), every field has its
type, and every answer starts inside its context (else a one-line error naming
the file and the question id). An answer whose text is not the context's span
at its offset is kept as published and counted (``Paragraphs.misaligned``);
more than ``MAX_MISALIGNED`` of them (and more than ``MAX_MISALIGNED_COUNT``) means the offsets are not character
offsets into these contexts, and the file is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from datamaestro.errors import FormatError
from datamaestro.formats.bounds import check_bytes
from datamaestro.paths import printable, read_inside

#: the misaligned answers a file may hold before it is refused: this share of its answers, or this number
MAX_MISALIGNED = 0.01
MAX_MISALIGNED_COUNT = 10


@dataclass
class Question:
    """One question with its answers: (text, character start) pairs."""

    id: str
    question: str
    answers: list[tuple[str, int]]
    is_impossible: bool


@dataclass
class Paragraph:
    """One context, the title of its article, and the questions on it."""

    title: str
    context: str
    questions: list[Question]


@dataclass
class Paragraphs:
    """The paragraphs of a file, and how many of its answers are misaligned."""

    items: list[Paragraph] = field(default_factory=list)
    answers: int = 0
    misaligned: int = 0


def load_json(path: Path, max_bytes: Optional[int]) -> Any:
    """The JSON document in ``path``, read within ``max_bytes``; bad or too deep JSON is a ``FormatError``."""
    check_bytes(path.stat().st_size, max_bytes, path, "the JSON file")
    data = read_inside(path.parent, path, path.stat().st_size)
    try:
        return json.loads((data or b"").decode("utf-8"))
    except UnicodeDecodeError as e:
        raise FormatError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise FormatError(f"{path}: not JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except RecursionError:
        raise FormatError(f"{path}: refused: its JSON is nested too deeply; it is not a SQuAD file") from None


def expect(value: Any, kind: type, path: Path, where: str) -> Any:
    """``value`` when it is a ``kind``, else a one-line ``FormatError`` naming ``where``."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise FormatError(
            f"{path}: {printable(where, 200)}: expected {kind.__name__}, found {type(value).__name__}; "
            "it is not a SQuAD file"
        )
    return value


def read(path: Path, max_bytes: Optional[int] = None) -> Paragraphs:
    """The paragraphs of the SQuAD file ``path``, checked (see the module's description)."""
    document = expect(load_json(path, max_bytes), dict, path, "the document")
    found = Paragraphs()
    for a, article in enumerate(expect(document.get("data"), list, path, "data")):
        article = expect(article, dict, path, f"data[{a}]")
        title = expect(article.get("title", ""), str, path, f"data[{a}].title")
        for p, paragraph in enumerate(expect(article.get("paragraphs"), list, path, f"data[{a}].paragraphs")):
            where = f"data[{a}].paragraphs[{p}]"
            paragraph = expect(paragraph, dict, path, where)
            context = expect(paragraph.get("context"), str, path, f"{where}.context")
            qas = expect(paragraph.get("qas"), list, path, f"{where}.qas")
            questions = [read_question(q, context, path, f"{where}.qas[{k}]", found) for k, q in enumerate(qas)]
            found.items.append(Paragraph(title, context, questions))
    if found.misaligned > max(MAX_MISALIGNED * found.answers, MAX_MISALIGNED_COUNT):
        raise FormatError(
            f"{path}: {found.misaligned} of {found.answers} answers are not the context's text at their offset; "
            "the offsets are not character offsets into these contexts: it is not a SQuAD file"
        )
    return found


def read_question(qa: Any, context: str, path: Path, where: str, found: Paragraphs) -> Question:
    """One entry of ``qas``, its answers checked against ``context`` (counted in ``found``)."""
    qa = expect(qa, dict, path, where)
    qid = expect(qa.get("id"), str, path, f"{where}.id")
    question = expect(qa.get("question"), str, path, f"{where}.question")
    impossible = expect(qa.get("is_impossible", False), bool, path, f"{where}.is_impossible")
    answers = []
    for k, answer in enumerate(expect(qa.get("answers", []), list, path, f"{where}.answers")):
        answer = expect(answer, dict, path, f"{where}.answers[{k}]")
        text = expect(answer.get("text"), str, path, f"{where}.answers[{k}].text")
        start = expect(answer.get("answer_start"), int, path, f"{where}.answers[{k}].answer_start")
        if not 0 <= start < len(context):
            raise FormatError(
                f"{path}: question {printable(qid, 100)}: answer {k} starts at character {start}, outside its "
                f"context of {len(context)} characters; the file is damaged"
            )
        found.answers += 1
        found.misaligned += context[start : start + len(text)] != text
        answers.append((text, start))
    return Question(qid, question, answers, impossible or not answers)
