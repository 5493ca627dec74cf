"""Tiny ImageNet's folder (``tiny-imagenet-200``): the labelled images of its train and val splits.

``wnids.txt`` lists the 200 WordNet ids, ``words.txt`` names them (WordNet
id, tab, English names), ``train/<wnid>/images/*.JPEG`` holds 500 images per
class and ``val/images/val_<k>.JPEG`` the validation images, labelled by
``val/val_annotations.txt`` (file name, tab, WordNet id, tab, bounding box).
``test/images`` holds the test images, whose labels are not published.
"""

from __future__ import annotations

from pathlib import Path

from datamaestro.errors import FormatError


def lines(path: Path) -> list[list[str]]:
    """The tab-separated fields of each non-blank line of a text file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(f"{path}: cannot read ({e})") from None
    return [line.split("\t") for line in text.splitlines() if line.strip()]


def class_names(root: Path, wnids: list[str]) -> list[str]:
    """The first English name of each WordNet id (with the id where two classes share a name)."""
    words = {fields[0].strip(): fields[1].split(",")[0].strip() for fields in lines(root / "words.txt") if len(fields) > 1}
    names = [words.get(w, w) for w in wnids]
    return [f"{n} ({w})" if names.count(n) > 1 else n for n, w in zip(names, wnids)]


def read(root: Path) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """The (image path relative to ``root``, label) pairs of the train and val splits, and the class names.

    Classes are the WordNet ids in sorted order."""
    wnids = sorted(fields[0].strip() for fields in lines(root / "wnids.txt"))
    label = {w: k for k, w in enumerate(wnids)}
    train = []
    for wnid in wnids:
        folder = root / "train" / wnid / "images"
        if not folder.is_dir():
            raise FormatError(f"{folder}: missing: the archive is not Tiny ImageNet's")
        train += [(f"train/{wnid}/images/{p.name}", label[wnid]) for p in sorted(folder.glob("*.JPEG"))]
    val = []
    annotations = root / "val" / "val_annotations.txt"
    for number, fields in enumerate(lines(annotations), start=1):
        if len(fields) < 2 or fields[1] not in label:
            raise FormatError(f"{annotations} line {number}: expected a file name and one of the 200 WordNet ids")
        val.append((f"val/images/{fields[0]}", label[fields[1]]))
    return {"train": train, "val": val}, class_names(root, wnids)


#: the label of a test image (none is published)
NO_LABEL = -1


def read_test(root: Path) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """The (image path relative to ``root``, -1) pairs of the test split, and the class names."""
    folder = root / "test" / "images"
    if not folder.is_dir():
        raise FormatError(f"{folder}: missing: the archive is not Tiny ImageNet's")
    wnids = sorted(fields[0].strip() for fields in lines(root / "wnids.txt"))
    test = [(f"test/images/{p.name}", NO_LABEL) for p in sorted(folder.glob("*.JPEG"))]
    return {"test": test}, class_names(root, wnids)
