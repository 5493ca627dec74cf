"""``RemoteResource``: a resource made from a file published at a URL (or its mirrors).

Subclasses (``single``, ``archive``) say only how the download becomes the
resource (``unpack``); fetching it (``datamaestro.download.fetching``),
proving it (``datamaestro.download.verify``) and installing it
(``datamaestro.download.pipeline``) are the same for all.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

from datamaestro.config import Settings
from datamaestro.download import Resource
from datamaestro.download.context import PrepareContext
from datamaestro.download.packing import Limits
from datamaestro.hashing import Checksum, FileHash, file_digest, hash_file
from datamaestro.manifest import Entry


class RemoteResource(Resource):
    """A resource fetched from ``url`` or one of ``mirrors`` (tried in order).

    ``checksum`` ("md5:<hex>", "sha256:<hex>") is the published digest of the
    downloaded bytes, ``size`` their published length. ``unpacked_size`` and
    ``unpacked_files``, when given, bound what the download may expand to
    (else the ``max_unpacked_size`` and ``max_unpacked_files`` settings do).
    Subclasses say only how a download becomes the resource: ``unpack``.
    """

    #: sha256 of the resource's content when it differs from the download (decompressed): it proves
    #: recompressed copies of the same data
    data_checksum: Optional[Checksum] = None

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
        varname: Optional[str] = None,
    ):
        super().__init__(name, varname)
        self.url = url
        self.mirrors = list(mirrors)
        self.checksum = Checksum.parse(checksum) if checksum else None
        self.size = size
        self.unpacked_size = unpacked_size
        self.unpacked_files = unpacked_files

    def urls(self, ctx: PrepareContext) -> list[str]:
        """The URLs to try, in order, after the configured mirror rewriting."""
        return [ctx.settings.rewrite(u) for u in (self.url, *self.mirrors)]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "mirrors": self.mirrors,
            "size": self.size,
            "checksum": str(self.checksum) if self.checksum else None,
        }

    def unpack(self, source: Path, dest: Path, limits: Limits, label: str) -> FileHash | dict[str, FileHash]:
        """Make the resource at ``dest`` from the downloaded file ``source`` (a file's hash, or a folder's)."""
        raise NotImplementedError

    def unpacking(self) -> Optional[str]:
        """How ``unpack`` makes a folder, recorded in its manifest entry: two resources of the same
        checksum and the same ``unpacking`` are the same folder (None: not said, never shared)."""
        return None

    def reverify(self, ctx: PrepareContext, path: Path) -> Optional[Entry]:
        """A file in place that is the download itself is proven by the published checksum."""
        if not self.checksum or not path.is_file() or path.is_symlink() or self.transforms():
            return None
        if file_digest(path, self.checksum.algorithm) != self.checksum.hexdigest:
            return None
        found = hash_file(path)
        return Entry(
            name=self.name, kind="file", size=found.size, sha256=found.sha256, url=self.url,
            original=found, verified_by=str(self.checksum),
        )

    def transforms(self) -> bool:
        """Whether the resource differs from the downloaded file (decompressed, extracted)."""
        return True

    def limits(self, settings: Settings) -> Limits:
        """How much the download may expand to: what the definition declares, else the configured caps."""
        return Limits(
            max_bytes=self.unpacked_size or settings.max_unpacked_size,
            max_files=self.unpacked_files or settings.max_unpacked_files,
        )
