"""Semantic segmentation splits on an index written here: palette and colour masks read exactly, images
and masks resized together (masks by nearest neighbour), PyTorch samples, stats, export, JSON, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from annotatedfixtures import SEG_NAMES, class_mask, pattern, png, segmentation_split
from PIL import Image

from datamaestro.data import from_json_value
from datamaestro.data.segmentation import Segmentation, SemanticSegmentation
from datamaestro.errors import FormatError, UsageError
from datamaestro.formats.annotations import Item, voc_palette
from datamaestro.formats.objects_index import write_segmentation_index

SIZES = [(20, 24), (20, 24), (24, 32)]


def test_masks_are_read_as_class_indexes(tmp_path):
    split = segmentation_split(tmp_path)
    assert len(split) == 3 and split.image_size(2) == (24, 32)
    for k, (height, width) in enumerate(SIZES):
        mask = split.mask(k)
        assert mask.dtype == np.uint8 and np.array_equal(mask, class_mask(height, width, k))
        assert np.array_equal(split.image(k), pattern(height, width, k))


def test_batches_resize_images_and_masks_together(tmp_path):
    split = segmentation_split(tmp_path)
    images, masks = next(iter(split.batches(3, shuffle=False, resize=(10, 12), normalize=False)))
    assert images.shape == (3, 10, 12, 3) and masks.shape == (3, 10, 12) and masks.dtype == np.int64
    for k in range(3):
        with Image.open(split.root / "img" / f"{k}.png") as im:
            expected = np.asarray(im.convert("RGB").resize((12, 10), Image.Resampling.BILINEAR))
        assert np.array_equal(images[k], expected)
        with Image.open(split.root / "masks" / f"{k}.png") as im:
            nearest = np.asarray(im.resize((12, 10), Image.Resampling.NEAREST))
        assert np.array_equal(masks[k], nearest)
        assert set(np.unique(masks[k])) <= {0, 1, 2, 255}  # never a blend of two classes
    x, y = next(iter(split.batches(2, shuffle=False, layout="NCHW")))
    assert x.shape == (2, 3, 20, 24) and x.dtype == np.float32 and y.shape == (2, 20, 24)
    assert np.allclose(x[1], pattern(20, 24, 1).transpose(2, 0, 1) / 255)
    with pytest.raises(UsageError, match="the images differ in size"):
        list(split.batches(3, shuffle=False))


def test_torch_samples(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (extra datamaestro[torch])")
    split = segmentation_split(tmp_path)
    image, mask = split.to_torch()[2]
    assert tuple(image.shape) == (3, 24, 32) and image.dtype == torch.float32
    assert mask.dtype == torch.int64 and np.array_equal(mask.numpy(), class_mask(24, 32, 2))
    images, masks = next(iter(split.to_torch(resize=(10, 12)).loader(batch_size=3)))
    assert tuple(images.shape) == (3, 3, 10, 12) and tuple(masks.shape) == (3, 10, 12)
    images, masks = next(iter(split.to_torch().loader(batch_size=3)))
    assert isinstance(images, list) and [tuple(m.shape) for m in masks] == [(20, 24), (20, 24), (24, 32)]


def test_stats_export_and_json(tmp_path):
    split = segmentation_split(tmp_path)
    masks = [class_mask(h, w, k) for k, (h, w) in enumerate(SIZES)]
    pixels = {name: int(sum((m == c).sum() for m in masks)) for c, name in enumerate(SEG_NAMES)}
    assert split.stats() == {
        "count": 3, "image_shape": [20, 24, 3], "image_dtype": "uint8",
        "labels": {"background": 3, "road": 3, "tree": 3}, "pixels_per_class": pixels,
        "ignored_pixels": 24 + 24 + 32,
    }
    assert split.positions_with(2).tolist() == [0, 1, 2] and split.positions_with(5).tolist() == []
    exported = split.export_dataset()
    assert exported.categories == SEG_NAMES and exported.colours == voc_palette(3)
    items = exported.subsets["default"]
    assert [(i.id, i.image, i.mask, i.size) for i in items] == [
        (f"s{k}", split.root / "img" / f"{k}.png", split.root / "masks" / f"{k}.png", SIZES[k]) for k in range(3)
    ]
    again = from_json_value(json.loads(json.dumps(split.to_json())))
    assert isinstance(again, Segmentation) and again == split and again.ignore_index == 255
    plain = Segmentation.from_index(split.root, split.index, "train")
    container = SemanticSegmentation(validation=plain, categories=SEG_NAMES, colours=[[0, 0, 0], [1, 2, 3]],
                                     ignore_index=255)
    assert plain.categories == SEG_NAMES and plain.colours == [[0, 0, 0], [1, 2, 3]] and plain.ignore_index == 255
    assert list(container.export_dataset().subsets) == ["validation"]
    assert from_json_value(json.loads(json.dumps(container.to_json()))) == container


def test_colour_masks(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    mask = class_mask(20, 24, 0)
    mask[mask == 255] = 0
    colours = voc_palette(3)
    Image.fromarray(np.array(colours, dtype=np.uint8)[mask]).save(root / "m.png")
    (root / "i.png").write_bytes(png(pattern(20, 24, 0)))
    write_segmentation_index(tmp_path, "rgb", root, [Item(id="a", image=root / "i.png", mask=root / "m.png")], colours)
    split = Segmentation.from_index(root, tmp_path, "rgb", SEG_NAMES, [list(c) for c in colours])
    assert np.array_equal(split.mask(0), mask)
    assert split.stats()["labels"] == {"background": 1, "road": 1, "tree": 1}
    split.colours = [list(c) for c in colours[:2]]
    with pytest.raises(FormatError, match=r"m.png: the colour \(0, 128, 0\) at \(12, 10\) is no class's"):
        split.mask(0)
    split.colours = None
    with pytest.raises(FormatError, match="a colour mask, and the dataset gives no class colours"):
        split.mask(0)


def test_refusals(tmp_path):
    split = segmentation_split(tmp_path)
    root = split.root
    (root / "masks" / "small.png").write_bytes(png(np.zeros((4, 4), np.uint8), palette=True))
    cases = [
        (Item(id="x", image=root / "img" / "0.png", mask=root / "masks" / "small.png"), "the mask is 4x4, its image 24x20"),
        (Item(id="x", image=root / "img" / "0.png", mask=np.zeros((20, 24), np.uint8)), "no class mask file"),
        (Item(id="x", image=root / "img" / "0.png", mask=root / ".." / "index" / "classes.json"), "not a plain path"),
    ]
    for item, message in cases:
        with pytest.raises(FormatError, match=message):
            write_segmentation_index(split.index, "bad", root, [item])
    listing = split.index / "train_images.json"
    good = json.loads(listing.read_text())
    listing.write_text(json.dumps({**good, "masks": ["../../x.png", *good["masks"][1:]]}))
    with pytest.raises(FormatError, match="refused path '../../x.png'"):
        len(Segmentation.from_index(root, split.index, "train"))
    listing.write_text(json.dumps(good))
    np.save(split.index / "train_class_offsets.npy", np.array([0, 3, 99, 9], dtype=np.int64))
    with pytest.raises(FormatError, match="train_class_offsets.npy: offsets out of range"):
        len(Segmentation.from_index(root, split.index, "train"))
