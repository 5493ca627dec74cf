"""Decoded caches of image folder splits: every image decoded and resized once, then read as an array.

``ImageFolder.cached(resize=(H, W))`` decodes the split once (as ``batches``
does, by a pool of threads) into an uncompressed uint8 ``.npy`` file of shape
``(N, H, W, 3)`` (or ``(N, H, W)``) in the folder of the dataset the split
belongs to, and returns a ``LabelledImages`` whose images are that file,
memory-mapped: later passes run at array speed. The file is a resource of the
dataset's folder like any other (``datamaestro.storage.DataFolder``): built in
staging, recorded in the manifest with its size and sha256 (``verified_by``
"derived", ``derived_from`` the index and image resources), then renamed into
place, under the dataset's lock. So ``datamaestro verify ID`` hashes it,
``datamaestro rm ID`` removes it with the rest, and ``clean`` leaves it alone.

Its name says what it holds and a key of everything its content depends on
(the index, the image root, size, mode, interpolation, draft): another
resize gets another file, and a dataset prepared again (a new index) a new
one. On every open the file's size is checked against its record and the
array's header against the expected shape; a cache that fails (truncated,
unrecorded, another shape) is decoded again, never used. A changed byte
inside it keeps its size: only ``verify`` (which hashes) finds that.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Optional

import numpy as np

from datamaestro.data.folder import ImageFolder
from datamaestro.data.images import LabelledImages
from datamaestro.data.npy import NPY
from datamaestro.errors import UsageError
from datamaestro.hashing import FileHash, Hashers
from datamaestro.loaders.decoding import MODES, Decoder
from datamaestro.log import log
from datamaestro.manifest import MANIFEST, Entry
from datamaestro.paths import open_inside
from datamaestro.storage import CACHE_PREFIX, DataFolder, StorageError, disk_error, human_size

#: images decoded at a time when a cache is built
CHUNK = 256


def dataset_home(split: ImageFolder) -> tuple[DataFolder, str]:
    """The data folder and dataset id whose folder holds the split's index (``datasets/<id>/...``)."""
    for parent in split.files.parents:
        if parent.parent.name == "datasets" and (parent / MANIFEST).is_file():
            return DataFolder(parent.parent.parent), parent.name
    raise UsageError(
        f"{split.files}: a decoded cache is kept in the folder of a prepared dataset, and this index is "
        "not in one; use batches(resize=...) instead"
    )


def cache_name(split: ImageFolder, dataset_dir: Path, size: tuple[int, int], interpolation: str, draft: bool) -> str:
    """The resource name of the decoded cache of ``split`` at ``size`` ((height, width))."""
    index = Hashers(("sha256",))
    index.update(split.files.read_bytes())
    root = split.root.relative_to(dataset_dir).as_posix() if split.root.is_relative_to(dataset_dir) else str(split.root)
    key = Hashers(("sha256",))
    key.update(json.dumps([
        split.files.relative_to(dataset_dir).as_posix(), root, index.hexdigests()["sha256"],
        list(size), split.mode, interpolation, draft,
    ]).encode())
    digest = key.hexdigests()["sha256"]
    return f"{CACHE_PREFIX}{split.files.stem}-{size[0]}x{size[1]}-{split.mode}-{digest[:12]}.npy"


def npy_header(shape: tuple[int, ...]) -> bytes:
    """The ``.npy`` header of a C-ordered uint8 array of ``shape``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "|u1", "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def cache_problem(folder: DataFolder, dataset_id: str, name: str, shape: tuple[int, ...]) -> str:
    """Why the cache ``name`` cannot be used as it is ('' when it can): missing, unrecorded, or not
    of its recorded or expected size."""
    path = folder.resource_path(dataset_id, name)
    if not path.exists():
        return "missing"
    entry = folder.manifest(dataset_id).entries.get(name)
    expected = len(npy_header(shape)) + int(np.prod(shape))
    if entry is None or entry.kind != "file":
        return "not recorded in the manifest"
    if path.is_symlink() or not path.is_file():
        return "not a file"
    size = path.stat().st_size
    if size != entry.size or size != expected:
        return f"{size} bytes, recorded {entry.size}, expected {expected}"
    with open(path, "rb") as f:
        if f.read(len(npy_header(shape))) != npy_header(shape):
            return "not the array header expected"
    return ""


def cached(
    split: ImageFolder,
    size: tuple[int, int],
    *,
    interpolation: str = "bilinear",
    draft: bool = True,
    workers: Optional[int] = None,
    max_pixels: Optional[int] = None,
) -> LabelledImages:
    """The split decoded once at ``size`` ((height, width)) into a memory-mapped array in its dataset's
    folder (built or rebuilt when missing or damaged), as a ``LabelledImages`` with the split's labels."""
    folder, dataset_id = dataset_home(split)
    channels = MODES[split.mode]
    shape = (len(split), *size, *([channels] if channels else []))
    name = cache_name(split, folder.dataset_dir(dataset_id), size, interpolation, draft)
    if cache_problem(folder, dataset_id, name, shape):
        with folder.lock(dataset_id):
            problem = cache_problem(folder, dataset_id, name, shape)  # (another process may have built it)
            if problem:
                if problem != "missing":
                    log.warning("%s: the decoded cache %s is damaged (%s): decoding it again", dataset_id, name, problem)
                decoder = Decoder(split.mode, size, interpolation, workers, max_pixels, draft)
                try:
                    build(folder, dataset_id, name, split, decoder, shape)
                finally:
                    decoder.close()
    path = folder.resource_path(dataset_id, name)
    return LabelledImages(images=NPY(path=path), labels=split.labels, categories=split.categories)


def build(folder: DataFolder, dataset_id: str, name: str, split: ImageFolder, decoder: Decoder, shape: tuple[int, ...]) -> None:
    """Decode ``split`` into the cache ``name``: written in staging, recorded, then renamed into place."""
    staging = folder.staging(dataset_id, name)
    try:
        staged = staging / name
        hashers = Hashers(("sha256",))
        header = npy_header(shape)
        paths = split.paths()
        try:
            with open_inside(folder.root, staged, "x") as out:
                out.write(header)
                hashers.update(header)
                for start in range(0, len(paths), CHUNK):
                    chunk = decoder.batch(paths[start : start + CHUNK], where=str(split.root)).data.cast("B")
                    out.write(chunk)
                    hashers.update(chunk)
        except OSError as e:
            if disk_error(e):
                needed = human_size(len(header) + int(np.prod(shape)))
                dest = folder.resource_path(dataset_id, name)
                raise StorageError(f"cannot write the decoded cache {dest}: {e.strerror}; it needs {needed}: free some space") from None
            raise
        content = FileHash(staged.stat().st_size, hashers.hexdigests()["sha256"])
        dataset_dir = folder.dataset_dir(dataset_id)
        sources = sorted({p.relative_to(dataset_dir).parts[0] for p in (split.files, split.root) if p.is_relative_to(dataset_dir)})
        folder.record(dataset_id, Entry.of_file(name, content, verified_by="derived", derived_from=sources))
        folder.put_in_place(staged, dataset_id, name)
    finally:
        folder.remove(staging)
