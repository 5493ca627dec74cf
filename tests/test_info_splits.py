"""datamaestro info on a prepared dataset: per-split counts, image shape and dtype, histogram."""

from __future__ import annotations

import json

import numpy as np
from imagedatasets import DATASET, NAMES, serve_digits


def histogram(labels: np.ndarray) -> dict[str, int]:
    counts = np.bincount(labels, minlength=10)
    return {NAMES[k]: int(c) for k, c in enumerate(counts)}


def test_info_json_adds_splits_once_prepared(env, server, cli):
    arrays = serve_digits(env, server)
    before = json.loads(cli("info", "--json", DATASET).stdout)
    assert before["prepared"] is False and "splits" not in before
    assert cli("prepare", "-q", DATASET).returncode == 0
    info = json.loads(cli("info", "--json", DATASET).stdout)
    # the keys info always had are still there, unchanged; each file adds what verified it
    assert [f.pop("verified_by") for f in info["files"]] == [f["checksum"] for f in before["files"]]
    assert {k: v for k, v in info.items() if k not in ("prepared", "splits")} == {
        k: v for k, v in before.items() if k != "prepared"
    }
    assert info["prepared"] is True
    assert info["splits"] == {
        "train": {
            "count": 20,
            "image_shape": [28, 28],
            "image_dtype": "uint8",
            "label_dtype": "uint8",
            "labels": histogram(arrays["train_labels"]),
        },
        "test": {
            "count": 8,
            "image_shape": [28, 28],
            "image_dtype": "uint8",
            "label_dtype": "uint8",
            "labels": histogram(arrays["test_labels"]),
        },
    }


def test_info_text_shows_counts_and_histogram(env, server, cli):
    arrays = serve_digits(env, server)
    before = cli("info", DATASET).stdout.splitlines()
    assert "splits:" not in before
    assert cli("prepare", "-q", DATASET).returncode == 0
    lines = cli("info", DATASET).stdout.splitlines()
    # every line of the unprepared output is still there (the 'prepared' line says yes)
    kept = [line for line in before if not line.startswith("prepared:")]
    assert [line for line in lines if line in kept] == kept
    start = lines.index("splits:")
    expected = ["splits:"]
    for name, n in (("train", 20), ("test", 8)):
        expected.append(f"  {name}: {n} images, 28x28 uint8")
        counts = histogram(arrays[f"{name}_labels"])
        top = max(counts.values())
        for label, count in counts.items():
            bar = "\u2588" * round(30 * count / top)
            expected.append(f"    {label:<5}  {count:>{len(str(top))}}  {bar}".rstrip())
    assert lines[start : start + len(expected)] == expected
    assert lines[start + len(expected)] == ""  # then the description, as before


def test_many_classes_are_summarised_in_one_line():
    from datamaestro.cli.commands.info import split_lines

    histogram = {f"class{k}": 500 - k for k in range(100)}
    lines = split_lines({"train": {"count": 49950 - 50, "image_shape": [3, 32, 32],
                                   "image_dtype": "uint8", "labels": histogram}})
    assert lines == [
        "splits:",
        "  train: 49900 images, 3x32x32 uint8",
        "    labels: 100 classes, 401 to 500 images each",
    ]
