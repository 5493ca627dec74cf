"""``RemoteResource``: a resource made from a file published at a URL (or its mirrors).

Subclasses (``single``, ``archive``) say only how the download becomes the
resource (``unpack``); fetching it (``datamaestro.download.fetching``) and
proving it (``datamaestro.download.verify``) are the same for all.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

from datamaestro.config import Settings
from datamaestro.download import Resource
from datamaestro.download.context import PrepareContext
from datamaestro.download.fetching import Fetch, Fetched, partial_of, try_urls
from datamaestro.download.packing import Limits
from datamaestro.download.verify import Verification
from datamaestro.errors import DownloadError, FormatError
from datamaestro.hashing import Checksum, FileHash, file_digest, hash_file
from datamaestro.log import log
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

    def produce(self, ctx: PrepareContext, dest: Path) -> Entry:
        twin = None
        if self.checksum and not ctx.local and not ctx.request.force:
            twin = ctx.folder.find_verified(str(self.checksum), exclude=ctx.dataset_id)
        if twin is not None:  # the same published file, already in the data folder: no download
            try:
                log.info("%s: %s is already in %s: using it", ctx.dataset_id, self.name, twin)
                return self.make(ctx, self.url, dest, twin)
            except (DownloadError, FormatError) as e:
                log.info("%s: %s could not be used (%s); downloading", ctx.dataset_id, twin, e)
        return try_urls(ctx, self.name, self.urls(ctx), lambda url: self.make(ctx, url, dest))

    def make(self, ctx: PrepareContext, url: str, dest: Path, twin: Optional[Path] = None) -> Entry:
        """Fetch ``url`` (or its local copy, or ``twin``), check it, unpack it to ``dest``; its entry."""
        fetched = Fetch(ctx, self.name, url, self.checksum, self.size).run(twin)
        verification = Verification(ctx, self.name, self.checksum, self.data_checksum, fetched)
        verification.check_download()
        unpacked = self.unpack_fetched(ctx, fetched, dest, verification.accepted)
        verdict = verification.verdict(unpacked if isinstance(unpacked, FileHash) else None)
        origin: dict[str, Any] = {
            "url": url,
            "source": fetched.store or (fetched.url if fetched.url != url else None),
            "original": FileHash(fetched.size, fetched.sha256),
            "verified_by": verdict.verified_by,
            "no_verify": verdict.no_verify,
        }
        if isinstance(unpacked, FileHash):
            return Entry.of_file(self.name, unpacked, **origin)
        return Entry.of_folder(self.name, unpacked, **origin)

    def unpack_fetched(
        self, ctx: PrepareContext, fetched: Fetched, dest: Path, accepted: bool
    ) -> FileHash | dict[str, FileHash]:
        """Make the resource at ``dest`` from the fetched file (``accepted``: proven by its checksum, or by
        --no-verify); a refused or corrupt download is deleted."""
        try:
            if self.transforms():
                return self.unpack(fetched.path, dest, self.limits(ctx.settings), f"{self.name} of {ctx.dataset_id}")
            os.replace(fetched.path, dest)  # the download itself is the resource: already hashed while fetched
            return FileHash(fetched.size, fetched.sha256)
        except FormatError as e:
            partial_of(ctx, self.name).discard()  # a refused or corrupt download is not worth resuming
            if self.checksum and accepted:
                raise  # the published file itself: another mirror would serve the same bytes
            raise DownloadError(str(e)) from None  # unverified bytes: another mirror may do better

    def unpack(self, source: Path, dest: Path, limits: Limits, label: str) -> FileHash | dict[str, FileHash]:
        """Make the resource at ``dest`` from the downloaded file ``source`` (a file's hash, or a folder's)."""
        raise NotImplementedError

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
