"""Unpacking downloads: decompression and archive extraction, bounded and unable to escape.

TEMPORARY: the previous extraction code behind the processors' API; replaced by the safe,
bounded implementation.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlparse

from datamaestro.download.checksum import FileHash, hash_file
from datamaestro.errors import DownloadError, FormatError

GZIP_INPUT = 1 << 16
KINDS = ("tar", "tar.gz", "tgz", "tar.bz2", "tar.xz", "zip", "gz", "bz2", "xz")


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_files: int


def kind_of(filename: str) -> Optional[str]:
    path = urlparse(filename).path.lower()
    for kind in sorted(KINDS, key=len, reverse=True):
        if path.endswith("." + kind):
            return kind
    return None


def gunzip(source: Path, dest: Path, limits: Limits, label: str) -> FileHash:
    with open(dest, "wb") as out:
        sha, size = _gunzip(source, out)
    return FileHash(size, sha)


def untar(source: Path, dest: Path, limits: Limits, label: str, subpath: Optional[str] = None) -> dict[str, FileHash]:
    return _extract(source, dest, "tar", subpath, label)


def unzip(source: Path, dest: Path, limits: Limits, label: str, subpath: Optional[str] = None) -> dict[str, FileHash]:
    return _extract(source, dest, "zip", subpath, label)


def _gunzip(partial: Path, out: Any) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    inflate = zlib.decompressobj(wbits=31)
    with open(partial, "rb") as f:
        for compressed in iter(lambda: f.read(GZIP_INPUT), b""):
            while compressed:
                if inflate.eof:
                    inflate = zlib.decompressobj(wbits=31)
                try:
                    data = inflate.decompress(compressed)
                except zlib.error as e:
                    raise DownloadError(f"corrupt gzip data ({e})") from None
                out.write(data)
                digest.update(data)
                size += len(data)
                compressed = inflate.unused_data.lstrip(b"\0") if inflate.eof else b""
    if not inflate.eof:
        raise DownloadError("corrupt gzip data (Compressed file ended before the end-of-stream marker was reached)")
    return digest.hexdigest(), size


def _extract(archive: Path, dest: Path, kind: str, subpath: Optional[str], label: str) -> dict[str, FileHash]:
    tmp = dest.parent / (dest.name + ".x")
    tmp.mkdir()
    if kind == "zip":
        _extract_zip(archive, tmp, label)
    else:
        _extract_tar(archive, tmp, label)
    root = tmp
    if subpath:
        root = tmp.joinpath(*subpath.split("/"))
        if not root.is_dir() or root.is_symlink():
            raise FormatError(f"{label}: the archive has no folder '{subpath}'")
    os.replace(root, dest)
    shutil.rmtree(tmp, ignore_errors=True)
    out = {}
    for top, _d, names in os.walk(dest):
        for n in names:
            p = Path(top) / n
            if p.is_file() and not p.is_symlink():
                out[p.relative_to(dest).as_posix()] = hash_file(p)
    return out


def _check_name(name: str, label: str) -> str:
    """The member path, normalised; refuses absolute paths and ``..``."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise FormatError(f"{label}: refused: member '{name}' has an absolute path")
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        raise FormatError(f"{label}: refused: member '{name}' points outside the archive folder ('..')")
    return posixpath.normpath(name.replace("\\", "/"))


def _check_link(name: str, target: str, hard: bool, label: str) -> None:
    """Refuse a link whose target lies outside the extracted folder."""
    kind = "hard link" if hard else "symbolic link"
    if target.startswith(("/", "\\")) or (len(target) > 1 and target[1] == ":"):
        raise FormatError(f"{label}: refused: {kind} '{name}' points to the absolute path '{target}'")
    base = "" if hard else posixpath.dirname(name)
    resolved = posixpath.normpath(posixpath.join(base, target.replace("\\", "/")))
    if resolved == ".." or resolved.startswith("../"):
        raise FormatError(f"{label}: refused: {kind} '{name}' points outside the archive folder ('{target}')")


def _extract_tar(archive: Path, tmp: Path, label: str) -> None:
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for m in members:
                name = _check_name(m.name, label)
                if m.isdev() or m.isfifo():
                    raise FormatError(f"{label}: refused: member '{m.name}' is a device file or FIFO")
                if m.issym() or m.islnk():
                    _check_link(name, m.linkname, m.islnk(), label)
                elif not (m.isfile() or m.isdir()):
                    raise FormatError(f"{label}: refused: member '{m.name}' has an unsupported type")
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, members=members, filter="data")
            else:  # pragma: no cover - Python without PEP 706
                tar.extractall(tmp, members=members)
    except tarfile.TarError as e:
        raise FormatError(f"{label}: corrupt or truncated tar archive ({e})") from None
    except (EOFError, OSError) as e:
        raise FormatError(f"{label}: corrupt or truncated archive ({e})") from None


def _extract_zip(archive: Path, tmp: Path, label: str) -> None:
    try:
        with zipfile.ZipFile(archive) as z:
            infos = z.infolist()
            for info in infos:
                name = _check_name(info.filename, label)
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    _check_link(name, z.read(info).decode("utf-8", "replace"), False, label)
                elif stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                    raise FormatError(f"{label}: refused: member '{info.filename}' is a device file or FIFO")
            for info in infos:
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    target = z.read(info).decode("utf-8")
                    path = tmp / _check_name(info.filename, label)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    os.symlink(target, path)
                else:
                    z.extract(info, tmp)
            _check_no_escape(tmp, label)
    except zipfile.BadZipFile as e:
        raise FormatError(f"{label}: corrupt zip archive ({e})") from None
    except (EOFError, OSError, zipfile.LargeZipFile) as e:
        raise FormatError(f"{label}: corrupt or truncated archive ({e})") from None


def _check_no_escape(root: Path, label: str) -> None:
    """Refuse if any extracted path resolves outside ``root`` (link chains)."""
    real = root.resolve()
    for path in root.rglob("*"):
        if path.is_symlink():
            target = path.resolve()
            if target != real and real not in target.parents:
                raise FormatError(f"{label}: refused: link '{path.relative_to(root)}' leads outside the archive folder")




def _decompress(opener: Any, source: Path, dest: Path) -> FileHash:
    digest = hashlib.sha256()
    size = 0
    with opener(source, "rb") as f, open(dest, "wb") as out:
        while chunk := f.read(1 << 20):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return FileHash(size, digest.hexdigest())


def bunzip2(source: Path, dest: Path, limits: Limits, label: str) -> FileHash:
    import bz2

    return _decompress(bz2.open, source, dest)


def unxz(source: Path, dest: Path, limits: Limits, label: str) -> FileHash:
    import lzma

    return _decompress(lzma.open, source, dest)
