"""``archivedownloader``: an archive (tar, tar.gz, tgz, zip) fetched, verified and safely extracted.

The archive is downloaded with the same URL loop and checks as single files
(``try_urls`` + ``fetch_checked``). Every member is checked before anything
is written: no absolute path, no ``..``, no link leading outside the
extracted folder, no device file or FIFO. The archive is extracted into a
temporary folder beside the target, which is renamed into place only when
everything went well; a refused or broken archive leaves nothing behind.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlparse

from datamaestro.download import PrepareContext
from datamaestro.download.mirrors import (
    RemoteResource,
    discard_partial,
    fetch_checked,
    no_verify_note,
    warn_unverified,
)
from datamaestro.errors import ChecksumError, FormatError
from datamaestro.storage import replace_folder

KINDS = ("tar", "tar.gz", "tgz", "tar.bz2", "tar.xz", "zip")


def archive_kind(url: str) -> str:
    """The archive type from a URL's file name (``tar``, ``tar.gz``, ``zip``...)."""
    path = urlparse(url).path.lower()
    for kind in sorted(KINDS, key=len, reverse=True):
        if path.endswith("." + kind):
            return kind
    raise FormatError(f"{url}: cannot tell the archive type; give kind= one of {', '.join(KINDS)}")


class ArchiveDownloader(RemoteResource):
    """A folder extracted from an archive at ``url`` (or one of ``mirrors``).

    ``checksum`` is the published digest of the archive; ``subpath`` selects
    one folder of the archive (e.g. ``cifar-10-batches-py``) to keep.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        checksum: Optional[str] = None,
        size: Optional[int] = None,
        mirrors: Iterable[str] = (),
        subpath: Optional[str] = None,
        kind: Optional[str] = None,
        varname: Optional[str] = None,
    ):
        super().__init__(name, url, checksum=checksum, size=size, mirrors=mirrors, varname=varname)
        self.subpath = subpath.strip("/") if subpath else None
        self.kind = kind or archive_kind(url)
        if self.kind not in KINDS:
            raise FormatError(f"unknown archive kind '{self.kind}' (known: {', '.join(KINDS)})")

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "archive": self.kind, "subpath": self.subpath}

    def is_prepared(self, ctx: PrepareContext) -> bool:
        return self.path(ctx).is_dir()

    def _install(self, ctx: PrepareContext, url: str) -> None:
        fetched = fetch_checked(ctx, self.name, url, self.checksum, self.size)
        if self.checksum and not fetched.matches:
            raise ChecksumError(f"expected {self.checksum}, got {fetched.digest}")
        if not self.checksum:
            warn_unverified(ctx, self.name, fetched.sha256)
        dest = self.path(ctx)
        try:
            extract(fetched.path, dest, self.kind, self.subpath, label=f"{self.name} of {ctx.dataset_id}")
        except FormatError:
            discard_partial(ctx, self.name)  # a refused archive is not worth resuming
            raise
        ctx.folder.record(
            ctx.dataset_id,
            self.name,
            {
                "archive_size": fetched.size,
                "sha256": fetched.sha256,
                "url": url,
                "verified": str(self.checksum) if self.checksum else None,
                "files": sum(1 for p in dest.rglob("*") if p.is_file()),
                **no_verify_note(ctx, self.name, fetched),
            },
        )


def extract(archive: Path, dest: Path, kind: str, subpath: Optional[str] = None, label: str = "") -> None:
    """Check every member of ``archive``, then extract it (or its ``subpath``) to ``dest``."""
    label = label or str(archive)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp"))
    try:
        if kind == "zip":
            _extract_zip(archive, tmp, label)
        else:
            _extract_tar(archive, tmp, label)
        root = tmp
        if subpath:
            root = tmp.joinpath(*subpath.split("/"))
            if not root.is_dir() or root.is_symlink():
                raise FormatError(f"{label}: the archive has no folder '{subpath}'")
        replace_folder(root, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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


#: decorator: the dataset needs the folder ``name``, extracted from the archive at ``url``
archivedownloader = ArchiveDownloader
