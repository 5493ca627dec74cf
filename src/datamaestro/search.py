"""Matching index entries against search terms.

A term is ``word`` (in the id, name, description, a tag or an alias) or
``field:word``; matching ignores case, and a tag must be equal to the word. Entries must match
every term.
"""

from __future__ import annotations

from datamaestro.errors import UsageError
from datamaestro.index import Entry

#: field filter name -> entry attributes it looks at
FIELDS = {
    "id": ("id",),
    "name": ("name",),
    "tag": ("tags",),
    "tags": ("tags",),
    "type": ("type",),
    "url": ("url",),
    "description": ("description",),
    "desc": ("description",),
    "alias": ("aliases",),
    "aliases": ("aliases",),
}
ANYWHERE = ("id", "name", "description", "tags", "aliases")


class Query:
    """Search terms, checked once and then matched against many entries."""

    def __init__(self, terms: list[str]):
        self.terms: list[tuple[tuple[str, ...], str]] = []
        for term in terms:
            field, sep, value = term.partition(":")
            if sep and field.lower() in FIELDS:
                self.terms.append((FIELDS[field.lower()], value.lower()))
            elif sep and field.isalpha():
                known = ", ".join(sorted(FIELDS))
                raise UsageError(f"unknown search field '{field}' (known: {known})")
            else:
                self.terms.append((ANYWHERE, term.lower()))

    def matches(self, entry: Entry) -> bool:
        """Whether ``entry`` matches every term."""
        return all(_matches(entry, attributes, needle) for attributes, needle in self.terms)


def _matches(entry: Entry, attributes: tuple[str, ...], needle: str) -> bool:
    texts: list[str] = []
    for attribute in attributes:
        value = getattr(entry, attribute)
        texts.extend(value if isinstance(value, list) else [value or ""])
    if attributes == ("tags",):
        return any(needle == t.lower() for t in texts)
    return any(needle in t.lower() for t in texts)


def matches(entry: Entry, term: str) -> bool:
    """Whether one term (``word`` or ``field:word``) matches ``entry``."""
    return Query([term]).matches(entry)


def search(entries: list[Entry], terms: list[str]) -> list[Entry]:
    """Entries matching all terms, sorted by id."""
    query = Query(terms)
    return sorted((e for e in entries if query.matches(e)), key=lambda e: e.id)
