"""The ILSVRC 2012 development kit: the 1,000 classes and the validation labels.

``ILSVRC2012_devkit_t12/data/meta.mat`` holds the variable ``synsets``, a
MATLAB struct array whose records start ``ILSVRC2012_ID, WNID, words, gloss,
num_children``; the 1,000 classes are its leaves (``num_children == 0``),
their ids 1 to 1,000 in the devkit's own order.
``ILSVRC2012_validation_ground_truth.txt`` holds one ILSVRC2012_ID per line:
line ``i`` (from 1) labels ``ILSVRC2012_val_<i, 8 digits>.JPEG``.

Labels are numbered as torchvision and TensorFlow Datasets number them: the
position of the class's WordNet id in the sorted list of WordNet ids. Reading
``meta.mat`` needs scipy (the extra ``mat``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats import mat
from datamaestro.formats.layout_files import read_bytes
from datamaestro.optional import require

META = "meta.mat"
GROUND_TRUTH = "ILSVRC2012_validation_ground_truth.txt"
#: the most synsets ``meta.mat`` may declare (the published file holds 1,860)
MAX_SYNSETS = 100_000
#: the most bytes of the ground truth file (the published one: 50,000 short lines)
MAX_GROUND_TRUTH = 16 << 20
WNID = re.compile(r"n\d{8}")


@dataclass(frozen=True, slots=True)
class Synset:
    """One class of the devkit: its ILSVRC2012 id (1 to 1,000), WordNet id and words ("tench, Tinca tinca")."""

    ilsvrc_id: int
    wnid: str
    words: str


def read_synsets(path: Path) -> list[Synset]:
    """The leaf synsets of ``meta.mat`` (the classes), sorted by WordNet id: label ``k`` is the ``k``-th."""
    scipy_io = require("scipy.io", "reading the ImageNet devkit's meta.mat", "scipy", "mat")
    declared = {v.name: v for v in mat.variables(path)}
    if "synsets" not in declared or declared["synsets"].kind != "struct":
        raise FormatError(f"{path}: expected a struct array 'synsets'; not the ILSVRC2012 devkit's meta.mat")
    if int(np.prod(declared["synsets"].shape, dtype=object)) > MAX_SYNSETS:
        raise FormatError(f"{path}: 'synsets' holds more than {MAX_SYNSETS:,} records; not the published meta.mat")
    try:
        records = np.asarray(scipy_io.loadmat(path, squeeze_me=True, variable_names=["synsets"])["synsets"]).reshape(-1)
        rows = [(int(r[0]), str(r[1]), str(r[2]), int(r[4])) for r in records]
    except (scipy_io.matlab.MatReadError, ValueError, TypeError, OSError, EOFError, NotImplementedError,
            KeyError, IndexError) as e:
        raise FormatError(f"{path}: not the ILSVRC2012 devkit's meta.mat ({e})") from None
    leaves = [Synset(ilsvrc_id, wnid, words) for ilsvrc_id, wnid, words, children in rows if children == 0]
    wnids = [s.wnid for s in leaves]
    if not leaves or len(set(wnids)) != len(wnids) or not all(WNID.fullmatch(w) for w in wnids):
        raise FormatError(f"{path}: the classes should have distinct WordNet ids (n########)")
    if sorted(s.ilsvrc_id for s in leaves) != list(range(1, len(leaves) + 1)):
        raise FormatError(f"{path}: the classes should be numbered 1 to {len(leaves)}")
    return sorted(leaves, key=lambda s: s.wnid)


def read_ground_truth(path: Path, classes: int) -> list[int]:
    """The ILSVRC2012 id of each validation image, in file order (1 to ``classes``)."""
    content = read_bytes(path, MAX_GROUND_TRUTH).decode("ascii", errors="replace")  # (a FIFO is refused, not waited on)
    ids = []
    for number, line in enumerate(content.splitlines(), 1):
        text = line.strip()
        if not text.isdigit() or not 1 <= int(text) <= classes:
            raise FormatError(f"{path}, line {number}: expected a class id from 1 to {classes}")
        ids.append(int(text))
    return ids


def validation_labels(synsets: list[Synset], ground_truth: list[int]) -> list[tuple[str, int]]:
    """(validation image file, label) pairs: labels are positions in ``synsets`` (sorted by WordNet id)."""
    label_of = {s.ilsvrc_id: k for k, s in enumerate(synsets)}
    return [(f"ILSVRC2012_val_{i:08d}.JPEG", label_of[gt]) for i, gt in enumerate(ground_truth, 1)]
