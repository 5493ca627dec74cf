"""Decoding image files: batches decoded by threads into one array, JPEG draft decoding (when it is
used, how close it stays to a full decode, when it is not used), and the pixel bound with threads."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from kindfixtures import image_bytes, smooth_image
from PIL import Image

from datamaestro.errors import FormatError
from datamaestro.formats import jpeg
from datamaestro.loaders.arrays import normalized
from datamaestro.loaders.decoding import DRAFT_GAP, PARALLEL_MIN, Decoder, decode, draft_scale


def photo(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Smooth content with texture and noise (what draft decoding changes most: fine detail)."""
    noise = rng.normal(0, 10, (height, width, 3))
    blocks = np.kron(rng.integers(0, 50, (height // 8 + 1, width // 8 + 1, 3)), np.ones((8, 8, 1)))[:height, :width]
    return np.clip(smooth_image(rng, height, width) * 0.7 + noise + blocks, 0, 255).astype(np.uint8)


def write(tmp_path: Path, name: str, array: np.ndarray, format: str = "JPEG") -> Path:
    path = tmp_path / name
    path.write_bytes(image_bytes(array, format=format))
    return path


def test_draft_is_close_to_a_full_decode(tmp_path):
    """A JPEG shrunk 8 times is decoded at 1/4 (leaving a factor 2 for the antialiased resize): the
    pixels stay within a few levels of a full decode followed by the same resize."""
    path = write(tmp_path, "big.jpg", photo(np.random.default_rng(1), 384, 512))
    with Image.open(path) as im:
        assert draft_scale(im, (48, 64), "bilinear") == 4 and DRAFT_GAP == 2
    drafted = decode(path, size=(48, 64)).astype(int)
    full = decode(path, size=(48, 64), draft=False).astype(int)
    assert drafted.shape == full.shape == (48, 64, 3)
    difference = np.abs(drafted - full)
    assert 0 < difference.mean() < 1.5 and difference.max() <= 16  # the tolerance docs/performance.md states


@pytest.mark.parametrize(
    ("image", "size", "why"),
    [
        ((30, 40), (60, 80), "upscaling"),
        ((160, 213), (128, 128), "shrunk less than 2 * DRAFT_GAP times"),
        ((384, 512), (96, 256), "shrunk 4 times one way, not the other"),
    ],
)
def test_draft_is_not_used_unless_shrinking_enough(tmp_path, image, size, why):
    path = write(tmp_path, "a.jpg", photo(np.random.default_rng(2), *image))
    with Image.open(path) as im:
        assert draft_scale(im, size, "bilinear") == 1, why
    assert np.array_equal(decode(path, size=size), decode(path, size=size, draft=False))
    assert np.array_equal(decode(path, "L", size=size), decode(path, "L", size=size, draft=False))


def test_draft_only_for_jpeg_and_antialiased_resizing(tmp_path):
    array = photo(np.random.default_rng(3), 384, 512)
    png = write(tmp_path, "a.png", array, format="PNG")
    jpeg = write(tmp_path, "a.jpg", array)
    with Image.open(png) as im:
        assert draft_scale(im, (48, 64), "bilinear") == 1
    with Image.open(jpeg) as im:
        assert draft_scale(im, (48, 64), "nearest") == 1
    assert np.array_equal(decode(jpeg, size=(48, 64), method="nearest"), decode(jpeg, size=(48, 64), method="nearest", draft=False))
    assert np.array_equal(decode(png, size=(48, 64)), decode(png, size=(48, 64), draft=False))


def test_a_batch_is_the_images_stacked_and_scaled(tmp_path):
    """``Decoder.batch`` fills one array from the threads: exactly the images decoded one by one,
    stacked, and scaled as ``arrays.normalized`` does; alike with one thread or several."""
    rng = np.random.default_rng(4)
    paths = [write(tmp_path, f"{k}.jpg", photo(rng, 40 + k, 50)) for k in range(2 * PARALLEL_MIN)]
    single = Decoder(size=(32, 24), workers=1)
    expected = np.stack([single.one(p) for p in paths])
    for workers in (1, 3):
        decoder = Decoder(size=(32, 24), workers=workers)
        batch = decoder.batch(paths)
        assert batch.dtype == np.uint8 and batch.shape == (len(paths), 32, 24, 3)
        assert np.array_equal(batch, expected)
        scaled = decoder.batch(paths, scale=True)
        assert scaled.dtype == np.float32 and np.array_equal(scaled, normalized(expected))
        decoder.close()
    grey = Decoder("L", size=(8, 8), workers=2).batch(paths)
    assert grey.shape == (len(paths), 8, 8)


def test_the_pixel_bound_holds_in_every_thread(tmp_path):
    """A header announcing too many pixels is refused (one line naming it, no warning) when
    threads decode a batch straight into its array."""
    rng = np.random.default_rng(5)
    paths = [write(tmp_path, f"{k}.png", smooth_image(rng, 30, 40), format="PNG") for k in range(PARALLEL_MIN + 1)]
    big = write(tmp_path, "big.png", smooth_image(rng, 60, 60), format="PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decoder = Decoder(size=(16, 16), workers=2, max_pixels=3000)
        assert decoder.batch(paths).shape == (len(paths), 16, 16, 3)
        with pytest.raises(FormatError) as refused:
            decoder.batch([*paths[:4], big, *paths[4:]], scale=True)
        decoder.close()
    assert str(refused.value) == (
        f"{big}: refused: 60x60 is 3,600 pixels, more than the 3,000 an image may have (max_pixels)"
    )


def pillow_pixels(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """The image decoded and resized by Pillow alone: the reference."""
    with Image.open(path) as im:
        im = im.convert("RGB")
        return np.asarray(im if size is None else im.resize((size[1], size[0]), Image.Resampling.BILINEAR))


JPEG_KINDS = {
    "4:2:0": ({"subsampling": 2}, "RGB"),
    "4:2:2": ({"subsampling": 1}, "RGB"),
    "4:4:4": ({"subsampling": 0}, "RGB"),
    "progressive": ({"progressive": True}, "RGB"),
    "grey": ({}, "L"),
}


@pytest.mark.parametrize("kind", sorted(JPEG_KINDS))
def test_jpeg_files_decoded_by_libjpeg_turbo_have_pillows_pixels(tmp_path, kind):
    """simplejpeg decodes a YCbCr or grey JPEG (odd sizes too) to exactly the pixels Pillow gives."""
    pytest.importorskip("simplejpeg", reason="simplejpeg (extra images) is not installed: Pillow decodes every JPEG")
    options, mode = JPEG_KINDS[kind]
    array = photo(np.random.default_rng(7), 67, 93)
    path = tmp_path / "a.jpg"
    Image.fromarray(array if mode == "RGB" else array[..., 0]).save(path, quality=85, **options)
    assert jpeg.size(path.read_bytes()) == (67, 93)  # (this file goes through libjpeg-turbo directly)
    assert np.array_equal(decode(path), pillow_pixels(path))
    for size in ((48, 64), (80, 120)):
        assert np.array_equal(decode(path, size=size), pillow_pixels(path, size))
    assert np.array_equal(Decoder(size=(48, 64), workers=2).batch([path] * PARALLEL_MIN)[3], pillow_pixels(path, (48, 64)))


def test_other_jpeg_files_are_left_to_pillow(tmp_path):
    """A CMYK JPEG (which libjpeg-turbo would turn into other colours) and a truncated one are Pillow's:
    its pixels, its error in one line."""
    array = photo(np.random.default_rng(8), 40, 50)
    cmyk = tmp_path / "cmyk.jpg"
    Image.fromarray(array).convert("CMYK").save(cmyk, quality=90)
    assert jpeg.size(cmyk.read_bytes()) is None
    assert np.array_equal(decode(cmyk, size=(32, 32)), pillow_pixels(cmyk, (32, 32)))
    truncated = tmp_path / "truncated.jpg"
    whole = write(tmp_path, "whole.jpg", array).read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(FormatError) as refused:
        decode(truncated, size=(32, 32))
    assert str(refused.value).startswith(f"{truncated}: not a readable image (image file is truncated")


def test_the_pixel_bound_holds_for_jpeg_headers(tmp_path):
    """A JPEG header announcing too many pixels is refused before anything is decoded, with the
    message of every other image, whichever library would decode it."""
    small = write(tmp_path, "small.jpg", photo(np.random.default_rng(9), 60, 60))
    with pytest.raises(FormatError) as refused:
        decode(small, size=(16, 16), max_pixels=3000)
    assert str(refused.value) == f"{small}: refused: 60x60 is 3,600 pixels, more than the 3,000 an image may have (max_pixels)"
    data = bytearray(small.read_bytes())
    frame = data.index(b"\xff\xc0") + 5  # start of frame: length (2), precision (1), then height, width
    data[frame : frame + 4] = (10000).to_bytes(2, "big") + (10000).to_bytes(2, "big")
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(bytes(data))
    with pytest.raises(FormatError) as refused:
        decode(huge, size=(16, 16))
    assert str(refused.value) == (
        f"{huge}: refused: 10000x10000 is 100,000,000 pixels, more than the 64,000,000 an image may have (max_pixels)"
    )


def test_an_image_path_that_is_not_a_regular_file_is_refused_at_once(tmp_path):
    """A FIFO planted where an image was (which would block a reader with no writer) is refused."""
    fifo = tmp_path / "planted.jpg"
    os.mkfifo(fifo)
    with pytest.raises(FormatError) as refused:
        decode(fifo, size=(8, 8))
    assert str(refused.value) == f"{fifo}: not a readable image (not a regular file)"
