"""The Oxford-IIIT Pet annotation lists: ``annotations/trainval.txt`` and ``annotations/test.txt``.

One line per image: ``<image id> <class id 1-37> <species 1-2> <breed id>``
(``#`` lines are comments); the image is ``images/<image id>.jpg``. Class
names are the breed part of the image ids, as torchvision names them
("Great Pyrenees").
"""

from __future__ import annotations

from pathlib import Path

from datamaestro.errors import FormatError

#: the number of breeds
CLASSES = 37


def read_split(annotations: Path, name: str) -> list[tuple[str, int]]:
    """The (image id, label from 0) pairs of the list ``<name>.txt``."""
    path = annotations / f"{name}.txt"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(f"{path}: cannot read ({e})") from None
    items = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or line.startswith("#"):
            continue
        if len(fields) != 4 or not fields[1].isdigit() or not 1 <= int(fields[1]) <= CLASSES:
            raise FormatError(f"{path} line {number}: expected '<image id> <class 1-37> <species> <breed>'")
        items.append((fields[0], int(fields[1]) - 1))
    return items


def read(annotations: Path) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """The (image file, label) pairs of the trainval and test splits, and the breed names."""
    splits = {name: read_split(annotations, name) for name in ("trainval", "test")}
    names: dict[int, str] = {}
    for image_id, label in splits["trainval"] + splits["test"]:
        breed = " ".join(part.title() for part in image_id.rsplit("_", 1)[0].split("_"))
        if names.setdefault(label, breed) != breed:
            raise FormatError(f"{annotations}: class {label + 1} holds both {names[label]} and {breed}")
    files = {name: [(f"{image_id}.jpg", label) for image_id, label in items] for name, items in splits.items()}
    return files, [names.get(k, str(k + 1)) for k in range(CLASSES)]
