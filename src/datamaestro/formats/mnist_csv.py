"""Datumaro's ``mnist_csv`` layout: ``mnist_<subset>.csv``, one image a row.

Each row: the label, then the 784 pixel values (0..255) of a 28x28 image,
comma-separated, no header (a first row whose label is not a number is taken
for a header and skipped, as Datumaro does). Label -1 means "no label".
``labels.txt`` / ``dataset_meta.json`` name the classes; Datumaro's
``meta_<subset>.csv`` extension gives item ids and image sizes. Rows holding
only a label are an export without media (Datumaro's default): labelled
items without pixels. Datumaro takes the subset from what follows the last
``_`` of the file name, so subset names with ``_`` are written with ``-``.

Parsing is vectorised with numpy; a row-by-row pass runs only to report the
exact row and column of a problem, or for files with unusual content.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats import idx
from datamaestro.formats.dataset import (
    NO_LABEL,
    Dataset,
    Subset,
    default_categories,
    read_label_names,
    to_grey,
    to_grey_stack,
    write_label_names,
)
from datamaestro.log import log
from datamaestro.paths import printable

NAME = "mnist_csv"
IMAGE_SIZE = 28
PIXELS = IMAGE_SIZE * IMAGE_SIZE


def subset_files(folder: Path) -> dict[str, Path]:
    """The CSV file of each subset in ``folder`` (``mnist_train.csv`` -> ``train``)."""
    files = sorted(p for p in folder.glob("*.csv") if "mnist_" in p.name and p.is_file())
    # Datumaro keeps what follows the last '_'; the whole rest keeps 'data_batch_1' whole
    return {p.stem.split("mnist_", 1)[1] or p.stem: p for p in files}


def read(folder: Path) -> Dataset:
    """Read the ``mnist_csv`` layout in ``folder``."""
    folder = Path(folder)
    files = subset_files(folder) if folder.is_dir() else {}
    if not files:
        raise FormatError(f"{folder}: no 'mnist_<subset>.csv' file: not the mnist_csv layout")
    categories = read_label_names(folder) or default_categories()
    subsets = {}
    for subset, path in files.items():
        meta = _read_meta(folder / f"meta_{subset}.csv")
        subsets[subset] = read_file(path, meta, len(categories))
    return Dataset(subsets, categories)


def _read_meta(path: Path) -> Optional[list[list[str]]]:
    if not path.is_file():
        return None
    return [line.strip().split(",") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_file(path: Path, meta: Optional[list[list[str]]] = None, categories: Optional[int] = None) -> Subset:
    """The images, labels (and ids from ``meta``) of one CSV file; labels checked against ``categories``."""
    path = Path(path)
    data = path.read_bytes()
    header = 0
    first_line = data[: data.find(b"\n")] if b"\n" in data else data
    first_label = first_line.split(b",", 1)[0].strip()
    if first_label and not first_label.lstrip(b"-").isdigit():
        header = 1  # a header row, skipped as Datumaro does
        data = data[len(first_line) + 1 :]
    sizes = None
    ids = None
    if meta is not None:
        if meta and len(meta[0]) in (1, 3):
            ids = [row[0] for row in meta]
        if meta and len(meta[0]) >= 2:
            sizes = [(int(row[-2]), int(row[-1])) for row in meta]
    if _label_only(data):
        labels = _parse_labels(data, path, header)
        if ids is not None and len(ids) != len(labels):
            raise FormatError(f"{path}: {len(labels)} rows but its meta file lists {len(ids)} items")
        _check_labels(labels, path, header, categories)
        return Subset(None, labels, ids)
    parsed = None if sizes is not None else _parse_fast(data)
    if parsed is None:
        labels, rows = _parse_rows(data, path, header, sizes)
        if sizes is None:
            images: np.ndarray | list = np.array(rows, dtype=np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
        else:
            images = [np.array(r, dtype=np.uint8).reshape(s) for r, s in zip(rows, sizes)]
    else:
        labels, pixels = parsed
        images = pixels.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    if ids is not None and len(ids) != len(labels):
        raise FormatError(f"{path}: {len(labels)} rows but its meta file lists {len(ids)} items")
    _check_labels(labels, path, header, categories)
    return Subset(images, labels, ids)


def _check_labels(labels: np.ndarray, path: Path, header: int, categories: Optional[int]) -> None:
    if categories is None:
        return
    bad = (labels < NO_LABEL) | (labels >= categories)
    if bad.any():
        i = int(np.argmax(bad))
        raise FormatError(
            f"{path}: row {i + 1 + header}: label {int(labels[i])} is outside the "
            f"label list (0..{categories - 1}); add the class names to labels.txt"
        )


def _label_only(data: bytes) -> bool:
    """Whether the CSV rows hold no pixels: the first data row has one value."""
    first = data.lstrip(b"\r\n").split(b"\n", 1)[0].strip()
    return bool(first) and b"," not in first


def _parse_labels(data: bytes, path: Path, header: int) -> np.ndarray:
    """The labels of rows holding a label and nothing else."""
    lines = data.decode("utf-8", errors="replace").replace("\r", "").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    labels = []
    for i, line in enumerate(lines):
        text = line.strip()
        if "," in text:
            raise FormatError(
                f"{path}: row {i + 1 + header}: pixel values, but the first row has none; "
                "either every row has its pixels or none has"
            )
        try:
            labels.append(int(text))
        except ValueError:
            raise FormatError(f"{path}: row {i + 1 + header}, column 1: label {text!r} is not an integer") from None
    return np.array(labels, dtype=np.int64)


CHUNK_ROWS = 4096


def _parse_fast(data: bytes) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """Labels and (N, 784) uint8 pixels of well-formed CSV bytes; None if anything is unusual."""
    if b"\r" in data:
        data = data.replace(b"\r", b"")
    data = data.rstrip(b"\n")
    if not data:
        return np.zeros(0, np.int64), np.zeros((0, PIXELS), np.uint8)
    buf = np.frombuffer(data, dtype=np.uint8)
    line_ends = np.flatnonzero(buf == ord("\n"))
    bounds = np.concatenate([[-1], line_ends, [len(buf)]])
    rows = len(bounds) - 1
    labels = np.empty(rows, np.int64)
    pixels = np.empty((rows, PIXELS), np.uint8)
    for first in range(0, rows, CHUNK_ROWS):
        last = min(first + CHUNK_ROWS, rows)
        lo, hi = int(bounds[first]) + 1, int(bounds[last])
        parsed = _parse_chunk(buf[lo:hi], last - first)
        if parsed is None:
            return None
        labels[first:last], pixels[first:last] = parsed
    return labels, pixels


def _parse_chunk(buf: np.ndarray, rows: int) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """Parse ``rows`` complete lines of digits and commas (no trailing newline)."""
    is_sep = (buf == ord(",")) | (buf == ord("\n"))
    digit = buf - np.uint8(ord("0"))
    minus = buf == ord("-")  # only in labels such as -1 ("no label")
    if not ((digit <= 9) | is_sep | minus).all():
        return None
    seps = np.flatnonzero(is_sep).astype(np.int32)
    width = PIXELS + 1
    if len(seps) + 1 != rows * width:
        return None
    starts = np.empty(len(seps) + 1, np.int32)
    starts[0] = 0
    starts[1:] = seps + 1
    ends = np.empty_like(starts)
    ends[:-1] = seps
    ends[-1] = len(buf)
    lengths = ends - starts
    if lengths.min() < 1 or lengths.max() > 3:
        return None
    newline_tokens = np.flatnonzero(buf[seps] == ord("\n"))
    if len(newline_tokens) != rows - 1 or (newline_tokens % width != width - 1).any():
        return None
    top = len(buf) - 1
    negative = None
    if minus.any():
        negative = minus[starts]
        tokens = np.flatnonzero(negative)
        if minus.sum() != len(tokens) or (tokens % width).any() or (lengths[tokens] != 2).any():
            return None  # a '-' elsewhere than in a one-digit negative label
        digit = digit.copy()
        digit[starts[tokens]] = 0
    d0 = digit[starts].astype(np.int16)
    d1 = digit[np.minimum(starts + 1, top)].astype(np.int16)
    d2 = digit[np.minimum(starts + 2, top)].astype(np.int16)
    values = np.where(lengths == 1, d0, np.where(lengths == 2, d0 * 10 + d1, d0 * 100 + d1 * 10 + d2))
    if negative is not None:
        values = np.where(negative, -values, values)
    table = values.reshape(rows, width)
    if table[:, 1:].max() > 255 or table[:, 1:].min() < 0:
        return None
    return table[:, 0].astype(np.int64), table[:, 1:].astype(np.uint8)


def _parse_rows(
    data: bytes, path: Path, header: int, sizes: Optional[list[tuple[int, int]]]
) -> tuple[np.ndarray, list[list[int]]]:
    """Row-by-row parse, raising with the exact row and column of a bad value."""
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if sizes is not None and len(sizes) != len(lines):
        raise FormatError(f"{path}: {len(lines)} rows but its meta file gives {len(sizes)} image sizes")
    labels: list[int] = []
    rows: list[list[int]] = []
    for i, line in enumerate(lines):
        row_no = i + 1 + header
        fields = line.strip().split(",")
        expected = PIXELS if sizes is None else sizes[i][0] * sizes[i][1]
        if len(fields) != expected + 1:
            raise FormatError(
                f"{path}: row {row_no}: {len(fields)} values, expected {expected + 1} "
                f"(a label then {expected} pixels)"
            )
        try:
            labels.append(int(fields[0]))
        except ValueError:
            raise FormatError(f"{path}: row {row_no}, column 1: label {fields[0]!r} is not an integer") from None
        pixels = []
        for column, field in enumerate(fields[1:], start=2):
            try:
                value = int(field)
            except ValueError:
                raise FormatError(
                    f"{path}: row {row_no}, column {column}: pixel value {field!r} is not an integer"
                ) from None
            if not 0 <= value <= 255:
                raise FormatError(
                    f"{path}: row {row_no}, column {column}: pixel value {value} is outside 0..255"
                )
            pixels.append(value)
        rows.append(pixels)
    return np.array(labels, dtype=np.int64), rows


def file_subset(name: str) -> str:
    """The subset name as written in file names: Datumaro cuts at the last ``_``, so ``_`` becomes ``-``."""
    return name.replace("_", "-")


def write(
    dataset: Dataset, folder: Path, *, save_dataset_meta: bool = False, save_media: bool = True, **_: object
) -> None:
    """Write ``dataset`` in the ``mnist_csv`` layout into the (existing, empty) ``folder``.

    Without media (``save_media=False``, or items without pixels) each row is
    the label alone, as Datumaro writes it.
    """
    folder = Path(folder)
    for subset_name, subset in dataset:
        name = file_subset(subset_name)
        if name != subset_name:
            log.warning(
                "subset '%s' is written as mnist_%s.csv: Datumaro reads a mnist_csv subset name up to "
                "the last '_', so it is read back as subset '%s'", printable(subset_name), printable(name), printable(name),
            )
        ids = None if subset.default_ids() else subset.item_ids()
        if not (save_media and subset.images is not None):
            text = "".join(f"{int(label)}\n" for label in subset.labels.tolist())
            (folder / f"mnist_{name}.csv").write_text(text, encoding="utf-8")
            if len(subset) and ids is not None:
                (folder / f"meta_{name}.csv").write_text("".join(f"{x}\n" for x in ids), encoding="utf-8")
            continue
        images = subset.images
        if isinstance(images, np.ndarray) and images.ndim == 4 or not isinstance(images, np.ndarray) and any(
            im.ndim == 3 for im in images
        ):
            log.info("subset '%s': colour images converted to grey for the mnist_csv layout", printable(name))
        grey: np.ndarray | list[np.ndarray]
        if isinstance(images, np.ndarray):
            grey = images if images.ndim == 3 else to_grey_stack(images)
        else:
            grey = [to_grey(im) for im in images]
        path = folder / f"mnist_{name}.csv"
        sizes = None
        stacked = grey if isinstance(grey, np.ndarray) else (
            np.stack(grey) if grey and all(g.shape == grey[0].shape for g in grey) else None
        )
        with open(path, "wb") as f:
            if stacked is not None and len(stacked):
                if stacked.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
                    sizes = [stacked.shape[1:]] * len(stacked)
                f.write(format_rows(subset.labels, stacked.reshape(len(stacked), -1)))
            else:
                sizes = [g.shape for g in grey] or None
                for label, image in zip(subset.labels, grey):
                    f.write((",".join(map(str, [int(label), *image.reshape(-1).tolist()])) + "\n").encode())
        if len(subset) and (ids is not None or sizes is not None):
            lines = []
            for i in range(len(subset)):
                row = [] if ids is None else [ids[i]]
                if sizes is not None:
                    row += [str(sizes[i][0]), str(sizes[i][1])]
                lines.append(",".join(row) + "\n")
            (folder / f"meta_{name}.csv").write_text("".join(lines), encoding="utf-8")
    write_label_names(folder, dataset.categories, save_dataset_meta=save_dataset_meta)


def format_rows(labels: np.ndarray, pixels: np.ndarray) -> bytes:
    """CSV bytes of rows ``label,p1,...,pn`` (vectorised through a table of padded numbers)."""
    labels = np.asarray(labels, np.int64)
    low = int(min(labels.min(initial=0), 0))
    high = int(max(labels.max(initial=0), 255))
    texts = [str(v).encode() + b"," for v in range(low, high + 1)]
    width = 4 if max(len(t) for t in texts) <= 4 else 8  # gathered as one uint32/uint64 each
    table = np.zeros((len(texts), width), dtype=np.uint8)  # right-aligned, 0 = padding
    for i, t in enumerate(texts):
        table[i, width - len(t):] = np.frombuffer(t, np.uint8)
    words = table.view(np.uint32 if width == 4 else np.uint64).reshape(-1)
    parts = []
    for first in range(0, len(labels), CHUNK_ROWS):
        last = min(first + CHUNK_ROWS, len(labels))
        codes = np.empty((last - first, pixels.shape[1] + 1), np.int64)
        codes[:, 0] = labels[first:last]
        codes[:, 1:] = pixels[first:last]
        codes -= low
        out = words[codes].view(np.uint8).reshape(last - first, -1)
        out[:, -1] = ord("\n")
        flat = out.reshape(-1)
        parts.append(flat[flat != 0].tobytes())
    return b"".join(parts)


# --- prepare time: CSV files as memory-mappable IDX files ---------------------------

def csv_to_idx(csv: Path, out: Path, prefix: str, categories: int = 10) -> None:
    """Write ``<prefix>_images.idx`` (N, 28, 28) and ``<prefix>_labels.idx`` (N,) uint8 from one CSV file."""
    csv = Path(csv)
    subset = read_file(csv, categories=categories)
    if (subset.labels < 0).any():
        raise FormatError(f"{csv}: row {int(np.argmax(subset.labels < 0)) + 1}: an item without label (-1)")
    idx.write(Path(out) / f"{prefix}_images.idx", np.asarray(subset.images, dtype=np.uint8))
    idx.write(Path(out) / f"{prefix}_labels.idx", subset.labels.astype(np.uint8))
