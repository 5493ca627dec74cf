"""``archivedownloader``: an archive (tar, tar.gz, tgz, tar.bz2, tar.xz, zip) fetched, verified and
extracted by ``datamaestro.download.unpack``, which refuses any member that would land outside
the extracted folder and bounds what an archive may expand to."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

from datamaestro.download import unpack
from datamaestro.download.packing import Limits, kind_of
from datamaestro.download.remote import RemoteResource
from datamaestro.errors import DefinitionError
from datamaestro.hashing import FileHash

KINDS = ("tar", "tar.gz", "tgz", "tar.bz2", "tar.xz", "zip")


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
        unpacked_size: Optional[int] = None,
        unpacked_files: Optional[int] = None,
        subpath: Optional[str] = None,
        kind: Optional[str] = None,
        varname: Optional[str] = None,
    ):
        super().__init__(
            name, url, checksum=checksum, size=size, mirrors=mirrors,
            unpacked_size=unpacked_size, unpacked_files=unpacked_files, varname=varname,
        )
        self.subpath = subpath.strip("/") if subpath else None
        self.kind = kind or kind_of(url) or ""
        if self.kind not in KINDS:
            raise DefinitionError(
                f"{name}: cannot tell the archive type of {url}; give kind= one of {', '.join(KINDS)}"
            )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "archive": self.kind, "subpath": self.subpath}

    def unpacking(self) -> Optional[str]:
        """The archive's type and the subpath kept ("tar.gz, subpath images"); None for a subclass
        that unpacks otherwise."""
        if type(self).unpack is not ArchiveDownloader.unpack:
            return None
        return f"{self.kind}, subpath {self.subpath}" if self.subpath else self.kind

    def unpack(self, source: Path, dest: Path, limits: Limits, label: str) -> dict[str, FileHash]:
        extract = unpack.unzip if self.kind == "zip" else unpack.untar
        return extract(source, dest, limits, label, self.subpath)


#: decorator: the dataset needs the folder ``name``, extracted from the archive at ``url``
archivedownloader = ArchiveDownloader
