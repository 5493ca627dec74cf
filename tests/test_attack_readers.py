"""Hostile inputs to the dataset readers and to the prepared detection and segmentation indexes.

The dataset readers (one per family: text lists, CSV tables, the ImageNet
devkit, audio listings) must refuse a FIFO or an oversized list unread and
never hand out a path that leads outside; the prepared indexes, tampered after
prepare time, must be refused with one line before anything is allocated.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from annotatedfixtures import NAMES, detection_split, segmentation_split
from PIL import Image

from datamaestro.data.detection import ObjectDetection
from datamaestro.data.segmentation import Segmentation
from datamaestro.errors import DatamaestroError
from datamaestro.formats import cub, food101, gtsrb, imagenet_devkit, lists, speech_commands
from datamaestro.loaders.folder import write_index


@pytest.fixture(autouse=True)
def no_hang():
    """Fail a test that blocks for more than 20 s (a FIFO waited on) instead of hanging the run."""

    def expired(*_: object) -> None:
        raise AssertionError("blocked")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def one_line(call, *args: object, match: str = "") -> str:
    with pytest.raises(DatamaestroError) as info:
        call(*args)
    message = str(info.value)
    assert "\n" not in message and match in message, message
    return message


# -- dataset readers ------------------------------------------------------------------------------


def test_text_lists_that_are_fifos_or_huge_are_refused_unread(tmp_path):
    fifo = tmp_path / "classes.txt"
    os.mkfifo(fifo)
    one_line(lists.read_lines, fifo, match="not a regular file")
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(300 * 1024**2)  # (sparse)
    one_line(lists.read_lines, huge, match="more than")
    table = tmp_path / "GT-final_test.csv"
    os.mkfifo(table)
    one_line(gtsrb.read_test, table, match="not a regular file")
    truth = tmp_path / "ground_truth.txt"
    with open(truth, "wb") as f:
        f.truncate(17 << 20)
    one_line(imagenet_devkit.read_ground_truth, truth, 1000, match="more than")
    (tmp_path / "sc").mkdir()
    os.mkfifo(tmp_path / "sc" / "validation_list.txt")
    one_line(speech_commands.listed, tmp_path / "sc" / "validation_list.txt", {}, match="not a regular file")


def image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 3)).save(path)


def test_list_lines_leading_outside_never_reach_the_index(tmp_path):
    root = tmp_path / "food-101"
    (root / "meta").mkdir(parents=True)
    image(root / "images" / "cake" / "1.jpg")
    image(tmp_path / "secret.jpg")
    (root / "meta" / "classes.txt").write_text("cake\n")
    (root / "meta" / "train.txt").write_text("cake/../../../secret\n")
    (root / "meta" / "test.txt").write_text("cake/1\n")
    splits, names = food101.read(root)
    one_line(write_index, tmp_path / "index", "train", root, splits["train"], match="refused image path")
    assert not (tmp_path / "index").exists() or not any((tmp_path / "index").iterdir())
    (root / "images" / "cake" / "2.jpg").symlink_to(tmp_path / "secret.jpg")
    one_line(write_index, tmp_path / "index", "test", root, [("images/cake/2.jpg", 0)], match="leads outside")


def test_cub_absolute_image_path_refused(tmp_path):
    root = tmp_path / "CUB_200_2011"
    root.mkdir()
    (root / "classes.txt").write_text("1 001.Black_footed_Albatross\n")
    (root / "images.txt").write_text("1 /etc/passwd\n")
    (root / "image_class_labels.txt").write_text("1 1\n")
    (root / "train_test_split.txt").write_text("1 1\n")
    splits, _ = cub.read(root)
    one_line(write_index, tmp_path / "index", "train", root, splits["train"], match="refused image path")


# -- the prepared detection and segmentation indexes ----------------------------------------------


def fresh(split: ObjectDetection) -> ObjectDetection:
    return ObjectDetection.from_index(split.root, split.index, "train", NAMES)


def tamper_array(split, name: str, change) -> None:
    path = split.index / f"train_{name}.npy"
    array = np.array(np.load(path))
    np.save(path, change(array))


@pytest.mark.parametrize(
    ("name", "change", "word"),
    [
        ("boxes", lambda a: np.where(np.arange(a.size).reshape(a.shape) == 0, np.nan, a).astype(np.float32), "finite"),
        ("boxes", lambda a: np.full_like(a, np.inf), "finite"),
        ("sizes", lambda a: np.full_like(a, 100_000), "sizes out of range"),
        ("sizes", lambda a: -a, "sizes out of range"),
        ("sizes", lambda a: np.zeros_like(a), "sizes out of range"),
        ("offsets", lambda a: a[::-1].copy(), "offsets out of range"),
        ("labels", lambda a: a + 100, "labels out of range"),
    ],
)
def test_tampered_detection_arrays_refused(tmp_path, name, change, word):
    split = detection_split(tmp_path)
    tamper_array(split, name, change)
    one_line(lambda: fresh(split).targets(0), match=word)
    one_line(lambda: fresh(split).masks(0), match=word)


def test_pickled_index_array_is_never_unpickled(tmp_path):
    split = detection_split(tmp_path)
    marker = tmp_path / "unpickled"

    class Boom:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    np.save(split.index / "train_flags.npy", np.array([Boom()] * 3, dtype=object), allow_pickle=True)
    one_line(lambda: len(fresh(split)), match="train_flags.npy")
    assert not marker.exists()


def test_index_naming_paths_outside_refused(tmp_path):
    split = detection_split(tmp_path)
    listing = split.index / "train_images.json"
    good = json.loads(listing.read_text())
    for bad in ("../outside.png", "/etc/passwd", "img/../../x.png", "img\\0.png", "img/\0.png"):
        listing.write_text(json.dumps({**good, "paths": [bad, *good["paths"][1:]]}))
        one_line(lambda: len(fresh(split)), match="refused path")


def objects_lines(split, lines: list[bytes]) -> None:
    data = [line + b"\n" for line in lines]
    (split.index / "train_objects.jsonl").write_bytes(b"".join(data))
    offsets = np.concatenate([[0], np.cumsum([len(d) for d in data])]).astype(np.int64)
    np.save(split.index / "train_lines.npy", offsets)


@pytest.mark.parametrize(
    "line",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'[null, {"rle": {"size": [20, 40], "counts": 5}}]',
        b'[null, {"polygons": 5}]',
        b'[null, {"polygons": [["a", "b", "c", "d", "e", "f"]]}]',
        b'[null, {"attributes": 5}]',
        b'[null, {"id": "seven"}]',
        b"[null]",
    ],
    ids=["deep", "rle-counts-int", "polygons-int", "polygons-strings", "attributes-int", "id-string", "too-few"],
)
def test_tampered_objects_lines_refused(tmp_path, line):
    split = detection_split(tmp_path)
    objects_lines(split, [line, b"[]", b"[null]"])
    one_line(lambda: fresh(split).masks(0), match="train_objects.jsonl")


def test_objects_line_offsets_beyond_the_file_refused(tmp_path):
    split = detection_split(tmp_path)
    np.save(split.index / "train_lines.npy", np.array([0, 1 << 40, 1 << 41, 1 << 42], dtype=np.int64))
    one_line(lambda: fresh(split).masks(0), match="offsets out of range")


@pytest.mark.parametrize("name", ["images.json", "boxes.npy", "objects.jsonl"])
def test_index_files_that_are_fifos_or_links_refused(tmp_path, name):
    split = detection_split(tmp_path)
    path = split.index / f"train_{name}"
    outside = tmp_path / f"outside_{name}"
    path.rename(outside)
    os.mkfifo(path)
    one_line(lambda: fresh(split).masks(0))
    path.unlink()
    path.symlink_to(outside)
    one_line(lambda: fresh(split).masks(0), match="symbolic link")


def segmentation_again(split: Segmentation) -> Segmentation:
    return type(split).from_index(split.root, split.index, "train", split.categories, split.colours, split.ignore_index)


@pytest.mark.parametrize(
    ("name", "change", "word"),
    [
        ("classes", lambda a: a + 10**12, "classes out of"),
        ("classes", lambda a: a - 1000, "classes out of"),
        ("pixels", lambda a: -a, "negative pixel counts"),
        ("sizes", lambda a: np.full_like(a, 100_000), "sizes out of range"),
    ],
)
def test_tampered_segmentation_index_refused(tmp_path, name, change, word):
    split = segmentation_split(tmp_path)
    tamper_array(split, name, change)
    one_line(lambda: segmentation_again(split).stats(), match=word)
