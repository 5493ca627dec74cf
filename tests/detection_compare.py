"""Comparing annotated datasets: datamaestro's reading against Datumaro's (``datumaro_dump.py``) or against itself."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from datamaestro.formats.annotations import AnnotatedDataset
from datamaestro.formats.masks import decode_rle, mask_array

DATUMARO_PYTHON = os.environ.get("DATUMARO_PYTHON")
needs_datumaro = pytest.mark.skipif(
    not DATUMARO_PYTHON,
    reason="set DATUMARO_PYTHON to a python with datumaro 1.13.12 installed (CI does) to compare with Datumaro",
)
DUMP = Path(__file__).with_name("datumaro_dump.py")


def datumaro(*args: str) -> dict:
    """Run ``datumaro_dump.py`` with Datumaro's python; its JSON output (None for export)."""
    assert DATUMARO_PYTHON
    result = subprocess.run(
        [DATUMARO_PYTHON, str(DUMP), *args], capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout) if args[0] == "import" else {}


def summary(dataset: AnnotatedDataset, voc_masks: bool = False) -> dict:
    """The normalised form of ``dataset`` that ``datumaro_dump.py`` prints for Datumaro's reading.

    ``voc_masks``: an item's instance mask gives one mask per instance, labelled by the class mask (as
    Datumaro reads SegmentationObject with SegmentationClass)."""
    names = dataset.categories
    items = {}
    for subset, members in dataset:
        for item in members:
            boxes, polygons, masks = [], [], []
            for obj in item.objects:
                name = names[obj.label] if obj.label >= 0 else ""
                flags = [obj.difficult, obj.truncated, obj.occluded, obj.crowd]
                if obj.box is not None:
                    boxes.append([name, *[round(v, 3) for v in obj.box], *flags])
                for polygon in obj.polygons:
                    polygons.append([name, [round(v, 3) for v in polygon]])
                if obj.rle is not None:
                    masks.append([name, int(decode_rle(obj.rle).sum())])
            if voc_masks and item.instance_mask is not None:
                masks += instance_masks(item.instance_mask, item.mask, names)
            items[f"{subset}/{item.id}"] = {
                "size": list(item.size) if item.size else None, "labels": sorted(names[i] for i in item.labels),
                "boxes": sorted(boxes), "polygons": sorted(polygons), "masks": sorted(masks),
            }
    return items


def instance_masks(instance_mask, class_mask, names: list[str]) -> list:
    """One ``[label, pixels]`` per instance of a VOC instance mask (label: the class most of its pixels have)."""
    instances = mask_array(instance_mask)
    classes = None if class_mask is None else mask_array(class_mask)
    found = []
    for index in np.unique(instances):
        if index in (0, 255):
            continue
        where = instances == index
        name = ""
        if classes is not None:
            values, counts = np.unique(classes[where], return_counts=True)
            name = names[int(values[np.argmax(counts)])]
        found.append([name, int(where.sum())])
    return found
