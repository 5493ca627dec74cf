"""``filedownloader``: one file fetched from a URL (with mirrors), verified, maybe decompressed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Optional

from datamaestro.download import unpack
from datamaestro.download.context import PrepareContext
from datamaestro.download.packing import Limits, kind_of
from datamaestro.download.remote import RemoteResource
from datamaestro.hashing import Checksum, FileHash, hash_file
from datamaestro.manifest import Entry

#: compressed kinds that a file resource is decompressed from (by its URL's suffix) -> processor name
DECOMPRESSORS = {"gz": "gunzip", "bz2": "bunzip2", "xz": "unxz"}


class FileDownloader(RemoteResource):
    """A file downloaded from ``url`` or one of ``mirrors`` (tried in order).

    ``checksum`` ("md5:<hex>", "sha256:<hex>") is the published digest of the
    downloaded bytes; ``data_checksum`` is an optional sha256 of the
    decompressed content, which accepts recompressed copies of the same data.
    A URL ending in ``.gz``, ``.bz2`` or ``.xz`` is decompressed into ``name``
    (unless ``name`` keeps that suffix).
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
        data_checksum: Optional[str] = None,
        varname: Optional[str] = None,
    ):
        super().__init__(
            name, url, checksum=checksum, size=size, mirrors=mirrors,
            unpacked_size=unpacked_size, unpacked_files=unpacked_files, varname=varname,
        )
        self.data_checksum = Checksum.parse(data_checksum) if data_checksum else None
        kind = kind_of(url)
        self.compression = kind if kind in DECOMPRESSORS and not name.endswith("." + kind) else None

    def describe(self) -> dict[str, Any]:
        data_checksum = str(self.data_checksum) if self.data_checksum else None
        return {**super().describe(), "data_checksum": data_checksum}

    def transforms(self) -> bool:
        return self.compression is not None

    def unpack(self, source: Path, dest: Path, limits: Limits, label: str) -> FileHash:
        assert self.compression is not None  # else the download itself is the resource
        decompress: Callable[[Path, Path, Limits, str], FileHash] = getattr(unpack, DECOMPRESSORS[self.compression])
        return decompress(source, dest, limits, label)

    def reverify(self, ctx: PrepareContext, path: Path) -> Optional[Entry]:
        entry = super().reverify(ctx, path)
        if entry is None and self.data_checksum and path.is_file() and not path.is_symlink():
            found = hash_file(path)
            if found.sha256 == self.data_checksum.hexdigest:
                return Entry(
                    name=self.name, kind="file", size=found.size, sha256=found.sha256, url=self.url,
                    verified_by=f"data {self.data_checksum}",
                )
        return entry


#: The decorator form: ``@filedownloader(name, url, checksum=...)``.
filedownloader = FileDownloader
