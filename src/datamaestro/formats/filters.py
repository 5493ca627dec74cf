"""Item filters: ``label=A[,B]`` / ``subset=S`` / ``id=X``, and Datumaro's XPath forms.

Datumaro filters items with XPath over an XML view of each item; the forms
people use are accepted here: ``/item[annotation/label="cat"]``,
``/item[subset="train"]``, ``/item[id="0"]``, ``annotation/label_id=3``,
``!=``, combined with ``and``/``or`` and parentheses.

On annotated datasets (voc, coco, yolo) filters keep or drop whole items,
never single annotations: an item has the label ``cat`` when one of its
image-level labels or one of its objects has it (all its objects are kept,
whatever their labels); ``label_id=-1`` keeps the items with neither.
Datumaro's annotation filtering (``-m a``) is not offered.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from typing import Any, Union, overload

import numpy as np

from datamaestro.errors import UsageError
from datamaestro.formats.annotations import AnnotatedDataset, Item
from datamaestro.formats.dataset import NO_LABEL, Dataset


class Items:
    """The items of one subset of an annotated dataset, seen as filters see a ``Subset``."""

    def __init__(self, items: list[Item]):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def item_ids(self) -> list[str]:
        """The id of every item."""
        return [item.id for item in self.items]

    def has_label(self, index: int) -> np.ndarray:
        """Which items have the label ``index`` (image-level or on an object); -1: which have no label at all."""
        if index == NO_LABEL:
            return np.array([not item.labels and not item.objects for item in self.items], dtype=bool)
        return np.array(
            [index in item.labels or any(o.label == index for o in item.objects) for item in self.items], dtype=bool
        )


#: a mask of the items of one subset that a filter keeps
Predicate = Callable[[Any, str, Any], np.ndarray]

SHORT_KEYS = ("label", "subset", "id")
XPATH_KEYS = {
    "annotation/label": "label",
    "annotation/label_id": "label_id",
    "subset": "subset",
    "id": "id",
}
TOKEN = re.compile(
    r"""\s*(?:(?P<lpar>\()|(?P<rpar>\))|(?P<op>!=|=)|"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<word>[\w/.:-]+))"""
)


@overload
def apply_filters(dataset: Dataset, filters: Iterable[str]) -> Dataset: ...
@overload
def apply_filters(dataset: AnnotatedDataset, filters: Iterable[str]) -> AnnotatedDataset: ...
@overload
def apply_filters(
    dataset: Union[Dataset, AnnotatedDataset], filters: Iterable[str]
) -> Union[Dataset, AnnotatedDataset]: ...


def apply_filters(
    dataset: Union[Dataset, AnnotatedDataset], filters: Iterable[str]
) -> Union[Dataset, AnnotatedDataset]:
    """The items that every filter keeps (see the module doc for the forms)."""
    if isinstance(dataset, AnnotatedDataset):
        return _filter_items(dataset, filters)
    subsets = dict(dataset.subsets)
    for text in filters:
        keep = parse(text, dataset)
        subsets = {name: subset.select(keep(dataset, name, subset)) for name, subset in subsets.items()}
        subsets = {name: s for name, s in subsets.items() if len(s) or not _names_subsets(text)}
    return Dataset(subsets, dataset.categories, dataset.parents, dataset.coarse_categories)


def _filter_items(dataset: AnnotatedDataset, filters: Iterable[str]) -> AnnotatedDataset:
    """The items of an annotated dataset that every filter keeps."""
    subsets = dict(dataset.subsets)
    for text in filters:
        keep = parse(text, dataset)
        subsets = {
            name: [item for item, k in zip(items, keep(dataset, name, Items(items)).tolist()) if k]
            for name, items in subsets.items()
        }
        subsets = {name: items for name, items in subsets.items() if items or not _names_subsets(text)}
    return dataclasses.replace(dataset, subsets=subsets)


def _names_subsets(text: str) -> bool:
    """Whether a filter selects subsets by name (subsets it drops disappear, not just empty)."""
    return text.strip().startswith("subset=")


def parse(text: str, dataset: Union[Dataset, AnnotatedDataset]) -> Predicate:
    """The predicate of one filter text (checked against the dataset's labels and subsets)."""
    stripped = text.strip()
    if stripped.startswith("/item"):
        inner = stripped[len("/item"):].strip()
        if not (inner.startswith("[") and inner.endswith("]")):
            raise UsageError(f"invalid filter '{text}': expected /item[CONDITION]")
        return _XPath(text, inner[1:-1], dataset).parse()
    key, sep, value = stripped.partition("=")
    key, wanted = key.strip(), [v.strip() for v in value.split(",") if v.strip()]
    if not sep or not wanted or key not in SHORT_KEYS:
        raise UsageError(
            f"invalid filter '{text}': expected label=NAME[,NAME...], subset=NAME[,NAME...], id=ID[,ID...] "
            "or Datumaro's /item[annotation/label=\"NAME\"]"
        )
    predicates = [_equals(text, dataset, key, w) for w in wanted]
    return lambda ds, name, subset: np.logical_or.reduce([p(ds, name, subset) for p in predicates])


def _equals(text: str, dataset: Union[Dataset, AnnotatedDataset], key: str, value: str) -> Predicate:
    """The items whose ``key`` (label, label_id, subset, id) equals ``value``."""
    if key in ("label", "label_id"):
        index = label_index(dataset, value, text, by_index_only=key == "label_id")
        return lambda ds, name, subset: subset.has_label(index) if isinstance(subset, Items) else subset.labels == index
    if key == "subset":
        if value not in dataset.subsets:
            raise UsageError(f"filter '{text}': no subset '{value}' (subsets: {', '.join(dataset.subsets)})")
        return lambda ds, name, subset: np.full(len(subset), name == value)
    return lambda ds, name, subset: np.array([x == value for x in subset.item_ids()], dtype=bool)


def label_index(dataset: Union[Dataset, AnnotatedDataset], wanted: str, text: str, by_index_only: bool = False) -> int:
    """The index of the class named ``wanted`` (or numbered so, when no class has that name)."""
    if wanted in dataset.categories and not by_index_only:
        return dataset.categories.index(wanted)
    if wanted.lstrip("-").isdigit() and NO_LABEL <= int(wanted) < len(dataset.categories):
        return int(wanted)
    raise UsageError(f"filter '{text}': no label '{wanted}' (labels: {', '.join(dataset.categories)})")


class _XPath:
    """A recursive-descent parser of ``or``/``and``/``(...)``/``key op value`` conditions."""

    def __init__(self, text: str, condition: str, dataset: Union[Dataset, AnnotatedDataset]):
        self.text, self.dataset = text, dataset
        self.tokens = self._tokenize(condition)
        self.pos = 0

    def _tokenize(self, condition: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        while pos < len(condition):
            if condition[pos:].strip() == "":
                break
            m = TOKEN.match(condition, pos)
            if not m or m.end() == pos:
                raise UsageError(f"invalid filter '{self.text}': cannot read {condition[pos:].strip()!r}")
            kind = m.lastgroup or ""
            value = m.group(kind)
            tokens.append(("str" if kind in ("dq", "sq") else kind, value))
            pos = m.end()
        return tokens

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def _take(self, kind: str) -> str:
        got_kind, value = self._peek()
        if got_kind != kind:
            raise UsageError(
                f"invalid filter '{self.text}': expected {kind} at {value or 'the end'!r} "
                "(forms: annotation/label=\"NAME\", subset=\"S\", id=\"X\", and, or)"
            )
        self.pos += 1
        return value

    def parse(self) -> Predicate:
        predicate = self._or()
        if self._peek()[0] != "end":
            raise UsageError(f"invalid filter '{self.text}': unexpected {self._peek()[1]!r}")
        return predicate

    def _or(self) -> Predicate:
        return self._joined("or", self._and, np.logical_or)

    def _and(self) -> Predicate:
        return self._joined("and", self._term, np.logical_and)

    def _joined(self, word: str, operand: Callable[[], Predicate], combine: np.ufunc) -> Predicate:
        """``operand (word operand)*``, the masks combined with ``combine``."""
        parts = [operand()]
        while self._peek() == ("word", word):
            self.pos += 1
            parts.append(operand())
        if len(parts) == 1:
            return parts[0]
        return lambda ds, name, subset: combine.reduce([p(ds, name, subset) for p in parts])

    def _term(self) -> Predicate:
        if self._peek()[0] == "lpar":
            self.pos += 1
            inner = self._or()
            self._take("rpar")
            return inner
        path = self._take("word")
        if path not in XPATH_KEYS:
            raise UsageError(
                f"invalid filter '{self.text}': unknown field '{path}' "
                f"(known: {', '.join(XPATH_KEYS)})"
            )
        op = self._take("op")
        kind, value = self._peek()
        if kind not in ("str", "word"):
            raise UsageError(f"invalid filter '{self.text}': expected a value after '{path}{op}'")
        self.pos += 1
        equal = _equals(self.text, self.dataset, XPATH_KEYS[path], value)
        if op == "=":
            return equal
        return lambda ds, name, subset: ~equal(ds, name, subset)
