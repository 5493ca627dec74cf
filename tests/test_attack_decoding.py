"""Attacks on image-folder loading: batch arrays used again (``loaders.buffers``), the next batch
decoded ahead (``loaders.passes``), JPEG files decoded by libjpeg-turbo (``formats.jpeg``), and
whole-file reads (``formats.images.read_small``). Every hostile input is built here."""

from __future__ import annotations

import functools
import gc
import io
import json
import multiprocessing
import os
import pickle
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kindfixtures import image_bytes
from PIL import Image

from datamaestro.data.folder import ImageFolder
from datamaestro.errors import FormatError
from datamaestro.formats import jpeg
from datamaestro.formats.images import SMALL_MAX, read_small
from datamaestro.hashing import hash_file
from datamaestro.loaders.buffers import KEEP, recycled
from datamaestro.loaders.decoding import Decoder, decode
from datamaestro.loaders.folder import write_index
from datamaestro.loaders.passes import IndexBatches
from datamaestro.manifest import Entry, folder_files
from datamaestro.storage import DataFolder

needs_simplejpeg = pytest.mark.skipif(
    jpeg.simplejpeg is None, reason="simplejpeg (extra images) is not installed: Pillow decodes every JPEG"
)


def noise(seed: int, height: int, width: int) -> np.ndarray:
    """Colour noise around mid-grey (every DCT coefficient in use)."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(128, 40, (height, width, 3)), 0, 255).astype(np.uint8)


def pillow_jpeg(array: np.ndarray, **options: Any) -> bytes:
    """``array`` as a JPEG file written by Pillow with ``options``."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def segment(marker: int, payload: bytes) -> bytes:
    """One JPEG marker segment: 0xFF, the marker, the length, the payload."""
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def entropy_bits(symbols: list[tuple[int, int]]) -> bytes:
    """(value, bit count) pairs written most significant bit first, 0xFF stuffed, padded with ones."""
    bits = "".join(format(value, f"0{count}b") for value, count in symbols if count)
    bits += "1" * (-len(bits) % 8)
    data = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    return data.replace(b"\xff", b"\xff\x00")


def lossless_grey(image: np.ndarray, precision: int = 8) -> bytes:
    """A lossless (SOF3) grey JPEG of ``image``: predictor 1 (the left sample), one Huffman table
    giving each of the 17 difference categories a 5-bit code."""
    height, width = image.shape
    values = image.astype(np.int64)
    symbols = []
    for r in range(height):
        for c in range(width):
            predicted = 1 << (precision - 1) if r == c == 0 else values[r - 1, c] if c == 0 else values[r, c - 1]
            diff = int(values[r, c] - predicted)
            size = abs(diff).bit_length()
            symbols += [(size, 5), (diff if diff >= 0 else diff + (1 << size) - 1, size)]
    frame = bytes([precision]) + height.to_bytes(2, "big") + width.to_bytes(2, "big") + bytes([1, 1, 0x11, 0])
    table = bytes([0x00, 0, 0, 0, 0, 17] + [0] * 11) + bytes(range(17))
    scan = bytes([1, 1, 0x00, 1, 0, 0])  # (one component; predictor 1, no point transform)
    return (
        b"\xff\xd8" + segment(0xC3, frame) + segment(0xC4, table) + segment(0xDA, scan)
        + entropy_bits(symbols) + b"\xff\xd9"
    )


def marker_offsets(data: bytes) -> list[int]:
    """Where each marker of a JPEG file starts, up to and including its first scan's."""
    offsets, i = [0], 2
    while data[i + 1] != 0xDA:
        offsets.append(i)
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return [*offsets, i]


def scans(data: bytes) -> list[int]:
    """Where each start-of-scan marker of a JPEG file is (entropy data stuffs 0xFF, so 0xFFDA is one)."""
    return [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xDA]


def with_frame(data: bytes, height: int, width: int, marker: int = 0xC0, precision: int = 8) -> bytes:
    """``data`` with its start-of-frame marker, precision and announced size replaced."""
    frame = data.index(b"\xff\xc0")
    out = bytearray(data)
    out[frame + 1], out[frame + 4] = marker, precision
    out[frame + 5 : frame + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(out)


def inserted(data: bytes, extra: bytes) -> bytes:
    """``extra`` (markers, segments) right after the start-of-image marker of ``data``."""
    return data[:2] + extra + data[2:]


def with_transform(data: bytes, transform: int) -> bytes:
    """``data`` with the colour transform of its Adobe segment replaced."""
    at = data.index(b"Adobe") + 11
    return data[:at] + bytes([transform]) + data[at + 1 :]


def adobe(transform: int) -> bytes:
    """An Adobe APP14 segment with its colour ``transform`` (0: none, 1: YCbCr, 2: YCCK)."""
    return segment(0xEE, b"Adobe" + bytes([0, 100, 0, 0, 0, 0, transform]))


# -- decode() with and without simplejpeg ----------------------------------------------------

PILLOW_ONLY = r"""
import json, pickle, sys
sys.modules["simplejpeg"] = None  # (as without the extra: Pillow decodes every image)
from pathlib import Path
from PIL import Image
from datamaestro.formats import jpeg
from datamaestro.loaders.decoding import Decoder, decode
from datamaestro.errors import FormatError
assert jpeg.simplejpeg is None
cases, limit = json.loads(sys.argv[1])
if limit is not None:
    Image.MAX_IMAGE_PIXELS = limit
results = []
for path, options in cases:
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    try:
        results.append(("pixels", decode(Path(path), **options)))
    except FormatError as e:
        results.append(("error", str(e)))
    except Exception as e:
        results.append(("crash", f"{type(e).__name__}: {e}"))
sys.stdout.buffer.write(pickle.dumps(results))
"""


def outcome(path: Path, **options: Any) -> tuple[str, Any]:
    """What ``decode`` gives here: its pixels, its one-line error, or any other exception."""
    try:
        return ("pixels", decode(path, **options))
    except FormatError as e:
        return ("error", str(e))
    except Exception as e:
        return ("crash", f"{type(e).__name__}: {e}")


def pillow_outcomes(cases: list[tuple[Path, dict[str, Any]]], limit: int | None = None) -> list[tuple[str, Any]]:
    """What ``decode`` gives for each case in a process where simplejpeg cannot be imported."""
    argument = json.dumps([[[str(path), options] for path, options in cases], limit])
    run = subprocess.run([sys.executable, "-c", PILLOW_ONLY, argument], capture_output=True, check=True, timeout=120)
    results: list[tuple[str, Any]] = pickle.loads(run.stdout)
    return results


def same(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    """Both the same pixels (shape, type and values), or both the same message."""
    if a[0] != b[0]:
        return False
    if a[0] == "pixels":
        return bool(a[1].dtype == b[1].dtype and a[1].shape == b[1].shape and np.array_equal(a[1], b[1]))
    return bool(a[1] == b[1])


@functools.cache
def odd_jpegs() -> dict[str, bytes]:
    """JPEG files of every kind the two paths may see differently (simplejpeg writes 4:1:1 and 4:4:0)."""
    photo = noise(0, 37, 53)
    base = pillow_jpeg(photo, quality=90)
    cmyk = io.BytesIO()
    Image.fromarray(photo).convert("CMYK").save(cmyk, "JPEG")
    exif = Image.Exif()
    exif[0x0112] = 6  # (orientation: rotate 90 degrees; neither path rotates)
    progressive = pillow_jpeg(noise(1, 96, 80), progressive=True)
    mpf = b"MPF\x00II*\x00\x08\x00\x00\x00" + b"\xff" * 20
    files = {
        "4:2:0": base,
        "4:2:2": pillow_jpeg(photo, subsampling=1),
        "4:4:4": pillow_jpeg(photo, subsampling=0, quality=100),
        "4:1:1": jpeg.simplejpeg.encode_jpeg(photo, 90, colorsubsampling="411"),
        "4:4:0": jpeg.simplejpeg.encode_jpeg(photo, 90, colorsubsampling="440"),
        "grey": image_bytes(photo[..., 1], format="JPEG"),
        "progressive": progressive,
        "restart markers": pillow_jpeg(photo, restart_marker_blocks=1),
        "EXIF orientation 6": pillow_jpeg(photo, exif=exif.tobytes()),
        "CMYK": cmyk.getvalue(),
        "YCCK": with_transform(cmyk.getvalue(), 2),
        "Adobe, no transform": inserted(base, adobe(0)),
        "malformed MPF": inserted(base, segment(0xE2, mpf)),
        "frame smaller than its data": with_frame(base, 16, 16),
        "frame larger than its data": with_frame(base, 300, 400),
        "0x0 frame": with_frame(base, 0, 0),
        "frame of height 0": with_frame(base, 0, 53),
        "two SOI": b"\xff\xd8" + base,
        "no EOI": base[:-2],
        "garbage after EOI": base + b"garbage\xff\xd8\xff" * 50,
        "fill bytes before a marker": inserted(base, b"\xff\xff\xff"),
        "restart marker before the frame": inserted(base, b"\xff\xd0"),
        "12-bit frame": with_frame(base, 37, 53, precision=12),
        "12-bit lossless": lossless_grey(np.arange(221).reshape(13, 17) * 18, precision=12),
        "lossless": lossless_grey(noise(2, 13, 17)[..., 0]),
        "arithmetic frame over Huffman data": with_frame(base, 37, 53, marker=0xC9),
        "extended sequential frame": with_frame(base, 37, 53, marker=0xC1),
        "hierarchical frame": with_frame(base, 37, 53, marker=0xC5),
        "huge frame (Pillow's own limit)": with_frame(base, 20000, 20000),
        "huge frame (max_pixels)": with_frame(base, 9000, 9000),
    }
    for name, data in (("baseline", base), ("progressive", progressive)):
        cuts = {c + d for c in marker_offsets(data) for d in (0, 1, 2, 4)} | set(range(scans(data)[0], len(data), 211))
        cuts |= {c + d for c in scans(data) for d in (0, 3, 9)} | {len(data) - 1}
        files.update({f"{name} cut at {cut}": data[:cut] for cut in sorted(cuts) if 0 < cut < len(data)})
    return files


#: files that libjpeg-turbo reads but Pillow's own header parser refuses (``test_pillows_parser_refuses_...``)
PARSER_ONLY = {
    "TEM marker": b"\xff\x01",
    "JFIF segment cut short": segment(0xE0, b"JFIF\x00"),
    "ICC segment cut short": segment(0xE2, b"ICC_PROFILE\x00"),
}


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[tuple[str, Any]], list[tuple[str, Any]]]]:
    """For each odd file and each of two calls (full size, resized): ``decode`` here (simplejpeg
    installed) and in a process without simplejpeg."""
    if jpeg.simplejpeg is None:
        pytest.skip("simplejpeg (extra images) is not installed: Pillow decodes every JPEG")
    folder = tmp_path_factory.mktemp("odd")
    base = pillow_jpeg(noise(0, 37, 53), quality=90)
    files = {**odd_jpegs(), **{name: inserted(base, extra) for name, extra in PARSER_ONLY.items()}}
    calls: list[dict[str, Any]] = [{}, {"size": (24, 20)}]
    cases = []
    for k, data in enumerate(files.values()):
        (folder / f"{k}.jpg").write_bytes(data)
        cases += [(folder / f"{k}.jpg", options) for options in calls]
    here = [outcome(path, **options) for path, options in cases]
    there = pillow_outcomes(cases)
    return {name: (here[2 * k : 2 * k + 2], there[2 * k : 2 * k + 2]) for k, name in enumerate(files)}


@needs_simplejpeg
def test_odd_jpeg_files_decode_as_without_simplejpeg(compared):
    """Each odd file gives the same pixels, or the same one-line error, with simplejpeg and without:
    subsampling, progressive, restart markers, EXIF, colour spaces, frames that lie about their size,
    a frame of no pixels, files cut at every marker, extra SOI, no EOI, 12-bit, lossless, arithmetic."""
    differ = [name for name, (here, there) in compared.items() if name not in PARSER_ONLY and not all(map(same, here, there))]
    assert differ == []
    outcomes = {name: here[0] for name, (here, _) in compared.items()}
    assert all(kind in ("pixels", "error") for kind, _ in outcomes.values())  # (never another exception)
    assert {outcomes[name][0] for name in ("4:1:1", "4:4:0", "lossless", "12-bit lossless")} == {"pixels", "error"}
    assert outcomes["12-bit lossless"][0] == "error" and outcomes["lossless"][0] == "pixels"
    assert outcomes["EXIF orientation 6"][1].shape == (37, 53, 3)  # (not rotated)
    assert outcomes["frame larger than its data"][1].shape == (300, 400, 3)
    assert outcomes["huge frame (Pillow's own limit)"][1].endswith(
        f"refused: more than twice Pillow's limit of {Image.MAX_IMAGE_PIXELS:,} pixels per image"
    )
    assert outcomes["huge frame (max_pixels)"][1].endswith(
        "refused: 9000x9000 is 81,000,000 pixels, more than the 64,000,000 an image may have (max_pixels)"
    )


@needs_simplejpeg
def test_the_odd_files_simplejpeg_takes_are_decoded_by_it(compared):
    """The comparison above is not only Pillow against Pillow: these files go to libjpeg-turbo
    directly, and it decodes them. A lossless file or a frame that lies about its size is offered
    to it and refused (a warning, or no conversion to RGB): Pillow decodes them; CMYK and YCCK are not
    offered."""
    files = odd_jpegs()
    taken = (
        "4:1:1", "4:4:0", "progressive", "restart markers", "EXIF orientation 6", "Adobe, no transform",
        "malformed MPF", "garbage after EOI", "fill bytes before a marker", "extended sequential frame",
    )
    for name in taken:
        assert jpeg.size(files[name]) is not None and jpeg.rgb(files[name]) is not None, name
    for name in ("lossless", "frame larger than its data", "frame smaller than its data", "no EOI"):
        assert jpeg.size(files[name]) is not None and jpeg.rgb(files[name]) is None, name
    assert jpeg.size(files["CMYK"]) is None and jpeg.size(files["YCCK"]) is None


@needs_simplejpeg
def test_pillows_own_limit_holds_for_the_files_simplejpeg_decodes(tmp_path, monkeypatch):
    """Pillow refuses to open an image of more than twice ``Image.MAX_IMAGE_PIXELS``, whatever
    ``max_pixels`` allows: a JPEG that libjpeg-turbo would decode is refused alike, with the same
    line, before anything is decoded (it used to be decoded, then refused by Pillow)."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    over, under = tmp_path / "over.jpg", tmp_path / "under.jpg"
    over.write_bytes(pillow_jpeg(noise(3, 50, 50)))  # 2,500 pixels: over twice 1,000
    under.write_bytes(pillow_jpeg(noise(4, 40, 40)))  # 1,600: Pillow only warns (not shown)
    cases: list[tuple[Path, dict[str, Any]]] = [(over, {}), (over, {"max_pixels": 10**9}), (under, {})]
    here = [outcome(path, **options) for path, options in cases]
    assert [kind for kind, _ in here] == ["error", "error", "pixels"]
    assert here[0][1] == f"{over}: refused: more than twice Pillow's limit of 1,000 pixels per image" == here[1][1]
    assert all(map(same, here, pillow_outcomes(cases, limit=1000)))


@needs_simplejpeg
def test_pillows_parser_refuses_what_libjpeg_turbo_reads(compared):
    """A TEM marker or a JFIF or ICC segment cut short: libjpeg-turbo skips them, Pillow's own header
    parser refuses the file. With simplejpeg such a file decodes (to what libjpeg-turbo, which Pillow
    also decodes with, gives); without, it is refused. Pinned: making both refuse would mean parsing
    every header with Pillow, the cost that decoding through simplejpeg saves (and the index, written
    with Pillow, already refuses such a file)."""
    clean = compared["4:2:0"][0]
    for name in PARSER_ONLY:
        here, there = compared[name]
        assert all(map(same, here, clean)), name
        assert [kind for kind, _ in there] == ["error", "error"] and there[0][1].endswith(
            ": not a readable image (not a format Pillow knows)"
        ), name


def scan_bomb(copies: int) -> bytes:
    """A progressive JPEG whose last scan comes ``copies`` more times (libjpeg-turbo warns, decodes each)."""
    data = pillow_jpeg(noise(5, 192, 192), progressive=True)
    last = data[scans(data)[-1] : -2]
    return data[:-2] + last * copies + b"\xff\xd9"


def best_time(action: Callable[[], Any], rounds: int = 3) -> float:
    """The shortest of ``rounds`` timings of ``action``."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def test_a_scan_bomb_costs_at_most_twice_what_pillow_takes(tmp_path):
    """A progressive file of hundreds of repeated scans: Pillow decodes them all (it ignores
    libjpeg's warnings); simplejpeg decodes them all too, then refuses the file for the warning, and
    Pillow decodes it again. The pixels are Pillow's; the time is bounded by twice Pillow's."""
    path = tmp_path / "bomb.jpg"
    path.write_bytes(scan_bomb(200))

    def pillow_alone() -> np.ndarray:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))

    assert np.array_equal(decode(path), pillow_alone())
    ours, pillows = best_time(lambda: decode(path), 5), best_time(pillow_alone, 5)
    assert ours < 3 * pillows + 0.02 and ours < 2.0


# -- read_small: links, special files, files that change -------------------------------------


def test_links_are_followed_to_regular_files_only(tmp_path):
    """A link to an image reads the image; a link to a FIFO, a folder or a device is refused at once
    (nothing blocks, nothing endless is read); a dangling link is a one-line error."""
    image = tmp_path / "real.jpg"
    image.write_bytes(pillow_jpeg(noise(6, 20, 30)))
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    targets = {"image": image, "fifo": tmp_path / "fifo", "folder": tmp_path / "folder", "zero": Path("/dev/zero")}
    for name, target in targets.items():
        (tmp_path / f"{name}.jpg.link").symlink_to(target)
    assert read_small(tmp_path / "image.jpg.link") == image.read_bytes()
    assert np.array_equal(decode(tmp_path / "image.jpg.link"), decode(image))
    for name in ("fifo", "folder", "zero"):
        link = tmp_path / f"{name}.jpg.link"
        with pytest.raises(FormatError) as refused:
            decode(link, size=(8, 8))
        assert str(refused.value) == f"{link}: not a readable image (not a regular file)"
    (tmp_path / "dangling.jpg").symlink_to(tmp_path / "gone.jpg")
    with pytest.raises(FormatError) as refused:
        decode(tmp_path / "dangling.jpg")
    assert str(refused.value) == (
        f"{tmp_path / 'dangling.jpg'}: not a readable image ([Errno 2] No such file or directory: "
        f"'{tmp_path / 'dangling.jpg'}')"
    )


def test_a_file_of_the_largest_size_read_at_once_and_one_byte_more(tmp_path):
    """A JPEG padded after its end to ``SMALL_MAX`` bytes is read at once; one byte more, and Pillow
    reads it from the file: the same pixels either way."""
    data = pillow_jpeg(noise(7, 24, 32))
    exact, over = tmp_path / "exact.jpg", tmp_path / "over.jpg"
    for path, size in ((exact, SMALL_MAX), (over, SMALL_MAX + 1)):
        with path.open("wb") as f:
            f.write(data)
            f.truncate(size)  # (zeros after the end of the image, sparse)
    small = read_small(exact)
    assert small is not None and len(small) == SMALL_MAX and small[: len(data)] == data
    assert read_small(over) is None
    assert np.array_equal(decode(exact), decode(over)) and np.array_equal(decode(over), np.asarray(Image.open(io.BytesIO(data))))


def flipping(stop: threading.Event, flip: Callable[[int], None]) -> threading.Thread:
    """A thread calling ``flip(k)`` for k = 0, 1, 2... until ``stop`` is set."""

    def run() -> None:
        k = 0
        while not stop.is_set():
            flip(k)
            k += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_fifo_swapped_in_after_the_check_is_refused_without_blocking(tmp_path):
    """A link that another process points at a FIFO and back as fast as it can: each read gives the
    image or refuses the FIFO. Reading must not open the FIFO after checking what the path was (the
    reader then waited for a writer forever)."""
    image = tmp_path / "real.jpg"
    image.write_bytes(pillow_jpeg(noise(8, 10, 10)))
    os.mkfifo(tmp_path / "fifo")
    link = tmp_path / "image.jpg"
    link.symlink_to(image)

    def flip(k: int) -> None:
        temporary = tmp_path / f"link{k % 2}"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(tmp_path / "fifo" if k % 2 else image)
        os.replace(temporary, link)

    outcomes: list[str] = []

    def read() -> None:
        for _ in range(400):
            try:
                outcomes.append("image" if read_small(link) == image.read_bytes() else "other")
            except FormatError as e:
                outcomes.append("refused" if str(e).endswith("(not a regular file)") else str(e))

    stop = threading.Event()
    flipper = flipping(stop, flip)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=5)
    stop.set()
    blocked = reader.is_alive()
    if blocked:  # (open the FIFO for writing: the blocked reader gets its end of file)
        os.close(os.open(tmp_path / "fifo", os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=5)
    flipper.join(timeout=5)
    assert not blocked and len(outcomes) == 400 and set(outcomes) <= {"image", "refused"}


def test_a_file_that_grows_while_it_is_read_is_read_no_further_than_the_bound(tmp_path):
    """Another process makes the file just under ``SMALL_MAX`` and 1 MB over it, again and again:
    ``read_small`` never returns more than ``SMALL_MAX`` bytes (the size checked before reading
    bounded nothing: the whole file was read, however large it had grown)."""
    path = tmp_path / "growing.jpg"
    path.write_bytes(pillow_jpeg(noise(9, 8, 8)))
    sizes = (SMALL_MAX - 4096, SMALL_MAX + (1 << 20))

    def flip(k: int) -> None:
        os.truncate(path, sizes[k % 2])

    stop = threading.Event()
    flipper = flipping(stop, flip)
    try:
        lengths = [len(data) if (data := read_small(path)) is not None else None for _ in range(30)]
    finally:
        stop.set()
        flipper.join(timeout=5)
    assert all(n is None or n <= SMALL_MAX for n in lengths), lengths


# -- batch arrays used again: what users keep of a batch -------------------------------------

SIZE = (6, 5)


def positions_folder(root: Path, count: int = 24, mode: str = "RGB") -> ImageFolder:
    """PNG images (exact pixels) whose label is their position, each of its own class: the labels
    of a batch say which images it holds."""
    items = []
    for k in range(count):
        array = noise(100 + k, *SIZE)
        (root / "images").mkdir(parents=True, exist_ok=True)
        (root / "images" / f"{k}.png").write_bytes(image_bytes(array if mode == "RGB" else array[..., 0], format="PNG"))
        items.append((f"{k}.png", k))
    (root / "index").mkdir()
    write_index(root / "index", "train", root / "images", items, workers=1)
    return ImageFolder.from_index(root / "images", root / "index", "train", [f"c{k}" for k in range(count)], mode=mode)


def reference(split: ImageFolder, transform: Callable[[np.ndarray], np.ndarray] | None = None, **options: Any) -> tuple[np.ndarray, np.ndarray]:
    """The whole split converted as ``batches(**options)`` converts each batch (normalized by
    default), decoded afresh: what each batch must show at its positions."""
    images, labels = split.arrays(**{"normalize": True, **options})
    return (images if transform is None else transform(images.copy())), labels


def positions(labels: np.ndarray) -> np.ndarray:
    """The positions of a batch, from its labels (one-hot rows too)."""
    return labels.argmax(axis=1) if labels.ndim == 2 else labels


def churn(split: Any, passes: int = 3, **options: Any) -> set[int]:
    """Run ``passes`` passes holding nothing (each batch's arrays free for the next); the addresses of
    the arrays they came in."""
    seen = set()
    for epoch in range(passes):
        for x, _ in split.batches(4, seed=epoch, **options):
            seen.add((x if x.base is None else x.base).__array_interface__["data"][0])
    return seen


KEEPS: dict[str, Callable[[np.ndarray], Any]] = {
    "the batch": lambda x: x,
    "in a dict": lambda x: {"images": x},
    "a slice": lambda x: x[:2],
    "a slice of a slice": lambda x: x[1:][::2],
    "the transpose": lambda x: x.T,
    "a reshape": lambda x: x.reshape(len(x), -1),
    "np.frombuffer": lambda x: np.frombuffer(x, dtype=x.dtype),
    "a memoryview": memoryview,
    "a memoryview of a slice": lambda x: memoryview(x[2:]),
    "one image in a list": lambda x: [x[0]],
}


def as_array(kept: Any) -> np.ndarray:
    """The array a kept object shows."""
    if isinstance(kept, dict):
        return np.asarray(kept["images"])
    return np.asarray(kept[0] if isinstance(kept, list) else kept)


@pytest.mark.parametrize("how", sorted(KEEPS))
def test_what_is_kept_of_a_batch_is_never_written_again(tmp_path, how):
    """Only a view (or a memoryview, a dict...) of each batch is kept, the batch itself let go of; more
    passes then run over the same split (reusing every array let go of): what was kept still shows
    the batch's images."""
    folder = positions_folder(tmp_path)
    images, _ = reference(folder, resize=SIZE)
    keep = KEEPS[how]
    kept = [(keep(x), positions(y)) for x, y in folder.batches(4, seed=1, resize=SIZE, workers=2)]
    addresses = churn(folder, resize=SIZE, workers=2)
    assert len(addresses) <= KEEP  # (arrays were used again: 18 batches in at most 3 arrays)
    for view, where in kept:
        assert np.array_equal(as_array(view), as_array(keep(images[where]))), how


def in_place_double(x: np.ndarray) -> np.ndarray:
    """A transform that changes the batch it is given and gives it back."""
    x *= 2
    return x


CONVERSIONS: dict[str, dict[str, Any]] = {
    "uint8": {"normalize": False},
    "mean and std": {"normalize": ([0.5, 0.4, 0.3], [0.2, 0.25, 0.3])},
    "NCHW": {"layout": "NCHW"},
    "one-hot": {"one_hot": True},
    "flattened": {"flatten": True},
    "transform giving the same array": {"transform": lambda x: x},
    "transform changing it in place": {"transform": in_place_double},
    "transform giving a view": {"transform": lambda x: x[..., ::-1]},
    "one thread": {"workers": 1},
}
PASSES: dict[str, dict[str, Any]] = {
    "in order": {"shuffle": False},
    "shuffled": {"seed": 7},
    "rank 1 of 3": {"seed": 7, "rank": 1, "world_size": 3},
    "rank 2 of 3, drop_last": {"seed": 7, "rank": 2, "world_size": 3, "drop_last": True},
}


@pytest.mark.parametrize("conversion", sorted(CONVERSIONS))
@pytest.mark.parametrize("kind", sorted(PASSES))
def test_batches_kept_in_a_list_stay_what_they_were(tmp_path, conversion, kind):
    """Every batch of a pass kept in a list equals the whole split converted alike (``arrays``) at its
    positions, once more passes have run over the split: conversions and passes of every kind."""
    folder = positions_folder(tmp_path, count=14)
    options = {"resize": SIZE, "workers": 2, **CONVERSIONS[conversion]}
    images, labels = reference(folder, **options)
    kept = [(x, y) for x, y in folder.batches(3, **PASSES[kind], **options)]
    churn(folder, **options)
    for x, y in kept:
        assert np.array_equal(x, images[positions(y)]) and np.array_equal(y, labels[positions(y)])


def test_grey_images_kept_as_pillow_images_stay_what_they_were(tmp_path):
    """A Pillow image made from a uint8 grey image of a batch shares its memory: it holds the batch."""
    folder = positions_folder(tmp_path, mode="L")
    images, _ = reference(folder, resize=SIZE, normalize=False)
    kept = [(Image.fromarray(x[1]), positions(y)[1]) for x, y in folder.batches(4, seed=2, resize=SIZE, normalize=False)]
    churn(folder, resize=SIZE, normalize=False)
    assert all(np.array_equal(np.asarray(im), images[where]) for im, where in kept)


def test_two_passes_over_one_split_interleaved_or_in_two_threads(tmp_path):
    """Two passes over the same split (sharing its arrays) taken in turns (``zip``), then two passes
    at once in two threads: every batch kept is what it was."""
    folder = positions_folder(tmp_path)
    images, _ = reference(folder, resize=SIZE)
    pairs = zip(folder.batches(4, seed=1, resize=SIZE), folder.batches(5, seed=2, resize=SIZE, workers=1))
    kept = [batch for pair in pairs for batch in pair]
    results: list[list[tuple[np.ndarray, np.ndarray]]] = [[], []]

    def one_pass(k: int) -> None:
        for _ in range(3):
            results[k] = [(x, y) for x, y in folder.batches(4, seed=k, resize=SIZE, workers=2)]

    threads = [threading.Thread(target=one_pass, args=(k,)) for k in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    churn(folder, resize=SIZE)
    for x, y in kept + results[0] + results[1]:
        assert np.array_equal(x, images[y])
    assert len(kept) == 10 and sorted(np.concatenate([y for _, y in results[0]])) == list(range(24))


def test_a_generator_holding_a_pass_and_a_pass_left_early(tmp_path):
    """A generator over a pass keeps every other batch, and is left half-way (its next batch started);
    a pass is dropped after one batch: new passes then run, and what was kept is what it was."""
    folder = positions_folder(tmp_path)
    images, _ = reference(folder, resize=SIZE, normalize=False)
    batches = ((x, y) for x, y in folder.batches(4, seed=3, resize=SIZE, normalize=False, workers=2))
    kept = [next(batches) for _ in range(3)][::2]
    left = folder.batches(4, seed=4, resize=SIZE, normalize=False, workers=2)
    kept.append(next(left))
    del left
    churn(folder, resize=SIZE, normalize=False)
    kept.append(next(batches))
    del batches
    churn(folder, resize=SIZE, normalize=False)
    assert len(kept) == 4 and all(np.array_equal(x, images[y]) for x, y in kept)


def test_the_arrays_kept_are_bounded_and_a_pickled_split_leaves_them_behind(tmp_path):
    """Passes holding nothing go round at most ``KEEP`` arrays of each kind, kept with the split; a
    pickle of the split carries none of them."""
    folder = positions_folder(tmp_path)
    size = (64, 64)  # (one batch of 4: 196 KB of float32)
    for _ in range(3):
        assert len(churn(folder, resize=size)) <= KEEP and len(churn(folder, resize=size, normalize=False)) <= KEEP
    pool = recycled(folder)
    assert 1 < len(pool.arrays) <= KEEP + 1  # (the probe, then the arrays kept)
    data = pickle.dumps(folder)
    assert len(data) < 10_000 and len(recycled(pickle.loads(data)).arrays) == 1


def cached_positions(data: Path, count: int = 24) -> tuple[ImageFolder, Any]:
    """A prepared split of PNG images whose labels are positions, and its decoded cache
    (``LabelledImages``) at 8 x 6."""
    folder = DataFolder(data)
    home = folder.dataset_dir("org.example.positions")
    for name in ("images", "index"):
        (home / name).mkdir(parents=True)
    for k in range(count):
        (home / "images" / f"{k}.png").write_bytes(image_bytes(noise(200 + k, 8 + k % 3, 6), format="PNG"))
    write_index(home / "index", "train", home / "images", [(f"{k}.png", k) for k in range(count)], workers=1)
    for name in ("images", "index"):
        files = {rel: hash_file(p) for rel, p in folder_files(home / name).items()}
        folder.record("org.example.positions", Entry.of_folder(name, files, verified_by="derived"))
    split = ImageFolder.from_index(home / "images", home / "index", "train", [f"c{k}" for k in range(count)])
    return split, split.cached(resize=(8, 6))


def test_batches_of_the_decoded_cache_kept_stay_what_they_were(env):
    """The decoded cache's float32 batches (scaled, standardised) come in arrays used again too:
    kept, they stay the whole cache converted alike at their positions."""
    _, cache = cached_positions(env.data)
    for normalize in (True, ([0.5, 0.4, 0.3], [0.2, 0.25, 0.3])):
        images, _ = cache.arrays(normalize=normalize)
        kept = [(x, y) for x, y in cache.batches(4, seed=1, normalize=normalize)]
        kept += [(x[:1], y[:1]) for x, y in cache.batches(5, seed=2, normalize=normalize)]
        for epoch in range(3):
            addresses = {x.__array_interface__["data"][0] for x, _ in cache.batches(4, seed=epoch, normalize=normalize)}
        assert len(addresses) <= KEEP  # (arrays were used again)
        assert all(np.array_equal(x, images[y]) for x, y in kept)


# -- batch arrays used again: torch ------------------------------------------------------------


def test_tensors_made_from_batches_hold_them(tmp_path):
    """``torch.from_numpy`` (or DLPack) of a batch, the batch then let go of: the tensor holds it."""
    torch = pytest.importorskip("torch", reason="torch is not installed: the torch adapter is not in use")
    folder = positions_folder(tmp_path)
    images, _ = reference(folder, resize=SIZE)
    kept = [(torch.from_numpy(x), y) for x, y in folder.batches(4, seed=5, resize=SIZE)]
    kept += [(torch.from_dlpack(x)[1:], y[1:]) for x, y in folder.batches(4, seed=6, resize=SIZE)]
    churn(folder, resize=SIZE)
    assert len(kept) == 12 and all(np.array_equal(t.numpy(), images[y]) for t, y in kept)


@pytest.mark.parametrize("workers", [0, 2])
def test_torch_loaders_of_a_folder_and_of_its_cache_keep_their_batches(env, workers):
    """The tensors of a ``DataLoader`` (in this process, or from two worker processes) over a folder
    or its decoded cache, converted in arrays used again (NHWC: no copy), stay what they were. The
    folder's dataset decodes a batch with its threads first: the workers, forks, start their own."""
    pytest.importorskip("torch", reason="torch is not installed: the torch adapter is not in use")
    folder, cache = cached_positions(env.data)
    images, _ = cache.arrays(normalize=True)
    for dataset in (cache.to_torch(layout="NHWC"), folder.to_torch(resize=(8, 6), layout="NHWC", workers=2)):
        assert np.array_equal(dataset[list(range(16))][0].numpy(), images[:16])
        kept = [(x, y) for x, y in dataset.loader(batch_size=8, shuffle=True, seed=3, num_workers=workers, timeout=20 * workers)]
        kept += [(x, y) for x, y in dataset.loader(batch_size=5, num_workers=workers, timeout=20 * workers)]
        assert len(kept) == 8 and all(np.array_equal(x.numpy(), images[y.numpy()]) for x, y in kept)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: DataLoader workers are spawned, and pickling gives them no threads")
def test_decoding_threads_started_before_a_fork_are_not_waited_for_in_the_child(tmp_path):
    """A ``DataLoader`` worker is a fork of the process, which may have decoded batches with its
    threads already: the child has none of those threads, and must start its own (it waited forever
    for work handed to its parent's threads)."""
    folder = positions_folder(tmp_path, count=16)
    decoder = Decoder(size=SIZE, workers=2)
    paths = folder.paths()
    expected = decoder.batch(paths)  # (16 images: the pool's threads decode them)
    child = multiprocessing.get_context("fork").Process(target=decode_and_compare, args=(decoder, paths, expected))
    child.start()
    child.join(timeout=20)
    if child.is_alive():
        child.kill()
        child.join()
    assert child.exitcode == 0


def decode_and_compare(decoder: Decoder, paths: list[Path], expected: np.ndarray) -> None:
    """In a forked child: decode the batch again, exit 0 when it is the same."""
    sys.exit(0 if np.array_equal(decoder.batch(paths), expected) else 1)


# -- the next batch decoded ahead --------------------------------------------------------------


def documented_order(n: int, seed: int, epoch: int, rank: int = 0, world_size: int = 1, drop_last: bool = False) -> list[int]:
    """The positions of a shuffled pass as the docs give them: ``default_rng([seed, epoch]).permutation(n)``,
    then (``loaders.sharding``) padded with its own first positions to a multiple of ``world_size``
    (cut down to one with ``drop_last``), every ``world_size``-th from ``rank``."""
    order = list(np.random.default_rng([seed, epoch]).permutation(n))
    total = n - n % world_size if drop_last else -(-n // world_size) * world_size
    order = (order + order[: total - n])[:total]
    return [int(p) for p in order[rank::world_size]]


@pytest.mark.parametrize("sharding", [{}, {"rank": 1, "world_size": 3}, {"rank": 0, "world_size": 5, "drop_last": True}])
def test_a_pass_visits_the_documented_order(tmp_path, sharding):
    """The images of a shuffled pass decoded ahead (this rank's share of it) come in the documented order."""
    folder = positions_folder(tmp_path, count=23)
    for epoch in (0, 1):
        seen = [int(p) for _, y in folder.batches(4, seed=9, epoch=epoch, resize=SIZE, workers=2, **sharding) for p in y]
        assert seen == documented_order(23, 9, epoch, **sharding)


def test_len_is_the_number_of_batches_given(tmp_path):
    """``len()`` of a pass decoded ahead is the number of batches it gives, whatever the split size,
    batch size, ``drop_last`` and ranks (more ranks than images too), and an empty split gives none."""
    for n in (0, 1, 2, 7, 12):
        for batch_size in (1, 3, 12, 50):
            for drop_last in (False, True):
                for world_size in (1, 3, 5):
                    for rank in {0, world_size - 1}:
                        passed = IndexBatches(
                            n, lambda where: where, batch_size=batch_size, seed=1, drop_last=drop_last, rank=rank,
                            world_size=world_size, start=lambda where: lambda: where,
                        )
                        expected = len(passed)
                        assert len(list(passed)) == expected
    (tmp_path / "empty").mkdir()
    write_index(tmp_path, "none", tmp_path / "empty", [])
    empty = ImageFolder.from_index(tmp_path / "empty", tmp_path, "none", ["a"])
    assert [len(empty.batches(4, **o)) for o in ({}, {"rank": 1, "world_size": 2})] == [0, 0]
    assert list(empty.batches(4, resize=SIZE)) == []
    folder = positions_folder(tmp_path / "few", count=5)
    whole = list(folder.batches(64, resize=SIZE, seed=1))
    assert len(whole) == 1 and sorted(whole[0][1].tolist()) == list(range(5))
    assert len(folder.batches(64, drop_last=True, resize=SIZE)) == 0 == len(list(folder.batches(64, drop_last=True)))


def outcomes(passed: Iterator[Any], catch: type[BaseException] = Exception) -> list[Any]:
    """Each batch of a pass, or the error raised for it (as text), asking for the next after an error."""
    results: list[Any] = []
    while True:
        try:
            results.append(next(passed))
        except StopIteration:
            return results
        except catch as e:
            results.append(f"{type(e).__name__}: {e}")


def test_an_error_starting_the_next_batch_comes_with_that_batch():
    """``start`` fails for batch 2 (called while batch 1 is handed over): batch 1 is given, batch 2
    raises, the pass goes on. It used to raise for batch 1, then give batch 1, and skip batch 2."""
    calls = []

    def start(where: slice) -> Callable[[], list[int]]:
        calls.append(where.start)
        if where.start == 8:
            raise ValueError("cannot start batch 2")
        return lambda: list(range(20))[where]

    passed = IndexBatches(20, lambda where: list(range(20))[where], batch_size=4, shuffle=False, start=start)
    assert outcomes(passed) == [
        [0, 1, 2, 3], [4, 5, 6, 7], "ValueError: cannot start batch 2", [12, 13, 14, 15], [16, 17, 18, 19]
    ]
    assert calls == [0, 4, 8, 12, 16]


def test_a_bad_image_fails_its_own_batch_of_a_shuffled_sharded_pass(tmp_path):
    """The batch holding a damaged image (rank 1 of 2, shuffled) raises its one-line error when its
    turn comes; the batches before and after it are given, right."""
    folder = positions_folder(tmp_path, count=23)
    images, _ = reference(folder, resize=SIZE)
    order = documented_order(23, 4, 0, rank=1, world_size=2)
    bad = order[5]  # (batch 1 of batches of 3)
    folder.paths()[bad].write_bytes(b"\x89PNG\r\n\x1a\n damaged")
    results = outcomes(folder.batches(3, seed=4, rank=1, world_size=2, resize=SIZE, workers=2))
    assert len(results) == 4 and results[1].startswith(f"FormatError: {folder.paths()[bad]}: not a readable image (")
    for k in (0, 2, 3):
        x, y = results[k]
        assert y.tolist() == order[3 * k : 3 * k + 3] and np.array_equal(x, images[y])


def test_transform_errors_and_interrupts_come_with_their_batch(tmp_path):
    """``transform`` raising in batch 2 (an error, or KeyboardInterrupt, which is not caught nor
    wrapped): batch 2 raises it as it is, the others are given right, the pass can go on."""
    folder = positions_folder(tmp_path, count=18)
    images, _ = reference(folder, resize=SIZE)
    for error in (ValueError("no batch 2"), KeyboardInterrupt("stop at batch 2")):
        calls = [0]

        def transform(x: np.ndarray, error: BaseException = error, calls: list[int] = calls) -> np.ndarray:
            calls[0] += 1
            if calls[0] == 3:
                raise error
            return x

        passed = folder.batches(4, seed=1, resize=SIZE, transform=transform, workers=2)
        results = outcomes(passed, catch=type(error))
        assert len(results) == 5 and results[2] == f"{type(error).__name__}: {error}"
        given = [r for r in results if not isinstance(r, str)]
        assert all(np.array_equal(x, images[y]) for x, y in given) and len(given) == 4


def test_a_pass_left_early_finishes_unseen(tmp_path):
    """A pass dropped after one batch, whose next batch (started) holds a damaged image: nothing is
    reported anywhere (no thread error, no error at collection), its decoder goes, the batch taken
    stays what it was."""
    folder = positions_folder(tmp_path, count=16)
    images, _ = reference(folder, resize=SIZE)
    whole = folder.paths()[5].read_bytes()
    folder.paths()[5].write_bytes(b"\xff\xd8\xff damaged")
    reported: list[Any] = []
    hooks = threading.excepthook, sys.unraisablehook
    threading.excepthook, sys.unraisablehook = reported.append, reported.append
    try:
        left = folder.batches(4, shuffle=False, resize=SIZE, workers=2)
        x, y = next(left)
        decoder = weakref.ref(left.start.__self__.decoder)  # type: ignore[attr-defined]
        del left
        for _ in range(200):
            gc.collect()
            if decoder() is None:
                break
            time.sleep(0.01)
        folder.paths()[5].write_bytes(whole)
        churn(folder, resize=SIZE)
    finally:
        threading.excepthook, sys.unraisablehook = hooks
    assert decoder() is None and reported == []
    assert y.tolist() == [0, 1, 2, 3] and np.array_equal(x, images[:4])
