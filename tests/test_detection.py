"""Object detection splits on an index written here: exact objects, masks, padded batches that scale
boxes with the resize, PyTorch samples, stats, export, JSON, and the index files it refuses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from annotatedfixtures import NAMES, RLE_MASK, RLE_STRING, detection_items, detection_split
from PIL import Image

from datamaestro.data import from_json_value
from datamaestro.data.detection import Detection, ObjectDetection
from datamaestro.errors import FormatError, UnsafePathError, UsageError
from datamaestro.formats.annotations import Item, Object, Rle
from datamaestro.formats.mask_codec import counts_string, decode_rle, mask_rle, polygons_mask, string_counts
from datamaestro.formats.objects_index import write_detection_index


def pil_resized(path: Path, size: tuple[int, int]) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize((size[1], size[0]), Image.Resampling.BILINEAR))


def test_targets_are_the_objects_written(tmp_path):
    split = detection_split(tmp_path)
    assert len(split) == 3 and split.image_size(2) == (4, 3)
    t = split.targets(0)
    assert t["boxes"].dtype == np.float32 and t["labels"].dtype == np.int64
    assert t["boxes"].tolist() == [[2, 3, 10, 12], [0.5, 0, 4, 4]]
    assert t["labels"].tolist() == [1, 0]
    assert t["difficult"].tolist() == [True, False] and t["truncated"].tolist() == [False, True]
    assert t["occluded"].tolist() == [False, True] and t["crowd"].tolist() == [False, False]
    assert split.targets(1)["boxes"].shape == (0, 4) and split.targets(1)["labels"].shape == (0,)
    # an object known by its RLE mask alone gets the bounds of the mask as its box
    assert split.targets(2)["boxes"].tolist() == [[0, 1, 2, 4]] and split.targets(2)["crowd"].tolist() == [True]
    with Image.open(split.root / "img" / "0.png") as im:
        assert np.array_equal(split.image(0), np.asarray(im.convert("RGB")))


def test_masks_decoded_exactly(tmp_path):
    split = detection_split(tmp_path)
    masks = split.masks(0)
    assert masks.shape == (2, 20, 40) and masks.dtype == bool
    assert not masks[0].any()  # an object without a mask
    expected = np.zeros((20, 40), dtype=bool)
    expected[1:3, 1:4] = True  # pixel centres inside the rectangle (1, 1)-(4, 3)
    assert np.array_equal(masks[1], expected)
    assert np.array_equal(split.masks(2)[0], RLE_MASK)
    assert split.masks(1).shape == (0, 20, 40)


def test_mask_codec():
    assert string_counts(RLE_STRING) == [2, 2, 1, 2, 5]
    assert counts_string([2, 2, 1, 2, 5]) == RLE_STRING
    assert np.array_equal(decode_rle(Rle(4, 3, [2, 2, 1, 2, 5])), RLE_MASK)
    rng = np.random.default_rng(1)
    for shape in ((7, 5), (1, 9), (6, 6)):
        mask = rng.random(shape) > 0.4
        rle = mask_rle(mask)
        assert np.array_equal(decode_rle(rle), mask)
        assert np.array_equal(decode_rle(Rle(rle.height, rle.width, counts_string(rle.counts))), mask)  # type: ignore[arg-type]
    # a triangle: centres (x + .5, y + .5) under the diagonal of (0, 0)-(4, 0)-(4, 4)
    triangle = polygons_mask([[0, 0, 4, 0, 4, 4]], 4, 5)
    assert triangle.astype(int).tolist() == [
        [1, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 0], [0, 0, 0, 1, 0]]
    for bad, message in ((Rle(2, 2, [1, 2]), "cover 3 pixels"), (Rle(2, 2, [5, -1]), "negative"),
                         (Rle(2, 2, "2 "), "not a COCO digit"), (Rle(0, 2, []), "refused mask size")):
        with pytest.raises(FormatError, match=message):
            decode_rle(bad)
    with pytest.raises(FormatError, match="at least 3 finite"):
        polygons_mask([[0, 0, 1, float("nan"), 2, 2]], 4, 4)


def test_padded_batches_scale_boxes_with_the_resize(tmp_path):
    split = detection_split(tmp_path)
    batch = next(iter(split.batches(3, shuffle=False, resize=(10, 20), normalize=False)))
    images, boxes, labels, counts, flags = batch
    assert images.shape == (3, 10, 20, 3) and images.dtype == np.uint8
    for i in range(3):
        assert np.array_equal(images[i], pil_resized(split.root / "img" / f"{i}.png", (10, 20)))
    assert boxes.shape == (3, 2, 4) and boxes.dtype == np.float32
    assert boxes[0].tolist() == [[1, 1.5, 5, 6], [0.25, 0, 2, 2]]
    assert boxes[1].tolist() == [[0, 0, 0, 0], [0, 0, 0, 0]]
    assert np.allclose(boxes[2], [[0, 2.5, 40 / 3, 10], [0, 0, 0, 0]])
    assert labels.tolist() == [[1, 0], [-1, -1], [1, -1]] and counts.tolist() == [2, 0, 1]
    assert flags.tolist() == [[1, 6], [0, 0], [8, 0]]
    # normalised, channels first; a seed reshuffles at every call
    x = next(iter(split.batches(3, shuffle=False, resize=(10, 20), layout="NCHW"))).images
    assert x.shape == (3, 3, 10, 20) and x.dtype == np.float32
    assert np.allclose(x[0], images[0].transpose(2, 0, 1) / 255)
    first = [b.counts.tolist() for b in split.batches(1, seed=4)]
    assert first == [[[2, 0, 1][i]] for i in np.random.default_rng([4, 0]).permutation(3)]
    assert len(split.batches(2, drop_last=True)) == 1


def test_batches_need_one_size(tmp_path):
    split = detection_split(tmp_path)
    with pytest.raises(UsageError, match="the images differ in size .*pass resize=\\(height, width\\)"):
        list(split.batches(3, shuffle=False))
    same = next(iter(split.batches(2, shuffle=False)))  # the first two share their size
    assert same.images.shape == (2, 20, 40, 3)
    with pytest.raises(UsageError, match="resize must be"):
        split.batches(2, resize=(1, 2, 3))  # type: ignore[arg-type]


def test_torch_samples_and_collate(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (extra datamaestro[torch])")
    split = detection_split(tmp_path)
    data = split.to_torch()
    image, target = data[0]
    assert image.dtype == torch.float32 and tuple(image.shape) == (3, 20, 40)
    assert torch.allclose(image, torch.from_numpy(split.image(0).transpose(2, 0, 1) / np.float32(255)))
    assert target["boxes"].dtype == torch.float32 and target["labels"].dtype == torch.int64
    assert target["boxes"].tolist() == [[2, 3, 10, 12], [0.5, 0, 4, 4]] and target["labels"].tolist() == [1, 0]
    assert target["difficult"].tolist() == [True, False] and int(target["image_id"]) == 0
    images, targets = next(iter(data.loader(batch_size=3)))
    assert [tuple(im.shape) for im in images] == [(3, 20, 40), (3, 20, 40), (3, 4, 3)]
    assert [t["labels"].tolist() for t in targets] == [[1, 0], [], [1]]
    resized = split.to_torch(resize=(10, 20), masks=True)
    image, target = resized[2]
    assert tuple(image.shape) == (3, 10, 20) and np.allclose(target["boxes"].numpy(), [[0, 2.5, 40 / 3, 10]])
    assert target["masks"].dtype == torch.uint8 and tuple(target["masks"].shape) == (1, 10, 20)
    with pytest.raises(IndexError):
        data[3]


def test_stats_export_and_json(tmp_path):
    split = detection_split(tmp_path)
    assert split.stats() == {
        "count": 3, "image_shape": [20, 40, 3], "image_dtype": "uint8", "objects": 3,
        "labels": {"cat": 1, "dog": 2}, "objects_per_class": {"cat": 1, "dog": 2},
        "flags": {"difficult": 1, "truncated": 1, "occluded": 1, "crowd": 1},
    }
    assert split.positions_with(1).tolist() == [0, 2] and split.positions_with(0).tolist() == [0]
    exported = split.export_dataset()
    assert exported.categories == NAMES and list(exported.subsets) == ["default"]
    items = exported.subsets["default"]
    written = detection_items(tmp_path / "again")
    assert [item.id for item in items] == [item.id for item in written]
    assert items[0].image == split.root / "img" / "0.png" and items[2].size == (4, 3)
    first = items[0].objects
    assert first[0] == Object(label=1, box=(2.0, 3.0, 10.0, 12.0), difficult=True, id=7, attributes={"pose": "left"})
    assert first[1] == Object(label=0, box=(0.5, 0.0, 4.0, 4.0), truncated=True, occluded=True,
                              polygons=[[1.0, 1.0, 4.0, 1.0, 4.0, 3.0, 1.0, 3.0]])
    assert items[2].objects[0].rle == Rle(height=4, width=3, counts=RLE_STRING)
    again = from_json_value(json.loads(json.dumps(split.to_json())))
    assert isinstance(again, ObjectDetection) and again == split
    assert again.targets(0)["labels"].tolist() == [1, 0]
    container = Detection(train=ObjectDetection.from_index(split.root, split.index, "train"), categories=NAMES)
    assert container.train.categories == NAMES
    assert list(container.export_dataset().subsets) == ["train"]
    whole = from_json_value(json.loads(json.dumps(container.to_json())))
    assert whole == container


def fresh(split: ObjectDetection) -> ObjectDetection:
    """The split read again from its index files."""
    return ObjectDetection.from_index(split.root, split.index, "train", NAMES)


def test_hostile_index_files(tmp_path):
    split = detection_split(tmp_path)
    listing = split.index / "train_images.json"
    good = json.loads(listing.read_text())
    for bad in ("../outside.png", "/etc/passwd", "img/../../x.png", "img\\0.png", ""):
        listing.write_text(json.dumps({**good, "paths": [bad, *good["paths"][1:]]}))
        with pytest.raises(FormatError, match="refused path .*not a plain path inside the dataset folder"):
            len(fresh(split))
    listing.write_text(json.dumps({"paths": good["paths"], "ids": good["ids"][:2]}))
    with pytest.raises(FormatError, match="expected lists of paths, ids of one length"):
        len(fresh(split))
    listing.write_text("{not json")
    with pytest.raises(FormatError, match="train_images.json: cannot read the index"):
        len(fresh(split))
    listing.write_text(json.dumps(good))
    offsets = split.index / "train_offsets.npy"
    np.save(offsets, np.array([0, 2, 5, 3], dtype=np.int64))
    with pytest.raises(FormatError, match="train_offsets.npy: offsets out of range"):
        len(fresh(split))
    np.save(offsets, np.array([0, 2, 2], dtype=np.int64))
    with pytest.raises(FormatError, match=r"train_offsets.npy: expected int64 of shape \(4,\)"):
        len(fresh(split))
    np.save(offsets, np.array([0, 2, 2, 3], dtype=np.int64))
    np.save(split.index / "train_labels.npy", np.array([1, 0, 2], dtype=np.int64))
    with pytest.raises(FormatError, match="labels out of range for the 2 classes"):
        len(fresh(split))
    np.save(split.index / "train_labels.npy", np.array([1, 0, 1], dtype=object), allow_pickle=True)
    with pytest.raises(FormatError, match="train_labels.npy: cannot read the index"):
        len(fresh(split))


def test_a_link_leading_out_is_refused(tmp_path):
    split = detection_split(tmp_path)
    outside = tmp_path / "outside.png"
    outside.write_bytes((split.root / "img" / "1.png").read_bytes())
    (split.root / "img" / "1.png").unlink()
    os.symlink(outside, split.root / "img" / "1.png")
    with pytest.raises(UnsafePathError, match="outside"):
        split.image(1)
    with pytest.raises(FormatError, match="leads outside the dataset folder"):
        write_detection_index(tmp_path / "index", "again", split.root, [Item(id="x", image=Path("img/1.png"))])


def test_writing_refuses_bad_items(tmp_path):
    split = detection_split(tmp_path)
    cases = [
        (Item(id="x", image=tmp_path / "elsewhere.png"), "not under the image root"),
        (Item(id="x", image=Path("../index/classes.json")), "not a plain path"),
        (Item(id="x", pixels=np.zeros((2, 2), np.uint8)), "no image file"),
        (Item(id="x", image=Path("img/missing.png")), "'img/missing.png' listed by the dataset is missing"),
        (Item(id="x", image=Path("img/0.png"), objects=[Object(label=0)]), "neither a box nor a mask"),
    ]
    for item, message in cases:
        with pytest.raises(FormatError, match=message):
            write_detection_index(split.index, "bad", split.root, [item])
    with pytest.raises(UsageError, match="refused split name"):
        write_detection_index(split.index, "../x", split.root, [])
