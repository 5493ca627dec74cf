"""The one path rule: what ids and resource names may be, and that every path stays inside its root.

Every path that datamaestro writes, extracts into or deletes is built from a
root (the data folder, or an output folder the user named) and names that
follow the grammar below, then resolved (symlinks included) and checked to be
inside that root by ``inside``. Nothing else decides whether a path is safe.

Every file datamaestro opens for writing, appending or resuming is opened by
``open_inside``: its folder is checked to be inside the root and opened name
by name from the root without following a link, and the file itself is opened
with ``O_NOFOLLOW``. A link planted where datamaestro keeps its own files (a
partial download, its note, a lock) is refused, never written through.

Every file of its own that datamaestro reads back from the data folder (a
resume note, a segment state, a manifest, the shared mirror memory) is read by
``read_inside``, the same way but creating nothing: a link, a FIFO, a device
or an oversized file there is refused (its caller treats it as corrupt state),
never followed, never waited on, never read without bound.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO, Optional, cast

from datamaestro.errors import UnsafePathError

#: one id component: letters, digits, ``_`` and ``-``, starting with a letter or digit
_COMPONENT = r"[A-Za-z0-9][A-Za-z0-9_-]*"
#: dataset ids: components separated by single dots (``com.lecun.mnist``)
ID_RE = re.compile(rf"{_COMPONENT}(?:\.{_COMPONENT})*")
#: resource names: one file or folder name, no separators, not hidden (``train_images.idx``)
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
MAX_ID = 200
MAX_NAME = 200


def is_valid_id(text: str) -> bool:
    """Whether ``text`` is a well-formed dataset id."""
    return isinstance(text, str) and len(text) <= MAX_ID and ID_RE.fullmatch(text) is not None


def is_valid_name(text: str) -> bool:
    """Whether ``text`` is a well-formed resource name (a single file or folder name)."""
    return (
        isinstance(text, str)
        and len(text) <= MAX_NAME
        and NAME_RE.fullmatch(text) is not None
        and text not in (".", "..")
    )


def id_problem(text: str) -> str:
    """Why ``text`` is not a dataset id ('' when it is one)."""
    if is_valid_id(text):
        return ""
    return (
        f"'{printable(text)}' is not a dataset id: ids are words of letters, digits, '_' and '-' "
        f"separated by single dots (at most {MAX_ID} characters), like com.lecun.mnist"
    )


def name_problem(text: str) -> str:
    """Why ``text`` is not a resource name ('' when it is one)."""
    if is_valid_name(text):
        return ""
    return (
        f"'{printable(text)}' is not a resource name: a single file or folder name of letters, "
        f"digits, '.', '_' and '-', not starting with '.' (at most {MAX_NAME} characters)"
    )


def inside(root: Path, path: Path) -> Path:
    """``path`` resolved (every symlink followed), provided it is ``root`` or lies under it.

    Raises ``UnsafePathError`` otherwise: the one check every write, extraction
    and deletion goes through.
    """
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    if real != real_root and real_root not in real.parents:
        if os.path.islink(path):
            raise UnsafePathError(
                f"refused: {printable(str(path))} is a symbolic link to {printable(str(real))}, outside "
                f"{printable(str(real_root))}; it was not followed: remove it and run again"
            )
        raise UnsafePathError(
            f"refused: {printable(str(path))} resolves to {printable(str(real))}, "
            f"outside {printable(str(real_root))}; nothing was written or deleted there"
        )
    return real


def strictly_inside(root: Path, path: Path) -> Path:
    """Like ``inside``, but ``path`` may not be ``root`` itself (what may be deleted)."""
    real = inside(root, path)
    if real == Path(os.path.realpath(root)):
        raise UnsafePathError(f"refused: {printable(str(path))} is the folder {printable(str(root))} itself")
    return real


#: how ``open_inside`` opens a file in each mode: "x" creates a new one, "w" replaces the file
#: there by a new one (never truncating it in place), "a" appends (creating it), "r+" reads and
#: writes an existing one; never through a link, never blocking on a FIFO
_MODES = {
    "x": (os.O_WRONLY | os.O_CREAT | os.O_EXCL, "wb"),
    "w": (os.O_WRONLY | os.O_CREAT | os.O_EXCL, "wb"),
    "a": (os.O_WRONLY | os.O_CREAT | os.O_APPEND, "ab"),
    "r+": (os.O_RDWR, "r+b"),
}
_NO_FOLLOW = os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
#: how a folder is opened on the way to a file: never through a link
OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def open_inside(root: Path, path: Path, mode: str) -> BinaryIO:
    """Open the file ``path`` (under ``root``) in binary ``mode`` "x", "w", "a" or "r+", following no link."""
    folder = open_folder(root, path.parent)
    try:
        fd = open_at(folder, path.name, mode, path)
    finally:
        os.close(folder)
    return cast(BinaryIO, os.fdopen(fd, _MODES[mode][1]))


def open_folder(root: Path, folder: Path, create: bool = True) -> int:
    """A descriptor of ``folder``, checked to be inside ``root`` and opened (made where missing, unless
    not ``create``: then a missing one raises ``FileNotFoundError``) name by name from ``root``
    without following a link."""
    real_root = Path(os.path.realpath(root))
    names = inside(root, folder).relative_to(real_root).parts
    if create:
        real_root.mkdir(parents=True, exist_ok=True)  # (the root is trusted: configured or named by the user)
    fd = os.open(real_root, OPEN_FOLDER & ~os.O_NOFOLLOW)  # the root itself may be reached through a link
    try:
        for name in names:
            if create:
                try:
                    os.mkdir(name, 0o777, dir_fd=fd)
                except FileExistsError:
                    pass
            try:
                child = os.open(name, OPEN_FOLDER, dir_fd=fd)
            except OSError as e:
                if e.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise
                raise UnsafePathError(
                    f"refused: {printable(str(folder))}: {printable(name)} is not a folder but a link or a file "
                    "(it changed while being opened); nothing was written there"
                ) from None
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_at(folder: int, name: str, mode: str, shown: Path) -> int:
    """Open the regular file ``name`` of the folder descriptor ``folder`` in ``mode`` (see
    ``open_inside``) without following a link; ``shown`` names it in errors."""
    flags, _ = _MODES[mode]
    if mode == "w":
        _remove_file(folder, name, shown)
    try:
        fd = os.open(name, flags | _NO_FOLLOW, 0o666, dir_fd=folder)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.EMLINK, errno.EEXIST) and _is_link(folder, name):
            raise planted_link(folder, name, shown) from None
        if e.errno == errno.ENXIO:  # a FIFO no process reads
            raise not_a_file(shown) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise not_a_file(shown)
        if mode in ("a", "r+") and info.st_nlink > 1:
            raise UnsafePathError(
                f"refused: {printable(str(shown))} has another name (a hard link): writing to it would change "
                "another file; remove it and run again"
            )
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_inside(root: Path, path: Path, limit: int) -> Optional[bytes]:
    """The bytes of datamaestro's own file ``path`` under ``root`` (None when absent), read creating
    nothing, following no link, never blocking, at most ``limit`` bytes.

    A link, a FIFO, a device, a folder, a file over ``limit`` bytes, or a folder
    on the way that leads out of ``root`` raises ``UnsafePathError``: the
    caller treats the file as corrupt and says so with that one line.
    """
    try:
        folder = open_folder(root, path.parent, create=False)
    except FileNotFoundError:
        return None
    try:
        fd = os.open(path.name, os.O_RDONLY | _NO_FOLLOW, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.EMLINK) and _is_link(folder, path.name):
            raise UnsafePathError(
                f"ignored: {printable(str(path))} is a symbolic link (to {printable(_link_target(folder, path.name))}), "
                "not a file datamaestro made; it was not followed"
            ) from None
        raise
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb", buffering=0) as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePathError(f"ignored: {printable(str(path))} is not a regular file; it was not read")
        data = _read_at_most(f, limit) if os.fstat(fd).st_size <= limit else None
    if data is None:
        raise UnsafePathError(
            f"ignored: {printable(str(path))} holds more than {limit} bytes, more than datamaestro writes there; "
            "it was not read"
        )
    return data


def _read_at_most(file: BinaryIO, limit: int) -> Optional[bytes]:
    """The bytes of ``file`` to its end, or None when it holds more than ``limit``."""
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = file.read(min(1 << 20, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    return None


def _is_link(folder: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _remove_file(folder: int, name: str, shown: Path) -> None:
    """Delete the file ``name`` of ``folder`` (to be created anew); a link there is refused."""
    if _is_link(folder, name):
        raise planted_link(folder, name, shown)
    try:
        os.unlink(name, dir_fd=folder)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        raise UnsafePathError(f"refused: {printable(str(shown))} is a folder; remove it and run again") from None


def not_a_file(shown: Path) -> UnsafePathError:
    """The error for a FIFO, device or socket found where datamaestro writes one of its own files."""
    return UnsafePathError(f"refused: {printable(str(shown))} is not a regular file; remove it and run again")


def planted_link(folder: int, name: str, shown: Path) -> UnsafePathError:
    """The error for a symbolic link found where datamaestro writes one of its own files."""
    return UnsafePathError(
        f"refused: {printable(str(shown))} is a symbolic link (to {printable(_link_target(folder, name))}), "
        "not a file datamaestro made; it was not followed: remove it and run again"
    )


def _link_target(folder: int, name: str) -> str:
    """Where the link ``name`` of ``folder`` points ("?" when it cannot be read)."""
    try:
        return os.readlink(name, dir_fd=folder)
    except OSError:
        return "?"


#: control characters, line separators, bidi overrides and isolates, and lone surrogates
#: (names decoded with surrogateescape hold them; printing one raises UnicodeEncodeError)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str, limit: int = 300) -> str:
    """``text`` safe to print on a terminal: control and bidi characters escaped, length capped."""
    cleaned = _UNPRINTABLE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), str(text))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."
