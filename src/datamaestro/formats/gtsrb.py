"""The German Traffic Sign Recognition Benchmark's files: training folders and the test ground truth.

The training archive holds ``GTSRB/Training/<5-digit class>/*.ppm`` (with a
``GT-<class>.csv`` per folder); the test archive ``GTSRB/Final_Test/Images/
<5-digit number>.ppm``, labelled by ``GT-final_test.csv`` of the ground-truth
archive: ``;``-separated, with the header ``Filename;Width;Height;Roi.X1;
Roi.Y1;Roi.X2;Roi.Y2;ClassId`` (the Roi columns box the sign in the image).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from datamaestro.errors import FormatError
from datamaestro.formats.layout_files import MAX_TEXT_BYTES, read_bytes
from datamaestro.formats.lists import class_folders

#: the class names (the archives number the classes only), in label order
NAMES = [
    "Speed limit (20km/h)", "Speed limit (30km/h)", "Speed limit (50km/h)", "Speed limit (60km/h)",
    "Speed limit (70km/h)", "Speed limit (80km/h)", "End of speed limit (80km/h)", "Speed limit (100km/h)",
    "Speed limit (120km/h)", "No passing", "No passing for vehicles over 3.5 metric tons",
    "Right-of-way at the next intersection", "Priority road", "Yield", "Stop", "No vehicles",
    "Vehicles over 3.5 metric tons prohibited", "No entry", "General caution", "Dangerous curve to the left",
    "Dangerous curve to the right", "Double curve", "Bumpy road", "Slippery road", "Road narrows on the right",
    "Road work", "Traffic signals", "Pedestrians", "Children crossing", "Bicycles crossing", "Beware of ice/snow",
    "Wild animals crossing", "End of all speed and passing limits", "Turn right ahead", "Turn left ahead",
    "Ahead only", "Go straight or right", "Go straight or left", "Keep right", "Keep left", "Roundabout mandatory",
    "End of no passing", "End of no passing by vehicles over 3.5 metric tons",
]


def read_training(training: Path) -> list[tuple[str, int]]:
    """The (``<class>/<file>.ppm``, label) pairs of the training folders (the folder number is the label)."""
    items, folders = class_folders(training, (".ppm",))
    for folder in folders:
        if len(folder) != 5 or not folder.isdigit() or int(folder) >= len(NAMES):
            raise FormatError(f"{training}: unexpected folder {folder!r}: class folders are 00000 to 00042")
    return [(path, int(folders[k])) for path, k in items]


def read_test(table: Path) -> list[tuple[str, int]]:
    """The (image file, label) pairs of ``GT-final_test.csv``."""
    try:
        text = read_bytes(table, MAX_TEXT_BYTES).decode("utf-8")
        rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    except (UnicodeDecodeError, csv.Error) as e:
        raise FormatError(f"{table}: cannot read the test labels ({e})") from None
    items = []
    for number, row in enumerate(rows, start=2):
        label = (row.get("ClassId") or "").strip()
        if not row.get("Filename") or not label.isdigit() or int(label) >= len(NAMES):
            raise FormatError(f"{table} line {number}: expected a Filename and a ClassId from 0 to {len(NAMES) - 1}")
        items.append((row["Filename"].strip(), int(label)))
    return items
