"""The data folder: where prepared datasets, manifests and partial downloads live.

Layout under the data folder::

    datasets/<id>/<file>             prepared files, each complete and verified
    datasets/<id>/.manifest.json     what was prepared: sizes, sha256, sources
    downloads/<id>/<file>.part       downloads in progress, never read as data
    downloads/<id>/<file>.part.json  the URL a partial download comes from
    locks/<id>.lock                  held while a process prepares or removes <id>
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

from datamaestro.errors import DatamaestroError

log = logging.getLogger("datamaestro")

MANIFEST = ".manifest.json"
#: errno values meaning "the disk (or the quota, or the file size limit) is full"
DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


class StorageError(DatamaestroError):
    """The data folder cannot be written (disk full, file too large, permissions)."""


def disk_error(error: OSError) -> bool:
    """Whether ``error`` means that the disk or a quota is full."""
    return error.errno in DISK_FULL


class DataFolder:
    """Paths and atomic writes inside one data folder."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def dataset_dir(self, dataset_id: str) -> Path:
        """The folder holding the prepared files of ``dataset_id``."""
        return self.root / "datasets" / dataset_id

    def download_dir(self, dataset_id: str) -> Path:
        """The folder holding partial downloads of ``dataset_id``."""
        return self.root / "downloads" / dataset_id

    def manifest_path(self, dataset_id: str) -> Path:
        return self.dataset_dir(dataset_id) / MANIFEST

    def lock_path(self, dataset_id: str) -> Path:
        return self.root / "locks" / f"{dataset_id}.lock"

    @contextmanager
    def lock(self, dataset_id: str, blocking: bool = True) -> Iterator[bool]:
        """Hold the lock of ``dataset_id`` (an OS file lock, released if the process dies).

        Yields True when held; with ``blocking=False`` yields False at once
        when another process holds it.
        """
        from filelock import FileLock, Timeout

        path = self.lock_path(dataset_id)
        lock = FileLock(str(path), thread_local=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock.acquire(timeout=0)
        except Timeout:
            if not blocking:
                yield False
                return
            log.info("%s: another process is preparing it; waiting (lock %s)", dataset_id, path)
            lock.acquire()
        except OSError as e:
            raise StorageError(
                f"cannot lock {dataset_id}: {path}: {e.strerror or e}; "
                "the data folder must be writable"
            ) from None
        try:
            yield True
        finally:
            lock.release()

    def prepared_ids(self) -> list[str]:
        """The ids that have a manifest in this data folder, sorted."""
        datasets = self.root / "datasets"
        if not datasets.is_dir():
            return []
        return sorted(p.parent.name for p in datasets.glob(f"*/{MANIFEST}"))

    def temporaries(self, dataset_id: str) -> list[Path]:
        """Temporary files and folders of atomic writes in a dataset folder.

        Whoever holds the dataset's lock may delete them: they are left over
        by a process that was killed while writing.
        """
        directory = self.dataset_dir(dataset_id)
        return sorted(directory.glob(".*.tmp")) if directory.is_dir() else []

    def partial_files(self, dataset_id: Optional[str] = None) -> list[Path]:
        """Partial downloads (and their ``.part.json`` notes) of one or every dataset."""
        base = self.download_dir(dataset_id) if dataset_id else self.root / "downloads"
        if not base.is_dir():
            return []
        return sorted(p for p in base.rglob("*") if p.is_file())

    def read_manifest(self, dataset_id: str) -> dict[str, Any]:
        """The manifest of ``dataset_id`` ({} when nothing was prepared)."""
        try:
            with open(self.manifest_path(dataset_id), encoding="utf-8") as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def record(self, dataset_id: str, name: str, entry: dict[str, Any]) -> None:
        """Add or replace the manifest entry of one prepared file."""
        manifest = self.read_manifest(dataset_id) or {"id": dataset_id, "files": {}}
        if manifest["files"].get(name) == entry:
            return  # unchanged: the manifest stays byte-identical
        manifest["files"][name] = entry
        manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with atomic_file(self.manifest_path(dataset_id)) as f:
            f.write(json.dumps(manifest, indent=2, sort_keys=True).encode())


@contextmanager
def atomic_file(dest: Path) -> Iterator[Any]:
    """Open a temporary file beside ``dest``; it replaces ``dest`` only on success."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), 0o666 & ~umask())  # mkstemp makes 0600
        os.replace(tmp, dest)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        if disk_error(e):
            raise StorageError(
                f"cannot write {dest}: {e.strerror}; free some space and run again "
                "(nothing prepared before was changed)"
            ) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_folder(new: Path, dest: Path) -> None:
    """Put the folder ``new`` at ``dest`` with the umask's permissions; an old
    ``dest`` is set aside first and removed last, so that until the new one is in
    place the old one survives."""
    os.chmod(new, 0o777 & ~umask())  # mkdtemp makes 0700
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".old.tmp"))
        os.replace(dest, old / dest.name)
    try:
        os.replace(new, dest)
    except BaseException:
        if old is not None:
            os.replace(old / dest.name, dest)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def umask() -> int:
    """The process's umask (read once: reading it means setting it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def disk_usage(path: Path) -> int:
    """Bytes used by a file or by every file under a folder (0 when missing)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def remove(path: Path) -> int:
    """Delete a file or a folder tree; returns the bytes it used."""
    size = disk_usage(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    return size


def human_size(n: int) -> str:
    """``n`` bytes as a short human-readable size (1024-based)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
