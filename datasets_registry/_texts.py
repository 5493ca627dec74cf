"""The ``LabelledTexts`` split that ``datamaestro.loaders.text.write_texts`` wrote, for text definitions."""

from pathlib import Path

from datamaestro.data.npy import NPY
from datamaestro.data.text import LabelledTexts
from datamaestro.loaders.text import text_files


def texts_split(folder: Path, split: str) -> LabelledTexts:
    """The texts, offsets and labels of ``split`` in ``folder``."""
    texts, offsets, labels = text_files(folder, split)
    return LabelledTexts(texts=texts, offsets=NPY(path=offsets), labels=NPY(path=labels))
