"""Archives built in code, good and hostile, for the unpacking tests.

Each builder returns the bytes of one archive. Members are given as
``(name, data)`` for files, or made with ``link``, ``folder``, ``special``.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import stat
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field


@dataclass
class Member:
    """One archive member: a file (``data``), a folder, a link, or a special kind."""

    name: str
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE  # the tar type; zip members map it to a mode
    target: str = ""
    pax: dict[str, str] = field(default_factory=dict)


def file(name: str, data: bytes = b"") -> Member:
    return Member(name, data)


def folder(name: str) -> Member:
    return Member(name, kind=tarfile.DIRTYPE)


def link(name: str, target: str) -> Member:
    return Member(name, kind=tarfile.SYMTYPE, target=target)


def hard_link(name: str, target: str) -> Member:
    return Member(name, kind=tarfile.LNKTYPE, target=target)


def special(name: str, kind: bytes) -> Member:
    """A device (``tarfile.CHRTYPE``, ``BLKTYPE``) or a FIFO (``FIFOTYPE``)."""
    return Member(name, kind=kind)


TAR_MODES = {"tar": "w", "tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}


def tar(members: list[Member], kind: str = "tar.gz") -> bytes:
    """A tar archive (pax format: long names and pax records allowed) of ``kind``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=TAR_MODES[kind], format=tarfile.PAX_FORMAT) as archive:  # type: ignore[call-overload]
        for m in members:
            info = tarfile.TarInfo(m.name)
            info.type = m.kind
            info.linkname = m.target
            info.mode = 0o755 if m.kind == tarfile.DIRTYPE else 0o644
            info.pax_headers = dict(m.pax)
            info.size = len(m.data) if m.kind == tarfile.REGTYPE else 0
            archive.addfile(info, io.BytesIO(m.data) if m.kind == tarfile.REGTYPE else None)
    return buffer.getvalue()


def tar_announcing(name: str, size: int, kind: str = "tar.gz", chunk: int = 1 << 20) -> bytes:
    """A tar holding one file of ``size`` zero bytes, written without holding it in memory."""
    raw = io.BytesIO()
    info = tarfile.TarInfo(name)
    info.size = size
    raw.write(info.tobuf(tarfile.PAX_FORMAT))
    zeros = bytes(chunk)
    compress = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [compress.compress(raw.getvalue())]
    left = size + (-size % tarfile.BLOCKSIZE) + 2 * tarfile.BLOCKSIZE
    while left:
        n = min(left, chunk)
        out.append(compress.compress(zeros[:n]))
        left -= n
    out.append(compress.flush())
    data = b"".join(out)
    return data if kind == "tar.gz" else gzip.decompress(data)


_ZIP_MODES = {
    tarfile.REGTYPE: stat.S_IFREG | 0o644,
    tarfile.DIRTYPE: stat.S_IFDIR | 0o755,
    tarfile.SYMTYPE: stat.S_IFLNK | 0o777,
    tarfile.CHRTYPE: stat.S_IFCHR | 0o644,
    tarfile.BLKTYPE: stat.S_IFBLK | 0o644,
    tarfile.FIFOTYPE: stat.S_IFIFO | 0o644,
}


def zip_archive(members: list[Member], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive; links are stored as Unix symlinks (mode in ``external_attr``, target as data)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for m in members:
            name = m.name + "/" if m.kind == tarfile.DIRTYPE and not m.name.endswith("/") else m.name
            info = zipfile.ZipInfo(name)
            info.create_system = 3  # Unix: the mode bits are meaningful
            info.external_attr = _ZIP_MODES[m.kind] << 16
            info.compress_type = compression
            data = m.target.encode() if m.kind == tarfile.SYMTYPE else m.data
            archive.writestr(info, data)
    return buffer.getvalue()


def zip_lying_about_size(name: str, data: bytes, announced: int) -> bytes:
    """A zip whose headers announce ``announced`` bytes for a member that holds ``len(data)``."""
    archive = bytearray(zip_archive([file(name, data)]))
    real = struct.pack("<I", len(data))
    fake = struct.pack("<I", announced)
    # the uncompressed size sits at offset 22 of the local header and 24 of the central one
    local = archive.index(b"PK\x03\x04")
    central = archive.index(b"PK\x01\x02")
    assert archive[local + 22 : local + 26] == real and archive[central + 24 : central + 28] == real
    archive[local + 22 : local + 26] = fake
    archive[central + 24 : central + 28] = fake
    return bytes(archive)


def chain_escape(depth: int = 11, then: str = "") -> list[Member]:
    """Links that each look inside but climb out: ``a0 -> .``, ``a1 -> a0/..``, ... (then ``a<depth>/<then>``)."""
    members = [link("a0", ".")] + [link(f"a{i}", f"a{i - 1}/..") for i in range(1, depth + 1)]
    if then:
        members.append(file(f"a{depth}/{then}", b"overwritten"))
    return members


def cve_2025_4517(escape_to: str, component: int = 247, steps: str = "abcdefghijklmnop") -> list[Member]:
    """The long-link-chain pattern of CVE-2025-4517: short links to long folders, whose resolved path
    exceeds PATH_MAX (``os.path.realpath`` then stops following links), then a link up and out."""
    members: list[Member] = []
    long_name = "d" * component
    path = ""
    for step in steps:
        members.append(folder(f"{path}{long_name}"))
        members.append(link(f"{path}{step}", long_name))
        path += long_name + "/"
    short = "/".join(steps)
    members.append(link(f"{short}/{'l' * 254}", "../" * len(steps)))
    members.append(link("escape", f"{short}/{'l' * 254}/" + "../" * len(steps) + escape_to))
    members.append(file("escape/canary.txt", b"overwritten"))
    return members


def gzip_members(*parts: bytes, padding: int = 0) -> bytes:
    """Several gzip members one after another, then ``padding`` zero bytes."""
    return b"".join(gzip.compress(p) for p in parts) + bytes(padding)


def bzip2_streams(*parts: bytes) -> bytes:
    return b"".join(bz2.compress(p) for p in parts)


def xz_streams(*parts: bytes) -> bytes:
    return b"".join(lzma.compress(p) for p in parts)


def zeros_gzip(size: int, chunk: int = 1 << 20) -> bytes:
    """``size`` zero bytes, gzipped without holding them in memory."""
    compress = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(chunk)
    out = []
    while size:
        n = min(size, chunk)
        out.append(compress.compress(zeros[:n]))
        size -= n
    out.append(compress.flush())
    return b"".join(out)
