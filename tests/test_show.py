"""datamaestro show and show_images: PNG grids decoded tile by tile, terminal half blocks."""

from __future__ import annotations

import io
import os
import sys

import numpy as np
from imagedatasets import DATASET, NAMES, serve_digits
from PIL import Image, ImageFont

from datamaestro.viz import grid_layout, render_terminal, show_images
from datamaestro.viz.grid import PAD, _text_height


def title_height() -> int:
    return _text_height(ImageFont.load_default()) + 2 * PAD


def scaled(image: np.ndarray, k: int) -> np.ndarray:
    return np.kron(image, np.ones((k, k), dtype=np.uint8)) if image.ndim == 2 else \
        image.repeat(k, axis=0).repeat(k, axis=1)


def tiles(png: np.ndarray, layout) -> list[np.ndarray]:
    out = []
    for i in range(layout.count):
        left, top, right, bottom = layout.tile_box(i)
        out.append(png[top:bottom, left:right])
    return out


def test_png_grid_tiles_are_the_scaled_images(env, server, cli, tmp_path):
    arrays = serve_digits(env, server)
    out = tmp_path / "grid.png"
    r = cli("show", DATASET, "-n", "6", "--cols", "4", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert f"wrote 6 train images to {out}" in r.stderr
    png = Image.open(out)
    assert png.format == "PNG" and png.mode == "L"
    th = title_height()
    # 4 columns of 28*3 + 2*4 pixels; 2 rows of title + 84 + 8
    assert png.size == (4 * 92, 2 * (th + 92))
    layout = grid_layout(6, 28, 28, ncols=4, scale=3, title_height=th)
    assert layout.size == png.size
    pixels = np.asarray(png)
    for i, tile in enumerate(tiles(pixels, layout)):
        assert np.array_equal(tile, scaled(arrays["train_images"][i], 3)), i
    # titles: drawn (dark pixels), equal for equal labels, different otherwise
    labels = arrays["train_labels"][:6]
    bands = []
    for i in range(6):
        left, top, right, bottom = layout.title_box(i)
        bands.append(pixels[top:bottom, left:right])
        assert bands[i].min() < 100
    for i in range(6):
        for j in range(i + 1, 6):
            assert np.array_equal(bands[i], bands[j]) == (labels[i] == labels[j])


def test_png_label_filter_seed_and_scale(env, server, cli, tmp_path):
    arrays = serve_digits(env, server, n_train=40)
    images, labels = arrays["train_images"], arrays["train_labels"]
    wanted = int(np.bincount(labels).argmax())
    out = tmp_path / "only.png"
    r = cli("show", DATASET, "--label", NAMES[wanted], "-n", "3", "--scale", "1", "-o", str(out))
    assert r.returncode == 0, r.stderr
    layout = grid_layout(3, 28, 28, ncols=8, scale=1, title_height=title_height())
    got = tiles(np.asarray(Image.open(out)), layout)
    expected = images[np.flatnonzero(labels == wanted)[:3]]
    assert all(np.array_equal(g, e) for g, e in zip(got, expected))

    r = cli("show", DATASET, "--split", "test", "--seed", "7", "-n", "5", "--scale", "2",
            "-o", str(out))
    assert r.returncode == 0, r.stderr
    pick = np.sort(np.random.default_rng(7).choice(np.arange(8), size=5, replace=False))
    layout = grid_layout(5, 28, 28, ncols=8, scale=2, title_height=title_height())
    got = tiles(np.asarray(Image.open(out)), layout)
    for g, i in zip(got, pick):
        assert np.array_equal(g, scaled(arrays["test_images"][i], 2))


def test_show_errors(env, server, cli, tmp_path):
    serve_digits(env, server)
    r = cli("show", DATASET, "--label", "eleven", "-o", str(tmp_path / "x.png"))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == (
        f"datamaestro: error: {DATASET} has no class 'eleven'; its classes are: "
        + ", ".join(NAMES)
    )
    r = cli("show", DATASET, "--split", "validation", "-o", str(tmp_path / "x.png"))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == (
        f"datamaestro: error: {DATASET} has no split 'validation'; its splits are: train, test"
    )
    assert not (tmp_path / "x.png").exists()
    r = cli("show", DATASET)  # stdout is a pipe here
    assert r.returncode == 2
    assert r.stderr == (
        "datamaestro: error: stdout is not a terminal: give -o FILE.png to write a PNG grid, "
        "or --terminal to draw anyway\n"
    )


def test_output_type_follows_the_file_name(env, server, cli, tmp_path):
    arrays = serve_digits(env, server)
    for name, kind in (("g.jpg", "JPEG"), ("g.JPEG", "JPEG"), ("g.bmp", "BMP"), ("g.png", "PNG")):
        r = cli("show", DATASET, "-n", "2", "--scale", "1", "-o", str(tmp_path / name))
        assert r.returncode == 0, r.stderr
        with Image.open(tmp_path / name) as im:
            assert im.format == kind
            if kind != "JPEG":  # lossless: the first tile is the first image
                layout = grid_layout(2, 28, 28, ncols=8, scale=1, title_height=title_height())
                assert np.array_equal(tiles(np.asarray(im), layout)[0], arrays["train_images"][0])
    for name, shown in (("g.xyz", "'.xyz'"), ("grid", "'(no extension)'")):
        r = cli("show", DATASET, "-o", str(tmp_path / name))
        assert r.returncode == 2
        assert r.stderr == (
            f"datamaestro: error: {tmp_path / name}: unknown image type {shown}; "
            "name the file .png, .jpg, .bmp, .gif, .tif or .webp\n"
        )
        assert not (tmp_path / name).exists()


def test_show_refuses_a_missing_folder(env, server, cli, tmp_path):
    serve_digits(env, server)
    target = tmp_path / "nonexistent" / "dir" / "x.png"
    r = cli("show", DATASET, "-o", str(target))
    assert r.returncode == 2
    assert r.stderr == (
        f"datamaestro: error: {target}: the folder {target.parent} does not exist; create it first\n"
    )
    assert not (tmp_path / "nonexistent").exists()
    assert server.log == []  # refused before anything was downloaded


def test_show_without_pillow_names_the_extra(env, server, tmp_path):
    import subprocess

    serve_digits(env, server)
    code = (
        "import sys; sys.modules['PIL'] = None\n"
        "from datamaestro.cli.main import main\n"
        f"sys.exit(main(['show', '{DATASET}', '-q', '-o', sys.argv[1]]))\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "g.png")],
                       capture_output=True, text=True, env=os.environ.copy(), timeout=60)
    assert r.returncode == 2
    assert r.stderr == (
        "datamaestro: error: Pillow is needed for drawing images: pip install Pillow "
        "(or, in datamaestro's checkout, pip install -e '.[images]')\n"
    )
    assert not (tmp_path / "g.png").exists()


def test_show_images_colour_nchw_stays_rgb():
    rng = np.random.default_rng(3)
    batch = rng.integers(0, 256, size=(3, 3, 32, 32), dtype=np.uint8)  # CIFAR's N x C x H x W
    grid = show_images(batch, [2, 0, 1], ncols=2, categories=["cat", "dog", "bird"])
    assert grid.mode == "RGB"
    layout = grid_layout(3, 32, 32, ncols=2, scale=3, title_height=title_height())
    assert grid.size == layout.size == (2 * 104, 2 * (title_height() + 104))
    buffer = io.BytesIO()
    grid.save(buffer, format="PNG")
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    for i, tile in enumerate(tiles(decoded, layout)):
        assert np.array_equal(tile, scaled(batch[i].transpose(1, 2, 0), 3))
    # NHWC and floats in [0, 1] give the same pixels
    same = show_images(batch.transpose(0, 2, 3, 1) / 255.0, [2, 0, 1], ncols=2,
                       categories=["cat", "dog", "bird"])
    assert np.array_equal(np.asarray(same), np.asarray(grid))
    # no labels: no title band
    assert show_images(batch[:1]).size == (104, 104)


def test_terminal_truecolor_exact():
    image = np.array([[[0, 255], [128, 8], [255, 255]]], dtype=np.uint8)  # 3 x 2, odd height
    text = render_terminal(image, ["seven"], colour="truecolor", width=80)
    assert text == (
        "s\u2026\n"  # a title wider than the image is cut with an ellipsis
        + "\x1b[38;2;0;0;0;48;2;128;128;128m\u2580"
        + "\x1b[38;2;255;255;255;48;2;8;8;8m\u2580\x1b[0m\n"
        + "\x1b[38;2;255;255;255;49m\u2580\u2580\x1b[0m\n"
    )


def test_terminal_grey_palette_and_rows():
    images = np.zeros((3, 2, 2), dtype=np.uint8)
    images[1] = 255
    images[2] = [[100, 100], [100, 100]]
    text = render_terminal(images, [0, 1, 2], ncols=8, colour="grey", width=6,
                           categories=["a", "b", "c"])
    # width 6 fits two 2-wide images with a 2-space gap; grey 100 -> palette 241 (98)
    assert text == (
        "a   b\n"
        "\x1b[38;5;16;48;5;16m\u2580\u2580\x1b[0m  \x1b[38;5;231;48;5;231m\u2580\u2580\x1b[0m\n"
        "c\n"
        "\x1b[38;5;241;48;5;241m\u2580\u2580\x1b[0m\n"
    )
    rgb = np.zeros((1, 2, 1, 3), dtype=np.uint8)
    rgb[0, 0, 0] = (255, 0, 0)
    assert render_terminal(rgb, colour="truecolor", width=80) == (
        "\x1b[38;2;255;0;0;48;2;0;0;0m\u2580\x1b[0m\n"
    )
    # red in grey mode: luminance 76 -> palette 239 (78)
    assert render_terminal(rgb, colour="grey", width=80) == "\x1b[38;5;239;48;5;16m\u2580\x1b[0m\n"


def test_cli_terminal_matches_render(env, server, cli, monkeypatch):
    arrays = serve_digits(env, server)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("COLORTERM", "truecolor")
    r = cli("show", DATASET, "-n", "4", "--terminal", "-q")
    assert r.returncode == 0, r.stderr
    expected = render_terminal(arrays["train_images"][:4], arrays["train_labels"][:4],
                               colour="truecolor", width=100, categories=NAMES)
    assert r.stdout == expected
    # 100 columns hold three 28-wide images: a second row of one
    assert len(r.stdout.splitlines()) == 2 * (1 + 14)
    monkeypatch.delenv("COLORTERM")
    r = cli("show", DATASET, "-n", "1", "--terminal", "-q")
    assert r.stdout == render_terminal(arrays["train_images"][:1], arrays["train_labels"][:1],
                                       colour="grey", width=100, categories=NAMES)
    assert "38;5;" in r.stdout and "38;2;" not in r.stdout


COLOUR_SOURCE = """
from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.npy import NPY
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader

@filedownloader("train_images.npy", {base!r} + "train_images.npy")
@filedownloader("train_labels.npy", {base!r} + "train_labels.npy")
@dataset(ImageClassification, name="Colour test")
def colours(train_images, train_labels):
    \"\"\"CIFAR-like N x 3 x 32 x 32 images.\"\"\"
    return {{
        "train": LabelledImages(images=NPY(path=train_images), labels=NPY(path=train_labels)),
        "categories": ["airplane", "automobile", "bird"],
    }}
"""


def test_png_of_cifar_like_colour_data(env, server, cli, tmp_path):
    import makefiles

    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(5, 3, 32, 32), dtype=np.uint8)
    labels = np.array([2, 0, 1, 1, 0], dtype=np.int64)
    for name, array in (("train_images.npy", images), ("train_labels.npy", labels)):
        buffer = io.BytesIO()
        np.save(buffer, array)
        server.files["/colour/" + name] = buffer.getvalue()
    makefiles.write_module(env.use_registry(), "org.test",
                           COLOUR_SOURCE.format(base=server.url("colour/")))
    out = tmp_path / "colour.png"
    r = cli("show", "org.test.colours", "--cols", "3", "-q", "-o", str(out))
    assert r.returncode == 0, r.stderr
    png = Image.open(out)
    assert png.mode == "RGB"
    layout = grid_layout(5, 32, 32, ncols=3, scale=3, title_height=title_height())
    assert png.size == layout.size == (3 * 104, 2 * (title_height() + 104))
    for i, tile in enumerate(tiles(np.asarray(png), layout)):
        assert np.array_equal(tile, scaled(images[i].transpose(1, 2, 0), 3))
    r = cli("show", "org.test.colours", "--label", "bird", "-n", "1", "--terminal",
            "--colour", "truecolor", "-q")
    assert r.stdout == render_terminal(images[:1], ["bird"], colour="truecolor")


def decode_half_blocks(lines: list[str]) -> np.ndarray:
    """The RGB pixels that truecolor half-block lines show (2 pixel rows per line)."""
    import re

    rows: list[list[tuple[int, ...]]] = []
    for line in lines:
        top: list[tuple[int, ...]] = []
        bottom: list[tuple[int, ...]] = []
        fg = bg = None
        for escape, _char in re.findall(r"(\x1b\[[0-9;]*m)?(\u2580)", line):
            if escape:
                codes = [int(c) for c in escape[2:-1].split(";")]
                fg = tuple(codes[2:5])
                bg = tuple(codes[7:10]) if codes[5] == 48 else None
            top.append(fg)
            bottom.append(bg)
        rows.append(top)
        if any(b is not None for b in bottom):
            rows.append(bottom)
    return np.array(rows, dtype=np.uint8)


def test_terminal_truecolor_round_trip():
    """Decoding the drawn half blocks gives back every pixel of every image."""
    rng = np.random.default_rng(11)
    images = rng.integers(0, 256, size=(5, 27, 28, 3), dtype=np.uint8)  # odd height, colour
    images[:, :6, :6] = 0  # runs of equal pixels, drawn without repeating the escape
    text = render_terminal(images, list("abcde"), ncols=3, colour="truecolor", width=200)
    lines = text.splitlines()
    assert len(lines) == 2 * (1 + 14)  # two rows of images, each a title and 14 lines
    for row, start in ((0, 0), (1, 3)):
        block = lines[row * 15 + 1 : row * 15 + 15]
        pictures = [line.split("\x1b[0m  ") for line in block]
        for k in range(len(pictures[0])):
            decoded = decode_half_blocks([p[k] for p in pictures])
            assert np.array_equal(decoded, images[start + k])


def test_float_images_with_nan_and_infinities_show_without_numpy_warnings():
    import warnings

    from datamaestro.viz import as_images

    images = np.array([[[np.nan, np.inf], [-np.inf, 0.5]]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert as_images(images).tolist() == [[[0, 255], [0, 128]]]
        assert as_images(np.full((1, 2, 2), 1e30, dtype=np.float64)).tolist() == [[[255, 255], [255, 255]]]
