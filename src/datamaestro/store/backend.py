"""A team store on any fsspec filesystem: content-addressed blobs, one record per dataset, leases.

Layout under the store's URL::

    blobs/sha256/<hex>       a verified downloaded original, named by its sha256
    records/<id>.json        what the store holds of dataset <id> (written last)
    leases/<id>/<name>       held by the machine downloading <name> of <id> for the store
    leases/<id>.record       held while a machine rewrites records/<id>.json

Blob keys are their content's digest, so writing one twice, from two machines
at once, writes the same bytes: nothing can be corrupted. Keys are built only
from validated hex digests, ids and names. On a local filesystem, blobs and
records are written to a temporary name and renamed; object stores publish an
object only once its upload completed. Writes into a local store never go
through a folder that is a symbolic link out of it, and only regular files are
read from a store (a FIFO or a device could make a read last forever).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, BinaryIO, Optional

from datamaestro.errors import RefusedObjectError, StoreError, UnsafePathError
from datamaestro.hashing import Hashers
from datamaestro.paths import inside, open_inside, printable

CHUNK = 1 << 20
#: exceptions of fsspec backends meaning that exclusive create is not supported
NO_EXCLUSIVE = (NotImplementedError, TypeError, ValueError)
#: protocols whose paths start with a bucket (or container)
BUCKETS = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"}


class Store:
    """One store: an fsspec filesystem and the root path of the layout in it."""

    def __init__(self, url: str, options: Optional[dict[str, Any]] = None):
        self.url = url.rstrip("/") or url
        try:
            import fsspec
        except ImportError:
            raise StoreError(
                f"the store {printable(url)} needs fsspec: pip install fsspec (s3fs too for s3:// stores), "
                "or, in datamaestro's checkout, pip install -e '.[store]' (or '.[s3]')"
            ) from None
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **(options or {}))
        except ImportError as e:
            raise StoreError(
                f"the store {printable(url)} needs a package that is not installed ({e}); "
                "for s3:// stores: pip install s3fs, or, in datamaestro's checkout, pip install -e '.[s3]'"
            ) from None
        except (ValueError, TypeError, OSError) as e:
            raise StoreError(f"cannot open the store {printable(url)}: {e}") from None
        self.root = root.rstrip("/")
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        #: a store on a local path (file:// or a folder): usable offline
        self.local = "file" in protocols or "local" in protocols
        #: the bucket (or container) an object store's layout lives in, which must exist (None elsewhere)
        self.bucket = self.root.split("/", 1)[0] if BUCKETS.intersection(protocols) and self.root else None
        self._bucket_seen = False

    def __repr__(self) -> str:
        return f"<store {self.url}>"

    # keys -----------------------------------------------------------------

    def key(self, relative: str) -> str:
        """The backend path of ``relative`` (a layout path built from validated parts)."""
        return f"{self.root}/{relative}" if self.root else relative

    def where(self, relative: str) -> str:
        """``relative`` as a URL for messages."""
        return f"{self.url}/{relative}"

    @staticmethod
    def blob(sha256: str) -> str:
        return f"blobs/sha256/{sha256}"

    @staticmethod
    def record(dataset_id: str) -> str:
        return f"records/{dataset_id}.json"

    # reading --------------------------------------------------------------

    @contextmanager
    def _io(self, what: str) -> Iterator[None]:
        """Turn a backend failure into a one-line ``StoreError`` (FileNotFoundError passes)."""
        try:
            yield
        except (FileNotFoundError, FileExistsError, StoreError):
            raise
        except Exception as e:  # any backend: OSError, botocore errors, aiohttp errors...
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise StoreError(f"store {printable(self.url)}: cannot {what}: {printable(reason)}") from None

    def read(self, relative: str, limit: int) -> Optional[bytes]:
        """The bytes of a small object (None when absent); refuses more than ``limit`` bytes."""
        with self._io(f"read {relative}"):
            try:
                if self.local:
                    with self._open_local(relative) as f:
                        data = f.read(limit + 1)
                elif self._regular(relative) is None:
                    return None
                else:  # one GET, no cached listing: records and leases are rewritten by other machines
                    data = self.fs.cat_file(self.key(relative), start=0, end=limit + 1)
            except FileNotFoundError:
                self._check_bucket()
                return None
        if len(data) > limit:
            raise RefusedObjectError(f"refused {printable(self.where(relative))}: larger than {limit} bytes")
        return data

    def size(self, relative: str) -> Optional[int]:
        """The size of an object (None when absent)."""
        with self._io(f"look up {relative}"):
            info = self._regular(relative)
        size = None if info is None else info.get("size")
        return size if isinstance(size, int) else None

    def facts(self, relative: str) -> Optional[dict[str, Any]]:
        """What the backend says of an object (size, modification time or ETag...), None when absent:
        they change when the object is replaced."""
        with self._io(f"look up {relative}"):
            return self._regular(relative)

    def _regular(self, relative: str) -> Optional[dict[str, Any]]:
        """The backend's facts about the regular file ``relative``: None when absent (or a folder);
        any other kind (a FIFO, a device, a socket) is refused, since reading it may never end."""
        key = self.key(relative)
        try:
            self.fs.invalidate_cache(key)  # pushed by another machine since a listing
            info = self.fs.info(key)
        except FileNotFoundError:
            self._check_bucket()
            return None
        kind = info.get("type")
        if kind == "directory":
            return None
        if kind != "file":
            raise self._not_regular(relative)
        return info

    def _check_bucket(self) -> None:
        """Refuse an object store whose bucket is not found: the whole store is unreachable, it does not
        just lack an object (a local folder is created by the first push, so its absence is no error)."""
        if self.bucket is None or self._bucket_seen:
            return
        try:
            self.fs.invalidate_cache(self.bucket)
            self.fs.info(self.bucket)
        except FileNotFoundError:
            raise StoreError(
                f"the store {printable(self.url)} is unreachable: its bucket {printable(self.bucket)} was not found"
            ) from None
        except PermissionError:  # the service answered; listing the bucket is not allowed
            pass
        self._bucket_seen = True

    def _not_regular(self, relative: str) -> RefusedObjectError:
        return RefusedObjectError(
            f"refused {printable(self.where(relative))}: not a regular file; only regular files are read from a store"
        )

    @contextmanager
    def _open_local(self, relative: str) -> Iterator[BinaryIO]:
        """A local object opened for reading, refused unless it is a regular file.

        Opened without blocking (opening a FIFO waits for a writer forever), then
        checked on the open descriptor, so that it cannot be swapped in between.
        """
        fd = os.open(self.key(relative), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder too: checked before fdopen refuses it
            os.close(fd)
            raise self._not_regular(relative)
        with os.fdopen(fd, "rb") as f:
            yield f  # O_NONBLOCK changes nothing for regular files

    @contextmanager
    def _open(self, relative: str) -> Iterator[BinaryIO]:
        """An object opened for reading, refused unless it is a regular file."""
        if self.local:
            with self._open_local(relative) as f:
                yield f
            return
        if self._regular(relative) is None:
            raise FileNotFoundError(self.where(relative))
        with self.fs.open(self.key(relative), "rb") as f:
            yield f

    def listdir(self, relative: str) -> list[str]:
        """The base names of the objects under ``relative`` ([] when there is none)."""
        with self._io(f"list {relative}"):
            try:
                paths = self.fs.ls(self.key(relative), detail=False)
            except FileNotFoundError:
                self._check_bucket()
                return []
        return sorted(str(p).rstrip("/").rsplit("/", 1)[-1] for p in paths)

    def hashed_copy(
        self,
        relative: str,
        algorithms: list[str],
        limit: int,
        progress: Callable[[int], None],
        dest: Optional[tuple[Path, Path]] = None,
    ) -> tuple[int, dict[str, str]]:
        """Read an object, hashing it (and writing it to ``dest`` if given: a file inside a folder, opened by
        ``paths.open_inside``); stops past ``limit`` bytes.

        Returns the number of bytes read and their digests.
        """
        hashers = Hashers(algorithms)
        got = 0
        with self._io(f"read {relative}"), self._open(relative) as src:
            with open_inside(*dest, "w") if dest is not None else nullcontext() as out:
                while chunk := src.read(CHUNK):
                    got += len(chunk)
                    if got > limit:
                        break
                    if out is not None:
                        out.write(chunk)
                    hashers.update(chunk)
                    progress(len(chunk))
        return got, hashers.hexdigests()

    # writing --------------------------------------------------------------

    def upload(self, path: Path, relative: str, progress: Callable[[int], None]) -> None:
        """Copy the local file ``path`` to ``relative`` (complete or not at all)."""
        target = self.key(relative)
        staging = self._staging(target)
        with self._io(f"write {relative}"):
            self._folder(relative)
            with open(path, "rb") as src, self.fs.open(staging, "wb") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
                    progress(len(chunk))
            if staging != target:  # a rename: it replaces a link at target, never writes where it points
                os.replace(staging, target)

    def write(self, relative: str, data: bytes) -> None:
        """Write a small object (replacing it)."""
        target = self.key(relative)
        staging = self._staging(target)
        with self._io(f"write {relative}"):
            self._folder(relative)
            self.fs.pipe_file(staging, data)
            if staging != target:
                os.replace(staging, target)

    def create(self, relative: str, data: bytes) -> bool:
        """Write ``data`` only if the object does not exist (True when written).

        Uses the backend's exclusive create (S3 conditional writes; O_EXCL on
        local paths, through ``open(..., "xb")`` since fsspec's local file system
        checks then writes); without one, checks then writes, which two machines can
        both pass: the caller's work is then done twice, never corrupted.
        """
        target = self.key(relative)
        with self._io(f"create {relative}"):
            self._folder(relative)
            try:
                if self.local:  # O_EXCL: fsspec's local "create" checks, then writes
                    with open(target, "xb") as f:
                        f.write(data)
                else:
                    self.fs.pipe_file(target, data, mode="create")
                return True
            except FileExistsError:
                return False
            except FileNotFoundError:  # an object store without its bucket
                self._check_bucket()
                raise StoreError(f"store {printable(self.url)}: cannot create {relative}: not found") from None
            except OSError as e:
                if e.errno == errno.EBUSY:  # S3's 409: another machine's create of it is in flight
                    return False
                raise
            except NO_EXCLUSIVE:
                if self.fs.exists(target):
                    return False
                self.fs.pipe_file(target, data)
                return True

    def delete(self, relative: str) -> None:
        """Remove an object (no error when absent)."""
        with self._io(f"delete {relative}"):
            if self.local:
                self._no_link_out(relative)
            try:
                self.fs.rm_file(self.key(relative))
            except FileNotFoundError:
                pass

    def _staging(self, target: str) -> str:
        """Where to write ``target`` before publishing it: a temporary name on local paths."""
        if not self.local:
            return target
        head, _, tail = target.rpartition("/")
        return f"{head}/.{tail}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"

    def _folder(self, relative: str) -> None:
        """Make the folder of ``relative`` in a local store, once no link takes it out of the store."""
        if self.local:
            self._no_link_out(relative)
            self.fs.makedirs(self.key(relative).rpartition("/")[0], exist_ok=True)

    def _no_link_out(self, relative: str) -> None:
        """Refuse to write or delete under a folder of a local store that is a symbolic link out of it."""
        root = Path(self.root)
        folder = root
        for part in relative.split("/")[:-1]:
            folder = folder / part
            if not folder.is_symlink():
                continue
            try:
                inside(root, folder)
            except UnsafePathError:
                raise StoreError(
                    f"store {printable(self.url)}: {printable(str(folder))} is a symbolic link out of the store "
                    f"(to {printable(os.readlink(folder))}): refused to write or delete through it"
                ) from None


def progress_bar(label: str, total: Optional[int], quiet: bool) -> Any:
    """A tqdm byte counter on stderr (silent when quiet or not on a terminal)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=label,
        file=sys.stderr,
        disable=quiet or not sys.stderr.isatty(),
        leave=False,
    )
