"""Texts stored for fast access: one UTF-8 file of all texts, their byte offsets, their labels.

A split ``<split>`` is ``<split>_texts.txt`` (the texts one after the other,
UTF-8, nothing between them), ``<split>_offsets.npy`` (int64, N + 1 byte
offsets: text ``i`` is bytes ``offsets[i]:offsets[i+1]``) and
``<split>_labels.npy`` (int64). Written at prepare time, read memory-mapped.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from datamaestro.errors import FormatError


def text_files(folder: Path, split: str) -> tuple[Path, Path, Path]:
    """The texts, offsets and labels files of ``split`` in ``folder``."""
    return folder / f"{split}_texts.txt", folder / f"{split}_offsets.npy", folder / f"{split}_labels.npy"


def write_texts(folder: Path, split: str, items: Iterable[tuple[str, int]]) -> int:
    """Write the (text, label) pairs of ``split`` into ``folder``; returns their number."""
    texts, offsets_file, labels_file = text_files(folder, split)
    offsets = [0]
    labels = []
    with open(texts, "wb") as out:
        for text, label in items:
            data = text.encode("utf-8")
            out.write(data)
            offsets.append(offsets[-1] + len(data))
            labels.append(label)
    np.save(offsets_file, np.array(offsets, dtype=np.int64))
    np.save(labels_file, np.array(labels, dtype=np.int64))
    return len(labels)


def read_text(path: Path) -> str:
    """A text file of a dataset as a string (UTF-8; undecodable bytes replaced)."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as e:
        raise FormatError(f"{path}: cannot read ({e.strerror})") from None


def blob(path: Path) -> np.ndarray:
    """The bytes of a texts file, memory-mapped (an empty array for an empty file)."""
    try:
        if path.stat().st_size == 0:
            return np.zeros(0, dtype=np.uint8)
        return np.memmap(path, dtype=np.uint8, mode="r")
    except OSError as e:
        raise FormatError(f"{path}: cannot read the texts ({e.strerror}); prepare the dataset again") from None
