"""Plain text lists of the image datasets (one image or class per line) and their class folders."""

from __future__ import annotations

from pathlib import Path

from datamaestro.errors import FormatError
from datamaestro.formats.layout_files import MAX_TEXT_BYTES, read_bytes


def read_lines(path: Path) -> list[str]:
    """The non-blank lines of a UTF-8 text file, stripped (FormatError if it cannot be read; a FIFO, a
    device or a file over ``MAX_TEXT_BYTES`` is refused unread)."""
    try:
        text = read_bytes(path, MAX_TEXT_BYTES).decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"{path}: cannot read ({e}); the archive is not the published one") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def class_folders(root: Path, suffixes: tuple[str, ...], exclude: tuple[str, ...] = ()) -> tuple[list[tuple[str, int]], list[str]]:
    """The (``<class>/<file>``, label) pairs of the images in the class folders of ``root``, and the
    class names: the folder names in sorted order (``exclude`` left out); ``suffixes`` in lower case."""
    if not root.is_dir():
        raise FormatError(f"{root}: missing: the archive is not the published one")
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in exclude)
    items = []
    for label, name in enumerate(names):
        files = sorted(p.name for p in (root / name).iterdir() if p.suffix.lower() in suffixes and p.is_file())
        items += [(f"{name}/{file}", label) for file in files]
    return items, names
