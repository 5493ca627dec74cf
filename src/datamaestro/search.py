"""Matching index entries against search terms."""

from __future__ import annotations

from datamaestro.errors import UsageError
from datamaestro.registry import Entry

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
}
ANYWHERE = ("id", "name", "description", "tags")


def _texts(entry: Entry, attributes: tuple[str, ...]) -> list[str]:
    texts: list[str] = []
    for attribute in attributes:
        value = getattr(entry, attribute)
        texts.extend(value if isinstance(value, list) else [value or ""])
    return [t.lower() for t in texts]


def matches(entry: Entry, term: str) -> bool:
    """Whether one term (``word`` or ``field:word``) matches, case-insensitively."""
    field, sep, value = term.partition(":")
    if sep and field.lower() in FIELDS:
        attributes, needle = FIELDS[field.lower()], value.lower()
    elif sep and field.isalpha() and field.lower() not in FIELDS:
        known = ", ".join(sorted(FIELDS))
        raise UsageError(f"unknown search field '{field}' (known: {known})")
    else:
        attributes, needle = ANYWHERE, term.lower()
    if attributes == ("tags",):
        return any(needle == t for t in _texts(entry, attributes))
    return any(needle in t for t in _texts(entry, attributes))


def search(entries: list[Entry], terms: list[str]) -> list[Entry]:
    """Entries matching all terms, sorted by id."""
    return sorted((e for e in entries if all(matches(e, t) for t in terms)), key=lambda e: e.id)
