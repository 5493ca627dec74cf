"""Unpacking processors: decompress a file, or extract an archive, without escaping and without exploding.

The install pipeline calls one of these on a verified download, with a new
``dest`` inside a staging folder it owns. Each processor:

* decides every member's final path before writing anything. Archive members
  are read into a virtual tree first (names, kinds, link targets); a member is
  refused if its path is absolute, holds ``..`` or a NUL byte, lies under a
  link or a file, or appears twice; a symbolic link is refused if its target,
  resolved in that tree the way the kernel would (earlier and later links
  followed, ``..`` applied to the resolved folder), leaves the kept folder or
  leads nowhere. Hard links, devices, FIFOs and sockets are refused. Nothing
  here relies on ``tarfile``'s extraction filters or on ``os.path.realpath``
  of paths that may exceed ``PATH_MAX``.
* then writes: folders first, files next (created by ``paths.open_at``, with
  ``O_EXCL | O_NOFOLLOW`` relative to a folder descriptor opened with
  ``O_NOFOLLOW``, so nothing is ever written through a link), symbolic links last. File modes, owners and
  times of the archive are ignored.
* checks again after: the folder on disk must hold exactly the planned
  entries, and every link, followed by the kernel, must land inside ``dest``.
* bounds expansion: ``Limits`` is checked against what headers announce
  (refused before anything is written) and against the bytes actually
  written (stopped at once).

A refused or failed unpacking removes ``dest``; nothing outside it is touched.
Internal symbolic links that resolve inside the kept folder are kept.
"""

from __future__ import annotations

import bz2
import errno
import io
import lzma
import os
import re
import shutil
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Optional, Protocol, TypeVar, Union

from datamaestro.download.packing import KINDS, Limits, kind_of  # noqa: F401 (kind_of: part of this module's API)
from datamaestro.errors import (
    DatamaestroError,
    FormatError,
    UnpackLimitError,
    UnsafeArchiveError,
)
from datamaestro.hashing import FileHash, Hashers
from datamaestro.paths import OPEN_FOLDER, open_at, open_inside, printable
from datamaestro.storage import StorageError, disk_error

#: bytes written (and hashed) per step
CHUNK = 1 << 20
#: compressed bytes read per step by gunzip
GZIP_INPUT = 1 << 18
#: links followed while resolving one target (the kernel's own limit)
MAX_HOPS = 40
#: longest member path and link target (bytes), and longest single name
MAX_PATH = 1024
MAX_NAME = 255
#: most bytes read after a compressed tar's last member (padding to its record size)
MAX_TAIL = 16 << 20
#: largest single read tarfile may make for one header (long names, pax records)
MAX_HEADER = 1 << 20

_ARCHIVE_ERRORS = (
    tarfile.TarError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    struct.error,
    UnicodeDecodeError,
)


# --- messages ---------------------------------------------------------------


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n} bytes)"
    return f"{n} bytes"


def _too_big(label: str, limits: Limits) -> UnpackLimitError:
    return UnpackLimitError(
        f"{label}: refused: unpacking it would write more than {_size(limits.max_bytes)}, the limit; "
        "if the data is really that large, raise max_unpacked_size in the configuration"
    )


def _too_many(label: str, limits: Limits) -> UnpackLimitError:
    return UnpackLimitError(
        f"{label}: refused: it holds more than {limits.max_files} files, folders and links, the limit; "
        "if the data really holds that many, raise max_unpacked_files in the configuration"
    )


def _corrupt(label: str, kind: str, detail: str) -> FormatError:
    return FormatError(f"{label}: corrupt or truncated {kind} archive ({printable(detail, 200)})")


def _refused(label: str, what: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"{label}: refused: {what}; nothing was extracted")


def _write_failed(error: OSError, label: str, dest: Path) -> DatamaestroError:
    """The error for a failed write while unpacking ``label`` into ``dest``."""
    where = printable(str(dest))
    if disk_error(error):
        return StorageError(
            f"the disk is full while unpacking {label} into {where} ({error.strerror}); "
            "free some space and run again (the verified download is kept)"
        )
    if error.errno in (errno.EEXIST, errno.ELOOP, errno.ENOTDIR):
        return _refused(label, f"two members collide on this file system ({error.strerror})")
    return StorageError(f"cannot unpack {label} into {where}: {error.strerror or error}")


T = TypeVar("T")


def _create(make: Callable[[], T], label: str, dest: Path) -> T:
    """``make()``, which creates ``dest``: an existing ``dest`` is the caller's mistake, a full disk is not."""
    try:
        return make()
    except FileExistsError:
        raise
    except OSError as e:
        raise _write_failed(e, label, dest) from None


@contextmanager
def _reading(label: str, kind: str) -> Iterator[None]:
    """Turn the errors of reading a damaged archive into one FormatError."""
    try:
        yield
    except _ARCHIVE_ERRORS as e:
        raise _corrupt(label, kind, str(e) or type(e).__name__) from None


# --- single-file processors ---------------------------------------------------


def _write_stream(chunks: Iterator[bytes], dest: Path, limits: Limits, label: str) -> FileHash:
    """Write ``chunks`` into the new file ``dest``, hashing and counting as they come."""
    file = _create(lambda: open_inside(dest.parent, dest, "x"), label, dest)
    digest = Hashers(["sha256"])
    size = 0
    try:
        try:
            with file as out:
                for data in chunks:
                    size += len(data)
                    if size > limits.max_bytes:
                        raise _too_big(label, limits)
                    digest.update(data)
                    out.write(data)
        except OSError as e:  # reading errors arrive as FormatError: this one is a write
            raise _write_failed(e, label, dest) from None
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return FileHash(size, digest.hexdigests()["sha256"])


def _gunzip_chunks(f: IO[bytes], label: str, kind: str = "gzip") -> Iterator[bytes]:
    """The data of the gzip members in ``f``; zero bytes between and after members are padding."""
    inflate: Any = None
    members = 0
    while compressed := f.read(GZIP_INPUT):
        pending = False  # the last call filled its output: zlib may hold more
        while compressed or pending:
            if inflate is None:
                compressed = compressed.lstrip(b"\0") if members else compressed
                if not compressed:
                    break
                inflate = zlib.decompressobj(wbits=31)
            try:
                data = inflate.decompress(compressed, CHUNK)
            except zlib.error as e:
                raise _corrupt(label, kind, str(e)) from None
            pending = len(data) == CHUNK
            compressed = inflate.unconsumed_tail
            if inflate.eof:
                compressed, inflate, members, pending = inflate.unused_data, None, members + 1, False
            if data:
                yield data
    if inflate is not None or not members:
        raise _corrupt(label, kind, "the file ends before the end of its compressed data")


def gunzip(source: Path, dest: Path, limits: Limits, label: str) -> FileHash:
    """Decompress the gzip file ``source`` (one or more members) into the new file ``dest``."""
    label = printable(label)
    with open(source, "rb") as f:
        return _write_stream(_gunzip_chunks(f, label), dest, limits, label)


def _reader_chunks(stream: IO[bytes], label: str, kind: str) -> Iterator[bytes]:
    with _reading(label, kind):
        while data := stream.read(CHUNK):
            yield data


def _decompress(opener: Callable[[IO[bytes]], IO[bytes]], kind: str, source: Path, dest: Path, limits: Limits, label: str) -> FileHash:
    label = printable(label)
    with open(source, "rb") as raw:
        if not raw.peek(1):
            raise _corrupt(label, kind, "empty file")
        with opener(raw) as stream:
            return _write_stream(_reader_chunks(stream, label, kind), dest, limits, label)


def bunzip2(source: Path, dest: Path, limits: Limits, label: str) -> FileHash:
    """Decompress the bzip2 file ``source`` (one or more streams) into the new file ``dest``."""
    return _decompress(lambda f: bz2.BZ2File(f), "bzip2", source, dest, limits, label)


def unxz(source: Path, dest: Path, limits: Limits, label: str) -> FileHash:
    """Decompress the xz (or lzma) file ``source`` into the new file ``dest``."""
    return _decompress(lambda f: lzma.LZMAFile(f), "xz", source, dest, limits, label)


# --- the plan: an archive's members as a virtual tree -------------------------


@dataclass
class _Entry:
    kind: str  # "file", "dir" or "link"
    size: int = 0
    target: str = ""  # of a link
    ref: Any = None  # the TarInfo or ZipInfo to read a file from


_DIR = _Entry("dir")
_DRIVE = re.compile(r"[A-Za-z]:[/\\]")


class _Plan:
    """The tree an archive would produce, checked member by member as its headers are read."""

    def __init__(self, label: str, limits: Limits):
        self.label = label
        self.limits = limits
        self.tree: dict[tuple[str, ...], _Entry] = {}
        self.bytes = 0

    def parts(self, name: str) -> tuple[str, ...]:
        """The components of a member's path; refuses what could lead elsewhere."""
        shown = f"member '{printable(name)}'"
        if "\0" in name:
            raise _refused(self.label, f"{shown} has a NUL byte in its name")
        text = name.replace("\\", "/")
        if text.startswith("/") or _DRIVE.match(text):
            raise _refused(self.label, f"{shown} has an absolute path")
        parts = tuple(p for p in text.split("/") if p not in ("", "."))
        if ".." in parts:
            raise _refused(self.label, f"{shown} goes up with '..'")
        if len(text.encode("utf-8", "surrogateescape")) > MAX_PATH or any(
            len(p.encode("utf-8", "surrogateescape")) > MAX_NAME for p in parts
        ):
            raise _refused(self.label, f"{shown} has a name too long for this file system")
        return parts

    def add(self, name: str, kind: str, size: int = 0, target: str = "", ref: Any = None) -> None:
        """Add one member: ``kind`` is "file", "dir", "link", or what refuses it ("hard link"...)."""
        shown = f"member '{printable(name)}'"
        if kind not in ("file", "dir", "link"):
            raise _refused(self.label, f"{shown} is a {kind}; only files, folders and symbolic links are extracted")
        parts = self.parts(name)
        if kind == "link":
            self._check_target(name, target)
        if not parts:
            if kind == "dir":
                return  # the archive's root folder itself ("./")
            raise _refused(self.label, f"{shown} has an empty name")
        # Every entry's folders are in the tree: the deepest one present decides for all above it.
        depth = len(parts) - 1
        while depth and parts[:depth] not in self.tree:
            depth -= 1
        if depth and self.tree[parts[:depth]].kind != "dir":
            what = "symbolic link" if self.tree[parts[:depth]].kind == "link" else "file"
            raise _refused(self.label, f"{shown} would be written through the {what} '{printable('/'.join(parts[:depth]))}'")
        for i in range(depth + 1, len(parts)):
            self._put(parts[:i], _DIR)
        known = self.tree.get(parts)
        if known is not None:
            if known.kind == "dir" and kind == "dir":
                return
            raise _refused(self.label, f"{shown} appears twice (as a {_NOUNS[known.kind]} and as a {_NOUNS[kind]})")
        if kind == "file":
            self.bytes += size
            if self.bytes > self.limits.max_bytes:
                raise _too_big(self.label, self.limits)
        self._put(parts, _Entry(kind, size, target, ref))

    def _put(self, parts: tuple[str, ...], entry: _Entry) -> None:
        self.tree[parts] = entry
        if len(self.tree) > self.limits.max_files:
            raise _too_many(self.label, self.limits)

    def _check_target(self, name: str, target: str) -> None:
        shown = f"symbolic link '{printable(name)}' -> '{printable(target)}'"
        if not target or "\0" in target or len(target.encode("utf-8", "surrogateescape")) > MAX_PATH:
            raise _refused(self.label, f"{shown} has an empty, overlong or NUL-holding target")
        if target.startswith("/"):
            raise _refused(self.label, f"{shown} points to an absolute path")

    def kept(self, subpath: Optional[str]) -> dict[tuple[str, ...], _Entry]:
        """The entries to write, relative to ``subpath`` (the whole tree without one); checks every link."""
        _check_links(self.tree, self.label, "the archive")
        if not subpath:
            return self.tree
        root = tuple(p for p in subpath.split("/") if p not in ("", "."))
        node = self.tree.get(root)
        if node is None or not root:
            raise FormatError(f"{self.label}: the archive has no folder '{printable(subpath)}'; nothing was extracted")
        if node.kind != "dir":
            raise FormatError(
                f"{self.label}: '{printable(subpath)}' in the archive is a {_NOUNS[node.kind]}, not a folder; "
                "nothing was extracted"
            )
        n = len(root)
        kept = {path[n:]: e for path, e in self.tree.items() if len(path) > n and path[:n] == root}
        _check_links(kept, self.label, f"the folder '{printable(subpath)}'")
        return kept


_NOUNS = {"file": "file", "dir": "folder", "link": "symbolic link"}


class _BadLink(Exception):
    """Why a link target cannot be followed inside the tree."""


_Tree = dict[tuple[str, ...], _Entry]


_Done = dict[tuple[str, ...], tuple[tuple[str, ...], int]]


def _resolve(tree: _Tree, folder: tuple[str, ...], target: str, hops: list[int], done: _Done) -> tuple[str, ...]:
    """Where ``target``, read in ``folder``, leads in ``tree`` (links followed as the kernel would).

    ``hops`` counts the links followed; ``done`` remembers where each link
    already resolved leads, and through how many links, so that every link is
    resolved once however many others go through it.
    """
    current = list(folder)
    kind = "dir"
    for name in target.split("/"):
        if kind != "dir":
            raise _BadLink(f"goes through the file '{'/'.join(current)}'")
        if name in ("", "."):
            continue
        if name == "..":
            if not current:
                raise _BadLink("leads outside")
            current.pop()
            continue
        path = (*current, name)
        entry = tree.get(path)
        if entry is None:
            raise _BadLink(f"leads to '{'/'.join(path)}', which the archive does not hold")
        if entry.kind == "link":
            if path not in done:
                start = hops[0]
                hops[0] += 1
                if hops[0] > MAX_HOPS:
                    raise _BadLink(f"goes through more than {MAX_HOPS} links (a loop?)")
                done[path] = (_resolve(tree, tuple(current), entry.target, hops, done), hops[0] - start)
            else:
                hops[0] += done[path][1]
                if hops[0] > MAX_HOPS:
                    raise _BadLink(f"goes through more than {MAX_HOPS} links (a loop?)")
            current = list(done[path][0])
            kind = tree[done[path][0]].kind if current else "dir"
        else:
            current.append(name)
            kind = entry.kind
    return tuple(current)


def _check_links(tree: _Tree, label: str, where: str) -> None:
    done: _Done = {}
    for path, entry in tree.items():
        if entry.kind == "link" and path not in done:
            try:
                _resolve(tree, path[:-1], path[-1], [0], done)  # the link's own name: it counts as one
            except _BadLink as e:
                shown = f"symbolic link '{printable('/'.join(path))}' -> '{printable(entry.target)}'"
                reason = f"leads outside {where}" if str(e) == "leads outside" else printable(str(e))
                raise _refused(label, f"{shown} {reason}") from None


# --- writing a planned tree -------------------------------------------------

Bytes = Union[bytes, memoryview]


class _Readable(Protocol):
    def read(self, n: int, /) -> Bytes: ...

    def close(self) -> None: ...


class _Writer:
    """Creates entries under the new folder ``dest``, never following a link on the way."""

    def __init__(self, dest: Path, label: str, limits: Limits):
        self.dest = dest
        self.label = label
        self.limits = limits
        self.bytes = 0
        os.mkdir(dest)  # FileExistsError: the caller's dest must be new
        self.root = os.open(dest, OPEN_FOLDER)
        self.cached: Optional[tuple[tuple[str, ...], int]] = None

    def _folder(self, path: tuple[str, ...]) -> int:
        """A descriptor of the folder holding ``path``, opened one name at a time with O_NOFOLLOW."""
        folder = path[:-1]
        if not folder:
            return self.root
        if self.cached and self.cached[0] == folder:
            return self.cached[1]
        fd = self.root
        for name in folder:
            child = os.open(name, OPEN_FOLDER, dir_fd=fd)
            if fd != self.root:
                os.close(fd)
            fd = child
        self._uncache()
        self.cached = (folder, fd)
        return fd

    def _uncache(self) -> None:
        if self.cached:
            os.close(self.cached[1])
            self.cached = None

    def mkdir(self, path: tuple[str, ...]) -> None:
        os.mkdir(path[-1], 0o777, dir_fd=self._folder(path))

    def symlink(self, path: tuple[str, ...], target: str) -> None:
        os.symlink(target, path[-1], dir_fd=self._folder(path))

    def file(self, path: tuple[str, ...], read: Callable[[int], Bytes]) -> FileHash:
        """Write what ``read`` returns into the new file ``path``, counting against the limits."""
        fd = open_at(self._folder(path), path[-1], "x", self.dest.joinpath(*path))
        digest = Hashers(["sha256"])
        size = 0
        with os.fdopen(fd, "wb") as out:
            while data := read(CHUNK):
                size += len(data)
                self.bytes += len(data)
                if self.bytes > self.limits.max_bytes:
                    raise _too_big(self.label, self.limits)
                digest.update(data)
                out.write(data)
        return FileHash(size, digest.hexdigests()["sha256"])

    def close(self) -> None:
        self._uncache()
        os.close(self.root)


def _extract(
    dest: Path,
    kept: dict[tuple[str, ...], _Entry],
    limits: Limits,
    label: str,
    kind: str,
    open_member: Callable[[Any], _Readable],
    finish: Callable[[], None] = lambda: None,
) -> dict[str, FileHash]:
    """Write the planned entries into the new folder ``dest``; on any failure remove it."""
    writer = _create(lambda: _Writer(dest, label, limits), label, dest)
    hashes: dict[str, FileHash] = {}
    try:
        try:
            for path in sorted(p for p, e in kept.items() if e.kind == "dir"):
                writer.mkdir(path)
            for path, entry in kept.items():
                if entry.kind == "file":
                    with _reading(label, kind):
                        member = open_member(entry.ref)
                    try:
                        written = writer.file(path, _guarded_read(member, label, kind))
                    finally:
                        member.close()
                    if written.size != entry.size:
                        shown = printable("/".join(path))
                        raise _corrupt(label, kind, f"member '{shown}' holds {written.size} bytes, not {entry.size}")
                    hashes["/".join(path)] = written
            for path, entry in kept.items():
                if entry.kind == "link":
                    writer.symlink(path, entry.target)
            finish()
        except OSError as e:  # reading errors arrive as FormatError: this one is a write
            raise _write_failed(e, label, dest) from None
        finally:
            writer.close()
        _check_on_disk(dest, kept, label)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return hashes


def _guarded_read(member: _Readable, label: str, kind: str) -> Callable[[int], Bytes]:
    def read(n: int) -> Bytes:
        with _reading(label, kind):
            return member.read(n)

    return read


def _check_on_disk(dest: Path, kept: _Tree, label: str) -> None:
    """After writing: ``dest`` holds exactly the planned entries, and every link resolves inside it.

    The links are checked by the kernel: each one is followed (``stat``) and
    must land on a file or folder whose inode was found under ``dest``.
    """
    device = os.stat(dest).st_dev
    inodes = {os.stat(dest).st_ino}
    found: dict[tuple[str, ...], tuple[str, str]] = {}
    links: list[tuple[tuple[str, ...], str]] = []
    folders: list[tuple[tuple[str, ...], str]] = [((), str(dest))]
    while folders:
        rel, folder = folders.pop()
        with os.scandir(folder) as entries:
            for e in entries:
                path = (*rel, e.name)
                inodes.add(e.inode())
                if e.is_symlink():
                    found[path] = ("link", os.readlink(e.path))
                    links.append((path, e.path))
                elif e.is_dir(follow_symlinks=False):
                    found[path] = ("dir", "")
                    folders.append((path, e.path))
                else:
                    found[path] = ("file" if e.is_file(follow_symlinks=False) else "other", "")
    expected = {p: (e.kind, e.target) for p, e in kept.items()}
    if found != expected:
        odd = sorted(set(found.items()) ^ set(expected.items()))[0][0]
        raise _refused(label, f"after unpacking, '{printable('/'.join(odd))}' is not what the archive holds")
    for path, full in links:
        try:
            st = os.stat(full)
            ok = st.st_dev == device and st.st_ino in inodes
        except OSError:
            ok = False
        if not ok:
            raise _refused(label, f"after unpacking, the link '{printable('/'.join(path))}' does not lead inside")


# --- tar --------------------------------------------------------------------


class _Stream:
    """The bytes of a tar archive, decompressed front to back; seeks only forward (a plain tar: anywhere).

    tarfile reads its headers through ``read`` and ``seek``; any single read
    larger than a header may be (long names, pax records) is refused.
    """

    def __init__(self, raw: IO[bytes], kind: str, label: str):
        self.raw = raw
        self.kind = kind
        self.label = label
        self.chunks = self._chunks()
        self.buffer = memoryview(b"")
        self.position = 0  # of buffer[0] in the decompressed stream
        self.last = (0, b"")  # the last read: where it started, what it returned

    def _chunks(self) -> Iterator[bytes]:
        self.raw.seek(0)
        if self.kind == "tar.gz":
            yield from _gunzip_chunks(self.raw, self.label, "tar.gz")
            return
        opener: Callable[[IO[bytes]], Any] = {"tar.bz2": bz2.BZ2File, "tar.xz": lzma.LZMAFile}.get(self.kind, lambda f: f)
        with _reading(self.label, self.kind):
            stream = opener(self.raw)
            while data := stream.read(CHUNK):
                yield data

    def pieces(self, n: int) -> Iterator[memoryview]:
        """The next ``n`` bytes (fewer at the end), in pieces as they come."""
        while n > 0:
            if not self.buffer:
                data = next(self.chunks, b"")
                if not data:
                    return
                self.buffer = memoryview(data)
            piece = self.buffer[:n]
            self.buffer = self.buffer[len(piece):]
            self.position += len(piece)
            n -= len(piece)
            yield piece

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > MAX_HEADER:
            raise _refused(self.label, f"a header announces {n} bytes of names or attributes")
        start = self.position
        data = b"".join(self.pieces(n))
        self.last = (start, data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET:
            raise io.UnsupportedOperation("seek from the end")
        if self.kind == "tar" and offset != self.position:  # plain tar: skip without reading
            self.raw.seek(offset)
            self.chunks = iter(lambda: self.raw.read(CHUNK), b"")
            self.buffer, self.position = memoryview(b""), offset
        if offset < self.position:
            raise io.UnsupportedOperation("seek backwards in a compressed stream")
        for _ in self.pieces(offset - self.position):
            pass
        return self.position

    def tell(self) -> int:
        return self.position


_TAR_MAGIC = ((b"\x1f\x8b", "tar.gz"), (b"BZh", "tar.bz2"), (b"\xfd7zXZ\x00", "tar.xz"))


def _tar_member_kind(info: tarfile.TarInfo) -> str:
    if info.issparse():
        return "sparse file (not supported)"
    if info.isfile():
        return "file"
    if info.isdir():
        return "dir"
    if info.issym():
        return "link"
    if info.islnk():
        return "hard link"
    if info.ischr() or info.isblk():
        return "device file"
    if info.isfifo():
        return "FIFO"
    return "member of an unsupported type"


def untar(source: Path, dest: Path, limits: Limits, label: str, subpath: Optional[str] = None) -> dict[str, FileHash]:
    """Extract the tar archive ``source`` (plain, gzip, bzip2 or xz) into the new folder ``dest``.

    With ``subpath``, only that folder of the archive is kept: its contents
    become ``dest``'s. Returns every regular file written (POSIX path relative
    to ``dest``) with its size and sha256. The archive is read twice: once for
    its headers (the plan), once for the data of the kept files.
    """
    label = printable(label)
    with open(source, "rb") as raw:
        head = raw.read(6)
        kind = next((k for magic, k in _TAR_MAGIC if head.startswith(magic)), "tar")
        plan = _Plan(label, limits)
        headers = _Stream(raw, kind, label)
        with _reading(label, kind):
            if not head:
                raise EOFError("empty file")
            tar = tarfile.open(fileobj=headers, mode="r:")  # type: ignore[call-overload]
            while (info := tar.next()) is not None:
                plan.add(info.name, _tar_member_kind(info), info.size, info.linkname, info)
            _check_end(headers, tar.offset)
        kept = plan.kept(subpath)
        data = _Stream(raw, kind, label)

        def open_member(info: tarfile.TarInfo) -> _Piecewise:
            data.seek(info.offset_data)
            return _Piecewise(data.pieces(info.size))

        def drain() -> None:
            """Read to the end: gzip, bzip2 and xz check their CRC there. Bounded: a tar's tail is padding."""
            rest = 0
            with _reading(label, kind):
                for piece in data.pieces(MAX_TAIL + 1 if kind != "tar" else 0):
                    rest += len(piece)
            if rest > MAX_TAIL:
                raise _corrupt(label, kind, f"more than {_size(MAX_TAIL)} of data after the end of the archive")

        return _extract(dest, kept, limits, label, kind, open_member, drain)


class _Piecewise:
    """``read(n)`` over an iterator of pieces (each at most ``CHUNK`` long)."""

    def __init__(self, pieces: Iterator[memoryview]):
        self.pieces = pieces

    def read(self, n: int) -> Bytes:
        return next(self.pieces, b"")

    def close(self) -> None:
        pass


def _check_end(headers: _Stream, offset: int) -> None:
    """tarfile stops quietly at a damaged header: the block after the last member must be zeros."""
    start, data = headers.last
    block = data[offset - start : offset - start + tarfile.BLOCKSIZE] if start <= offset else b""
    if headers.tell() - offset < tarfile.BLOCKSIZE or len(block) < tarfile.BLOCKSIZE:
        raise tarfile.ReadError(f"the archive ends at byte {headers.tell()}, before its end-of-archive block")
    if block.count(0) != tarfile.BLOCKSIZE:
        raise tarfile.ReadError(f"invalid header at byte {offset}")


# --- zip --------------------------------------------------------------------


def _zip_member_kind(info: zipfile.ZipInfo) -> str:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        return "link"
    if kind in (stat.S_IFCHR, stat.S_IFBLK):
        return "device file"
    if kind == stat.S_IFIFO:
        return "FIFO"
    if kind == stat.S_IFSOCK:
        return "socket"
    if kind == stat.S_IFDIR or info.is_dir():
        return "dir"
    if kind in (0, stat.S_IFREG):
        return "file"
    return "member of an unsupported type"


def unzip(source: Path, dest: Path, limits: Limits, label: str, subpath: Optional[str] = None) -> dict[str, FileHash]:
    """Extract the zip archive ``source`` into the new folder ``dest`` (see ``untar``)."""
    label = printable(label)
    with open(source, "rb") as raw:
        with _reading(label, "zip"):
            archive = zipfile.ZipFile(raw)
            infos = archive.infolist()
        plan = _Plan(label, limits)
        for info in infos:
            kind = _zip_member_kind(info)
            shown = f"member '{printable(info.filename)}'"
            if info.flag_bits & 0x1:
                raise FormatError(f"{label}: {shown} is encrypted; datamaestro does not extract encrypted zip members")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                # zipfile decompresses bzip2 and lzma members without an output bound per read:
                # 337 bytes of bzip2 become 400 MiB in memory at once
                raise FormatError(
                    f"{label}: {shown} uses compression method {info.compress_type}; "
                    "datamaestro extracts stored and deflated zip members only"
                )
            target = ""
            if kind == "link":
                if info.file_size > MAX_PATH:
                    raise _refused(label, f"symbolic link '{printable(info.filename)}' has a target of {info.file_size} bytes")
                with _reading(label, "zip"), archive.open(info) as f:
                    target = f.read(MAX_PATH + 1).decode("utf-8", "surrogateescape")
            plan.add(info.filename, kind, info.file_size, target, info)
        kept = plan.kept(subpath)
        return _extract(dest, kept, limits, label, "zip", archive.open)
