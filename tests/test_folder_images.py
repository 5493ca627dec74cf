"""The ImageFolder type and its loaders on image folders written here: grey and colour images,
sizes that differ, the index written at prepare time and the inputs it refuses."""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from kindfixtures import decoded, image_bytes, smooth_image

from datamaestro.data.folder import ImageFolder, ImageFolderClassification
from datamaestro.errors import FormatError, UsageError
from datamaestro.loaders.folder import ChannelFirstImages, write_index


def make_folder(tmp_path: Path, sizes: list[tuple[int, int]], mode: str = "RGB", format: str = "PNG") -> tuple[ImageFolder, list[bytes]]:
    """Images of ``sizes`` in two class folders, indexed; PNG keeps pixels exact."""
    rng = np.random.default_rng(len(sizes))
    root, index = tmp_path / "root", tmp_path / "index"
    index.mkdir()
    items, raw = [], []
    for k, (height, width) in enumerate(sizes):
        array = smooth_image(rng, height, width)
        data = image_bytes(array if mode == "RGB" else array[..., 0], format=format)
        path = root / f"c{k % 2}" / f"img{k}.{format.lower()}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        items.append((f"c{k % 2}/img{k}.{format.lower()}", k % 2))
        raw.append(data)
    assert write_index(index, "train", root, items) == len(items)
    return ImageFolder.from_index(root, index, "train", ["even", "odd"], mode=mode), raw


def test_grey_images_have_no_channel_axis(tmp_path):
    folder, raw = make_folder(tmp_path, [(12, 10)] * 5, mode="L")
    x, y = folder.arrays()
    assert x.shape == (5, 12, 10) and x.dtype == np.uint8 and y.tolist() == [0, 1, 0, 1, 0]
    assert all(np.array_equal(x[i], decoded(raw[i], "L")) for i in range(5))
    xc, _ = folder.arrays(layout="NCHW", normalize=True)
    assert xc.shape == (5, 1, 12, 10) and np.allclose(xc[:, 0] * 255, x)
    xh, _ = folder.arrays(layout="NHWC", resize=(6, 5))
    assert xh.shape == (5, 6, 5, 1)
    assert folder.images.shape == (5, 12, 10)


def test_lazy_views_for_show_and_export(tmp_path):
    folder, raw = make_folder(tmp_path, [(10, 20), (10, 20), (30, 15)])
    view = folder.images
    assert view.shape == (3, 10, 20, 3) and view.dtype == np.uint8 and len(view) == 3
    assert np.array_equal(view[0], decoded(raw[0]))
    picked = view[np.array([2, 1])]
    assert picked.shape == (2, 10, 20, 3)  # the odd-sized image is fitted to the common size
    assert np.array_equal(picked[1], decoded(raw[1]))
    assert np.asarray(view).shape == (3, 10, 20, 3)
    channel_first = ChannelFirstImages(folder)
    assert channel_first[2].shape == (3, 30, 15)
    assert np.array_equal(channel_first[2], decoded(raw[2]).transpose(2, 0, 1))
    some = channel_first[np.array([False, True, True])]
    assert isinstance(some, ChannelFirstImages) and len(some) == 2
    assert [im.shape for im in some] == [(3, 10, 20), (3, 30, 15)]
    subset = folder.export_subset()
    assert subset.ids == ["img0", "img1", "img2"] and subset.labels.tolist() == [0, 1, 0]
    assert subset.stacked() is None  # the sizes differ


def test_batches_reshuffle_at_each_call(tmp_path):
    folder, _ = make_folder(tmp_path, [(8, 8)] * 10)
    first = np.concatenate([y for _, y in folder.batches(4, seed=3)])
    second = np.concatenate([y for _, y in folder.batches(4, seed=3)])
    labels = np.array([k % 2 for k in range(10)])
    assert first.tolist() == labels[np.random.default_rng([3, 0]).permutation(10)].tolist()
    assert second.tolist() == labels[np.random.default_rng([3, 1]).permutation(10)].tolist()
    x, _ = next(iter(folder.batches(10, shuffle=False, normalize=False)))
    assert x.dtype == np.uint8 and x.shape == (10, 8, 8, 3)
    assert len(folder.batches(4, drop_last=True)) == 2


def test_container_passes_categories(tmp_path):
    folder, _ = make_folder(tmp_path, [(8, 8)] * 2)
    folder.categories = None
    ds = ImageFolderClassification(train=folder, categories=["even", "odd"])
    assert ds.train.categories == ["even", "odd"]
    exported = ds.export_dataset()
    assert list(exported.subsets) == ["train"] and exported.categories == ["even", "odd"]


def test_empty_split(tmp_path):
    (tmp_path / "root").mkdir()
    write_index(tmp_path, "none", tmp_path / "root", [])
    empty = ImageFolder.from_index(tmp_path / "root", tmp_path, "none", ["a"])
    assert len(empty) == 0 and empty.images.shape == (0, 0, 0, 3)
    x, y = empty.arrays(layout="NCHW")
    assert x.shape[0] == 0 and y.shape == (0,)
    assert list(empty.batches(4)) == []


def test_unknown_options(tmp_path):
    folder, _ = make_folder(tmp_path, [(8, 8)] * 2)
    with pytest.raises(UsageError, match="unknown interpolation 'cubic' \\(use bilinear or nearest\\)"):
        folder.arrays(interpolation="cubic")
    with pytest.raises(UsageError, match="unknown layout 'CHW'"):
        folder.arrays(layout="CHW")
    folder.mode = "CMYK"
    with pytest.raises(UsageError, match="unknown image mode 'CMYK' \\(use RGB or L\\)"):
        folder.arrays()


def test_corrupt_image_is_named(tmp_path):
    folder, _ = make_folder(tmp_path, [(8, 8)] * 3)
    folder.paths()[1].write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(FormatError, match=r"img1.png: not a readable image"):
        folder.arrays()
    with pytest.raises(FormatError, match=r"img1.png: not a readable image"):
        write_index(tmp_path / "index", "again", tmp_path / "root", [("c1/img1.png", 0)])


def test_index_refuses_paths_leaving_the_folder(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    canary = tmp_path / "canary.png"
    canary.write_bytes(image_bytes(np.zeros((4, 4, 3), np.uint8), format="PNG"))
    before = canary.read_bytes()
    os.symlink(canary, root / "link.png")
    (root / "sub").mkdir()
    for rel, message in [
        ("link.png", "refused image path 'link.png': it leads outside the dataset folder"),
        ("../canary.png", "refused image path '../canary.png': not a plain path inside the dataset folder"),
        ("sub//x.png", "refused image path 'sub//x.png': not a plain path"),
        ("sub\\..\\..\\canary.png", "not a plain path inside the dataset folder"),
        ("sub", "the image 'sub' listed by the dataset is missing"),
    ]:
        with pytest.raises(FormatError, match=message.replace("\\", "\\\\").replace("(", "\\(")):
            write_index(tmp_path, "bad", root, [(rel, 0)])
    assert canary.read_bytes() == before
    assert not (tmp_path / "bad.txt").exists()


def test_to_torch(tmp_path):
    torch = pytest.importorskip("torch")
    folder, raw = make_folder(tmp_path, [(10, 12), (14, 12), (10, 12)])
    dataset = folder.to_torch(resize=(8, 6))
    assert len(dataset) == 3
    image, label = dataset[1]
    assert isinstance(image, torch.Tensor) and image.shape == (3, 8, 6) and image.dtype == torch.float32
    assert label == 1
    x, y = dataset[[0, 2]]
    assert x.shape == (2, 3, 8, 6) and y.tolist() == [0, 0] and y.dtype == torch.int64
    expected, _ = folder.arrays(resize=(8, 6), normalize=True, layout="NCHW")
    assert np.allclose(x.numpy(), expected[[0, 2]])
    batches = list(dataset.loader(batch_size=2, shuffle=False))
    assert [b[0].shape[0] for b in batches] == [2, 1]


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    from PIL import Image

    folder, _ = make_folder(tmp_path, [(8, 8)] * 2)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # an 8x8 image now claims too many pixels
    with pytest.raises(FormatError, match=r"img0.png: refused: more than twice Pillow's limit of 10 pixels per image$"):
        folder.image(0)
    with pytest.raises(FormatError, match=r"img1.png: refused: more than twice Pillow's limit of 10 pixels per image$"):
        write_index(tmp_path / "index", "again", tmp_path / "root", [("c1/img1.png", 1)])


def bomb_png(width: int, height: int, rows: int | None = None) -> bytes:
    """A 1-bit grey PNG of ``width`` x ``height`` black pixels: a few KB on disk, ``width * height``
    bytes once Pillow decodes it (``rows``: only that many rows of data, the header claiming all)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)  # filter byte, then the packed bits
    body = b"".join(compressor.compress(row) for _ in range(height if rows is None else rows)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def folder_with(tmp_path: Path, files: dict[str, bytes]) -> ImageFolder:
    root, index = tmp_path / "root", tmp_path / "index"
    index.mkdir()
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    write_index(index, "train", root, [(name, k % 2) for k, name in enumerate(files)])
    return ImageFolder.from_index(root, index, "train", ["a", "b"])


def test_an_image_of_too_many_pixels_is_refused_before_decoding(tmp_path):
    """Issue 19: a 13000 x 13000 one-bit PNG of about 20 KB is under Pillow's bomb limit and
    takes 169 MB once decoded: refused from its header, one line naming it, no warning shown."""
    bomb = bomb_png(13000, 13000)
    assert len(bomb) < 64_000
    ok = image_bytes(smooth_image(np.random.default_rng(0), 40, 30), format="PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would fail the test
        folder = folder_with(tmp_path, {"c0/ok.png": ok, "c1/huge.png": bomb, "c0/ok2.png": ok})
        assert folder.sizes_array().tolist() == [[40, 30], [13000, 13000], [40, 30]]
        bomb_path = folder.root / "c1" / "huge.png"
        message = (
            f"{bomb_path}: refused: 13000x13000 is 169,000,000 pixels, more than the 64,000,000 "
            "an image may have (max_pixels)"
        )
        for attempt in (
            lambda: folder.arrays(resize=(32, 32)),
            lambda: next(iter(folder.batches(3, shuffle=False, resize=(32, 32), workers=2))),
            lambda: folder.images[0:3],  # what `datamaestro show` reads
            lambda: folder.image(1),
        ):
            with pytest.raises(FormatError) as refused:
                attempt()
            assert str(refused.value) == message
        assert folder.image(0).shape == (40, 30, 3)


def test_the_pixel_bound_is_a_parameter(tmp_path):
    from datamaestro.formats.images import MAX_PIXELS
    from datamaestro.loaders.decoding import decode

    folder, _ = make_folder(tmp_path, [(60, 50)] * 3)
    assert MAX_PIXELS == 64_000_000 and len(folder.arrays()[0]) == 3
    with pytest.raises(FormatError, match=r"refused: 50x60 is 3,000 pixels, more than the 2,999 an image may have"):
        folder.arrays(max_pixels=2999)
    with pytest.raises(FormatError, match=r"more than the 2,999"):
        list(folder.batches(2, max_pixels=2999))
    assert decode(folder.paths()[0], max_pixels=3000).shape == (60, 50, 3)


def test_an_image_beyond_pillows_own_limit_is_one_line(tmp_path):
    from PIL import Image

    path = tmp_path / "claims.png"
    path.write_bytes(bomb_png(20000, 20000, rows=1))  # 400 million pixels claimed: Pillow's error
    from datamaestro.loaders.decoding import decode

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FormatError) as refused:
            decode(path, max_pixels=10**9)
    assert str(refused.value) == (
        f"{path}: refused: more than twice Pillow's limit of {Image.MAX_IMAGE_PIXELS:,} pixels per image"
    )


def test_batches_the_caller_holds_are_never_written_again(tmp_path):
    """Each batch is decoded into an array of an earlier one only when nothing holds that one any
    more: batches kept in a list, as views or by a consumer stay what they were."""
    folder, raw = make_folder(tmp_path, [(8, 8)] * 40)
    expected = np.stack([decoded(data) for data in raw]).astype(np.float32) / 255
    for workers in (1, 2):
        held = [x for x, _ in folder.batches(8, shuffle=False, workers=workers)]
        assert np.array_equal(np.concatenate(held), expected)
        assert not any(np.shares_memory(a, b) for i, a in enumerate(held) for b in held[i + 1 :])
        views = [x[:2] for x, _ in folder.batches(8, shuffle=False, workers=workers, resize=(4, 4))]
        again = np.concatenate([x[:2] for x, _ in folder.batches(8, shuffle=False, workers=workers, resize=(4, 4))])
        assert np.array_equal(np.concatenate(views), again)


def test_the_next_batch_is_decoded_ahead_and_its_error_comes_with_it(tmp_path):
    """A pass decodes batch k + 1 while batch k is handed over: a bad image in batch 2 does not
    stop batches 0 and 1, and a pass left early leaves nothing behind that fails."""
    folder, raw = make_folder(tmp_path, [(8, 8)] * 30)
    folder.paths()[21].write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    passed = folder.batches(10, shuffle=False, workers=2)
    first, _ = next(passed)
    second, _ = next(passed)
    assert np.array_equal(second[3] * 255, decoded(raw[13]).astype(np.float32))
    with pytest.raises(FormatError, match=r"img21.png: not a readable image"):
        next(passed)
    left = folder.batches(10, shuffle=False, workers=2)
    early, _ = next(left)
    del left  # (its next batch was started: it finishes unseen)
    assert np.array_equal(early[0] * 255, decoded(raw[0]).astype(np.float32)) and first.shape == (10, 8, 8, 3)
