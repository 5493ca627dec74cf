"""The one path rule: what ids and resource names may be, and that every path stays inside its root.

Every path that datamaestro writes, extracts into or deletes is built from a
root (the data folder, or an output folder the user named) and names that
follow the grammar below, then resolved (symlinks included) and checked to be
inside that root by ``inside``. Nothing else decides whether a path is safe.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from datamaestro.errors import UnsafePathError

#: one id component: letters, digits, ``_`` and ``-``, starting with a letter or digit
_COMPONENT = r"[A-Za-z0-9][A-Za-z0-9_-]*"
#: dataset ids: components separated by single dots (``com.lecun.mnist``)
ID_RE = re.compile(rf"{_COMPONENT}(?:\.{_COMPONENT})*")
#: resource names: one file or folder name, no separators, not hidden (``train_images.idx``)
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
MAX_ID = 200
MAX_NAME = 200


def is_valid_id(text: str) -> bool:
    """Whether ``text`` is a well-formed dataset id."""
    return isinstance(text, str) and len(text) <= MAX_ID and ID_RE.fullmatch(text) is not None


def is_valid_name(text: str) -> bool:
    """Whether ``text`` is a well-formed resource name (a single file or folder name)."""
    return (
        isinstance(text, str)
        and len(text) <= MAX_NAME
        and NAME_RE.fullmatch(text) is not None
        and text not in (".", "..")
    )


def id_problem(text: str) -> str:
    """Why ``text`` is not a dataset id ('' when it is one)."""
    if is_valid_id(text):
        return ""
    return (
        f"'{printable(text)}' is not a dataset id: ids are words of letters, digits, '_' and '-' "
        f"separated by single dots (at most {MAX_ID} characters), like com.lecun.mnist"
    )


def name_problem(text: str) -> str:
    """Why ``text`` is not a resource name ('' when it is one)."""
    if is_valid_name(text):
        return ""
    return (
        f"'{printable(text)}' is not a resource name: a single file or folder name of letters, "
        f"digits, '.', '_' and '-', not starting with '.' (at most {MAX_NAME} characters)"
    )


def inside(root: Path, path: Path) -> Path:
    """``path`` resolved (every symlink followed), provided it is ``root`` or lies under it.

    Raises ``UnsafePathError`` otherwise: the one check every write, extraction
    and deletion goes through.
    """
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    if real != real_root and real_root not in real.parents:
        raise UnsafePathError(
            f"refused: {printable(str(path))} resolves to {printable(str(real))}, "
            f"outside {printable(str(real_root))}; nothing was written or deleted"
        )
    return real


def strictly_inside(root: Path, path: Path) -> Path:
    """Like ``inside``, but ``path`` may not be ``root`` itself (what may be deleted)."""
    real = inside(root, path)
    if real == Path(os.path.realpath(root)):
        raise UnsafePathError(f"refused: {printable(str(path))} is the folder {printable(str(root))} itself")
    return real


#: control characters, line separators, bidi overrides and isolates, and lone surrogates
#: (names decoded with surrogateescape hold them; printing one raises UnicodeEncodeError)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str, limit: int = 300) -> str:
    """``text`` safe to print on a terminal: control and bidi characters escaped, length capped."""
    cleaned = _UNPRINTABLE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), str(text))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."
