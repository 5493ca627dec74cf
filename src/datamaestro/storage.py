"""The data folder: where prepared datasets, manifests and partial downloads live.

Layout under the data folder::

    datasets/<id>/<name>             prepared resources (files or folders), each complete and verified
    datasets/<id>/.manifest.json     what is in place: kind, sizes, sha256 (per file), sources, verifier
    datasets/<id>/.<name>.*.tmp      staging: a resource being built (removed by the next run)
    downloads/<id>/<name>.part       downloads in progress, never read as data
    downloads/<id>/<name>.part.json  the URL a partial download comes from, and its validator
    locks/<id>.lock                  held while a process prepares or removes <id>
"""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from datamaestro.errors import DatamaestroError, DownloadError, UnsafePathError
from datamaestro.hashing import FileHash, Hashers
from datamaestro.log import log
from datamaestro.manifest import MANIFEST, CorruptManifest, Entry, Manifest
from datamaestro.paths import (
    OPEN_FOLDER,
    id_problem,
    inside,
    is_valid_id,
    name_problem,
    open_at,
    open_folder,
    open_inside,
    printable,
    read_inside,
)

#: how the names of decoded caches begin (``datamaestro.loaders.cache``): recorded files that no
#: definition declares, rebuilt when next used
CACHE_PREFIX = "decoded-"
#: what ``downloads/<id>/`` may hold: partial downloads and their notes
PARTIAL_SUFFIXES = (".part", ".part.json", ".part.segments")
#: a manifest larger than this (bytes) is not one datamaestro wrote (a million files take about 150 MB)
MAX_MANIFEST = 1 << 29
#: errno values meaning "the disk (or the quota, or the file size limit) is full"
DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


class StorageError(DatamaestroError):
    """The data folder cannot be written (disk full, file too large, permissions)."""


class NotReusable(DatamaestroError):
    """A folder of another dataset is not what its record says (a file missing, changed, added, a link):
    it is not reused."""


@dataclass(frozen=True, slots=True)
class Unpacked:
    """A folder that another dataset unpacked from an archive, and its manifest entry."""

    dataset_id: str
    path: Path
    entry: Entry


def disk_error(error: OSError) -> bool:
    """Whether ``error`` means that the disk or a quota is full."""
    return error.errno in DISK_FULL


#: what ``ignored`` has already said in this process (each planted file is named once)
_said: set[str] = set()


def ignored(error: UnsafePathError, consequence: str) -> None:
    """Warn, once per process, that ``read_inside`` refused a file (``error``), and say what follows."""
    line = f"{error}; {consequence}"
    if line not in _said:
        _said.add(line)
        log.warning("%s", line)


class DataFolder:
    """Paths, locks, manifests and deletions inside one data folder.

    Every path it hands out is built from a checked id (``paths.is_valid_id``)
    and resource name (``paths.is_valid_name``) and resolved inside the data
    folder (``paths.inside``): a symlink leading out of it makes the operation
    fail instead of touching what lies outside.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self.manifest_lock = threading.Lock()

    def _checked_id(self, dataset_id: str) -> str:
        problem = id_problem(dataset_id)
        if problem:
            raise UnsafePathError(problem)
        return dataset_id

    def _under(self, *parts: str) -> Path:
        """``root/parts...``, refused unless it resolves inside the data folder."""
        path = self.root.joinpath(*parts)
        inside(self.root, path)
        return path

    def dataset_dir(self, dataset_id: str) -> Path:
        """The folder holding the prepared files of ``dataset_id``."""
        return self._under("datasets", self._checked_id(dataset_id))

    def resource_path(self, dataset_id: str, name: str) -> Path:
        """Where the prepared resource ``name`` of ``dataset_id`` lives."""
        problem = name_problem(name)
        if problem:
            raise UnsafePathError(problem)
        return self._under("datasets", self._checked_id(dataset_id), name)

    def download_dir(self, dataset_id: str) -> Path:
        """The folder holding partial downloads of ``dataset_id``."""
        return self._under("downloads", self._checked_id(dataset_id))

    def manifest_path(self, dataset_id: str) -> Path:
        return self._under("datasets", self._checked_id(dataset_id), MANIFEST)

    def lock_path(self, dataset_id: str) -> Path:
        return self._under("locks", f"{self._checked_id(dataset_id)}.lock")

    def staging(self, dataset_id: str, name: str) -> Path:
        """A new empty folder in the dataset folder, where ``name`` is built before being renamed in."""
        directory = self.dataset_dir(dataset_id)
        directory.mkdir(parents=True, exist_ok=True)
        inside(self.root, directory)
        return Path(tempfile.mkdtemp(dir=directory, prefix=f".{name}.", suffix=".tmp"))

    def put_in_place(self, staged: Path, dataset_id: str, name: str) -> Path:
        """Rename the staged file or folder ``staged`` to resource ``name`` (replacing the old one)."""
        dest = self.resource_path(dataset_id, name)
        inside(self.root, staged)
        if staged.is_dir():
            replace_folder(staged, dest)
        else:
            os.chmod(staged, 0o666 & ~umask())
            os.replace(staged, dest)
        return dest

    @contextmanager
    def lock(self, dataset_id: str, blocking: bool = True) -> Iterator[bool]:
        """Hold the lock of ``dataset_id`` (an OS file lock, released if the process dies).

        Yields True when held; with ``blocking=False`` yields False at once
        when another process holds it. The lock file is opened like every file
        datamaestro writes (``paths.open_inside``): a link planted there is refused.
        """
        path = self.lock_path(dataset_id)
        try:
            file = open_inside(self.root, path, "a")
        except OSError as e:
            raise StorageError(
                f"cannot lock {dataset_id}: {path}: {e.strerror or e}; the data folder must be writable"
            ) from None
        with file:
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not blocking:
                    yield False
                    return
                log.info("%s: another process is preparing it; waiting (lock %s)", dataset_id, path)
                fcntl.flock(file.fileno(), fcntl.LOCK_EX)
            try:
                yield True
            finally:
                fcntl.flock(file.fileno(), fcntl.LOCK_UN)

    def recorded_ids(self) -> list[str]:
        """The ids whose folder holds a manifest, sorted (folders that are links are ignored)."""
        datasets = self.root / "datasets"
        if not datasets.is_dir():
            return []
        return sorted(
            p.parent.name
            for p in datasets.glob(f"*/{MANIFEST}")
            if is_valid_id(p.parent.name) and not p.parent.is_symlink()
        )

    def temporaries(self, dataset_id: str) -> list[Path]:
        """Staging files and folders left in a dataset folder by a process that was killed.

        Whoever holds the dataset's lock may delete them.
        """
        directory = self.dataset_dir(dataset_id)
        return sorted(directory.glob(".*.tmp")) if directory.is_dir() else []

    def partial_files(self, dataset_id: str) -> list[Path]:
        """Partial downloads of a dataset and their notes (what ``downloads/<id>/`` holds)."""
        base = self.download_dir(dataset_id)
        if not base.is_dir() or base.is_symlink():
            return []
        return sorted(p for p in base.iterdir() if p.name.endswith(PARTIAL_SUFFIXES) and not p.is_symlink())

    def manifest(self, dataset_id: str) -> Manifest:
        """The manifest of ``dataset_id`` (empty when there is none or it cannot be read)."""
        return self.read_manifest(dataset_id) or Manifest(dataset_id)

    def read_manifest(self, dataset_id: str) -> Optional[Manifest]:
        """The manifest of ``dataset_id``; None when missing or unreadable (then it is rebuilt)."""
        path = self.manifest_path(dataset_id)
        try:
            data = read_inside(self.root, path, MAX_MANIFEST)
        except UnsafePathError as e:  # a link, a FIFO, a device, a huge file: planted, never followed
            ignored(e, "its files will be re-verified")
            return None
        except NotADirectoryError:
            return None
        except OSError as e:
            log.warning("%s: cannot read %s (%s); it will be rebuilt", dataset_id, path, e.strerror)
            return None
        if data is None:
            return None
        try:
            return Manifest.loads(dataset_id, data)
        except CorruptManifest as e:
            log.warning("%s: %s is corrupt (%s); its files will be re-verified", dataset_id, path, e)
            return None

    def record(self, dataset_id: str, entry: Entry) -> None:
        """Add or replace the manifest entry of one resource (atomically)."""
        with self.manifest_lock:
            manifest = self.manifest(dataset_id)
            if manifest.entries.get(entry.name) == entry:
                return  # unchanged: the manifest stays byte-identical
            self._write_manifest(manifest.with_entry(entry))

    def forget(self, dataset_id: str, name: str) -> int:
        """Remove the resource ``name`` of ``dataset_id`` and then its manifest entry; the bytes freed."""
        freed = self.remove(self.resource_path(dataset_id, name))
        with self.manifest_lock:
            manifest = self.manifest(dataset_id)
            if name in manifest.entries:
                self._write_manifest(manifest.without(name))
        return freed

    def _write_manifest(self, manifest: Manifest) -> None:
        with atomic_file(self.manifest_path(manifest.dataset_id), self.root) as f:
            f.write(manifest.dumps())

    def find_verified(self, checksum: str, exclude: str) -> Optional[Path]:
        """A prepared file of another dataset that is a published download verified by ``checksum``."""
        for dataset_id in self.recorded_ids():
            if dataset_id == exclude:
                continue
            manifest = self.read_manifest(dataset_id)
            for entry in manifest.entries.values() if manifest else ():
                if (
                    entry.kind == "file"
                    and entry.verified_by == checksum
                    and entry.original is not None
                    and entry.original.sha256 == entry.sha256  # the file in place is the download itself
                ):
                    path = self.resource_path(dataset_id, entry.name)
                    if path.is_file() and not path.is_symlink() and path.stat().st_size == entry.size:
                        return path
        return None

    def find_unpacked(self, checksum: str, unpacking: str, exclude: str) -> Optional[Unpacked]:
        """A prepared folder of another dataset unpacked the same way (``unpacking``) from the archive
        verified by ``checksum``."""
        for dataset_id in self.recorded_ids():
            if dataset_id == exclude:
                continue
            manifest = self.read_manifest(dataset_id)
            for entry in manifest.entries.values() if manifest else ():
                if (
                    entry.kind == "folder"
                    and entry.verified_by == checksum
                    and entry.no_verify is None
                    and entry.unpacking == unpacking
                    and entry.files
                ):
                    path = self.resource_path(dataset_id, entry.name)
                    if path.is_dir() and not path.is_symlink():
                        return Unpacked(dataset_id, path, entry)
        return None

    def link_unpacked(self, found: Unpacked, dest: Path) -> dict[str, FileHash]:
        """Make the new folder ``dest`` a tree of hard links (copies across file systems) to the files of
        ``found``, each checked against its record; their records.

        First every file's size, and that the folder holds nothing else (no
        link, no unrecorded file); then each file is linked and what was linked
        is hashed, so that a file changed since it was recorded is never taken.
        Raises ``NotReusable`` (or ``UnsafePathError``, ``OSError``) when
        anything differs; no link is followed, in ``found`` or in ``dest``.
        """
        source = open_folder(self.root, found.path, create=False)
        try:
            folders = checked_tree(source, found.entry.files)
            for folder in folders:
                os.close(open_folder(self.root, dest.joinpath(*folder), create=True))
            by_folder: dict[tuple[str, ...], list[str]] = {}
            for relative in found.entry.files:
                *up, name = relative.split("/")
                by_folder.setdefault(tuple(up), []).append(name)
            for parent, names in sorted(by_folder.items()):
                self._link_files(source, parent, dest, names, found.entry.files)
        finally:
            os.close(source)
        return dict(found.entry.files)

    def _link_files(
        self, source: int, parent: tuple[str, ...], dest: Path, names: list[str], files: dict[str, FileHash]
    ) -> None:
        """Link (or copy) the files ``names`` of the folder ``parent`` of ``source`` into the same folder of
        ``dest``, and check each against its record."""
        src = open_below(source, parent)
        try:
            dst = open_folder(self.root, dest.joinpath(*parent), create=True)
            try:
                for name in names:
                    relative = "/".join((*parent, name))
                    link_file(src, dst, name, dest / relative)
                    check_file(dst, name, files[relative], relative)
            finally:
                os.close(dst)
        finally:
            os.close(src)

    def remove(self, path: Path) -> int:
        """Delete a file or folder of this data folder (never the folder itself, never through a
        link: a link is removed, not followed); returns the bytes freed."""
        parent = inside(self.root, path.parent)
        target = parent / path.name
        if target == Path(os.path.realpath(self.root)):
            raise UnsafePathError(f"refused: {path} is the data folder itself")
        return remove(target)


@contextmanager
def atomic_file(dest: Path, root: Optional[Path] = None) -> Iterator[Any]:
    """Open a new temporary file beside ``dest`` (inside ``root``, by default ``dest``'s folder,
    following no link); it replaces ``dest`` only on success."""
    tmp = dest.with_name(f".{dest.name}.{os.urandom(4).hex()}.tmp")
    if root is None:
        dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open_inside(root or dest.parent, tmp, "x") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), 0o666 & ~umask())  # (the mode it was created with, less the umask)
        os.replace(tmp, dest)  # a rename: it replaces a link at dest, never writes where it points
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if disk_error(e):
            raise StorageError(
                f"cannot write {dest}: {e.strerror}; free some space and run again "
                "(nothing prepared before was changed)"
            ) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def link_or_copy(root: Path, source: Path, dest: Path, algorithms: tuple[str, ...] = (), link: bool = True) -> dict[str, str]:
    """Put ``source``'s bytes at ``dest`` inside ``root`` (a hard link with ``link``, where the file system
    allows, else a copy), replacing what was there and following no link; the digests of the bytes."""
    hashers = Hashers(algorithms)
    folder = open_folder(root, dest.parent)
    try:
        try:
            os.unlink(dest.name, dir_fd=folder)  # (a link itself, never what it points to)
        except FileNotFoundError:
            pass
        if link:
            try:
                os.link(source, dest.name, dst_dir_fd=folder, follow_symlinks=False)
            except OSError:
                link = False
    finally:
        os.close(folder)
    try:
        with open(source, "rb") as src, open(os.devnull, "wb") if link else open_inside(root, dest, "x") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
                hashers.update(chunk)
            if not link:
                times = os.fstat(src.fileno())
                os.utime(out.fileno(), ns=(times.st_atime_ns, times.st_mtime_ns))
    except OSError as e:
        dest.unlink(missing_ok=True)
        if disk_error(e):
            raise StorageError(f"cannot write {dest}: {e.strerror}; free some space") from None
        raise DownloadError(f"cannot read {source}: {e.strerror}") from None
    return hashers.hexdigests()


def open_below(folder: int, parts: tuple[str, ...]) -> int:
    """A descriptor of the folder ``parts`` below the folder descriptor ``folder``, opened name by
    name without following a link (a link on the way raises ``OSError``)."""
    fd = os.dup(folder)
    try:
        for name in parts:
            child = os.open(name, OPEN_FOLDER, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def checked_tree(folder: int, files: dict[str, FileHash]) -> list[tuple[str, ...]]:
    """The sub-folders of the folder descriptor ``folder``, after checking that it holds exactly the
    regular files ``files`` records, each of its recorded size (``NotReusable`` otherwise)."""
    folders: list[tuple[str, ...]] = []
    seen = set()
    for top, dirs, names, top_fd in os.fwalk(".", dir_fd=folder, follow_symlinks=False):
        parent = Path(top).parts  # ("." is no part)
        for name in sorted([*dirs, *names]):
            relative = "/".join((*parent, name))
            info = os.stat(name, dir_fd=top_fd, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                folders.append((*parent, name))
            elif not stat.S_ISREG(info.st_mode):
                raise NotReusable(f"{printable(relative)}: not a regular file (a link?), not recorded")
            elif relative not in files:
                raise NotReusable(f"{printable(relative)}: not recorded")
            elif info.st_size != files[relative].size:
                raise NotReusable(f"{printable(relative)}: {info.st_size} bytes, recorded {files[relative].size}")
            else:
                seen.add(relative)
    missing = sorted(set(files) - seen)
    if missing:
        raise NotReusable(f"{printable(missing[0])}: missing")
    return sorted(folders)


def link_file(source: int, dest: int, name: str, shown: Path) -> None:
    """Hard-link the file ``name`` of the folder descriptor ``source`` into ``dest`` (a link itself is
    linked, never followed); copy it where the file system refuses."""
    try:
        os.link(name, name, src_dir_fd=source, dst_dir_fd=dest, follow_symlinks=False)
        return
    except FileNotFoundError:
        raise NotReusable(f"{printable(name)}: missing") from None
    except OSError:
        pass  # across file systems, or none there: a copy
    with os.fdopen(os.open(name, READ_NO_FOLLOW, dir_fd=source), "rb") as src:
        if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
            raise NotReusable(f"{printable(name)}: not a regular file")
        with os.fdopen(open_at(dest, name, "x", shown), "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)


#: how a file is opened to be read without following a link or waiting on a FIFO
READ_NO_FOLLOW = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def check_file(folder: int, name: str, record: FileHash, shown: str) -> None:
    """Check that the file ``name`` of the folder descriptor ``folder`` is a regular file of the recorded
    size and sha256 (``NotReusable`` otherwise)."""
    with os.fdopen(os.open(name, READ_NO_FOLLOW, dir_fd=folder), "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size != record.size:
            raise NotReusable(f"{printable(shown)}: changed since it was checked")
        hashers = Hashers(["sha256"])
        hashers.feed(f)
    if hashers.hexdigests()["sha256"] != record.sha256:
        raise NotReusable(f"{printable(shown)}: its bytes are not those recorded (same size, another sha256)")


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
    if path.is_symlink():
        return 0
    if path.is_file():
        return path.stat().st_size
    total = 0
    for top, _dirs, names in os.walk(path):  # does not follow links to folders
        for n in names:
            p = Path(top) / n
            if not p.is_symlink() and p.is_file():
                total += p.stat().st_size
    return total


def remove(path: Path) -> int:
    """Delete a file or a folder tree (a link itself, never what it points to); returns the bytes freed.

    Deleting inside the data folder goes through ``DataFolder.remove``, which
    checks the path first.
    """
    if path.is_symlink() or not path.is_dir():
        size = path.lstat().st_size if path.is_symlink() else disk_usage(path)
        path.unlink(missing_ok=True)
        return size
    size = disk_usage(path)
    shutil.rmtree(path)
    return size


def human_size(n: int) -> str:
    """``n`` bytes as a short human-readable size (1024-based)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
