"""``filedownloader``: one file fetched from a URL (with mirrors), verified, maybe gunzipped."""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlparse

from datamaestro.download import PrepareContext
from datamaestro.download.checksum import Checksum
from datamaestro.download.mirrors import (
    Fetched,
    RemoteResource,
    fetch_checked,
    no_verify_note,
    warn_unverified,
)
from datamaestro.errors import ChecksumError, DownloadError
from datamaestro.storage import atomic_file

log = logging.getLogger("datamaestro")

GZIP_INPUT = 1 << 16


class FileDownloader(RemoteResource):
    """A file downloaded from ``url`` or one of ``mirrors`` (tried in order).

    ``checksum`` ("md5:<hex>", "sha256:<hex>") is the published digest of the
    downloaded bytes; ``data_checksum`` is an optional sha256 of the
    decompressed content, which accepts recompressed copies of the same data.
    A URL ending in ``.gz`` is decompressed into ``name``.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        checksum: Optional[str] = None,
        size: Optional[int] = None,
        mirrors: Iterable[str] = (),
        data_checksum: Optional[str] = None,
        varname: Optional[str] = None,
    ):
        super().__init__(name, url, checksum=checksum, size=size, mirrors=mirrors, varname=varname)
        self.data_checksum = Checksum.parse(data_checksum) if data_checksum else None
        self.gunzip = urlparse(url).path.endswith(".gz") and not name.endswith(".gz")

    def describe(self) -> dict[str, Any]:
        data_checksum = str(self.data_checksum) if self.data_checksum else None
        return {**super().describe(), "data_checksum": data_checksum}

    def _install(self, ctx: PrepareContext, url: str) -> None:
        """Download ``url``, check it, then move it (decompressed) into place."""
        # A gunzipped file is identified by the sha256 of its data, computed
        # while decompressing: hashing the compressed bytes too would be wasted.
        fetched = fetch_checked(ctx, self.name, url, self.checksum, self.size, sha256=not self.gunzip)
        if self.checksum and not fetched.matches and not self.data_checksum:
            raise ChecksumError(f"expected {self.checksum}, got {fetched.digest}")
        dest = self.path(ctx)
        if self.gunzip:
            with atomic_file(dest) as out:
                content = self._gunzip(fetched.path, out)
                verified = self._verify_data(ctx, content, fetched)
        else:
            content = fetched.sha256
            verified = self._verify_data(ctx, content, fetched)
            dest.parent.mkdir(parents=True, exist_ok=True)
            fetched.path.replace(dest)
        entry = {"size": dest.stat().st_size, "sha256": content, "url": url, "verified": verified}
        if fetched.url != url:  # a local copy (prepare --from DIR)
            entry["source"] = fetched.url
        if verified is None:
            entry.update(no_verify_note(ctx, self.name, fetched))
        ctx.folder.record(ctx.dataset_id, self.name, entry)

    def _verify_data(self, ctx: PrepareContext, content: str, fetched: Fetched) -> Optional[str]:
        """What verified the file (None if nothing could); raises on a mismatch."""
        unverified = fetched.unverified is not None  # prepare --from DIR --no-verify
        if fetched.matches and not unverified:
            return str(self.checksum)
        if self.data_checksum:
            if content != self.data_checksum.hexdigest:
                if unverified:
                    return None
                expected = self.checksum or self.data_checksum
                raise ChecksumError(f"expected {expected}, got {fetched.digest or 'sha256:' + content}")
            if self.checksum:
                log.info(
                    "%s: %s differs from the published file (%s) but its data "
                    "matches sha256:%s: accepted",
                    ctx.dataset_id, self.name, self.checksum, content,
                )
            return f"data {self.data_checksum}"
        if not unverified:
            warn_unverified(ctx, self.name, content)
        return None

    def _gunzip(self, partial: Path, out: Any) -> str:
        """Gunzip ``partial`` (one or more members) into ``out``; returns the sha256 of the data.

        zlib checks each member's CRC and length itself; using it directly,
        rather than through the gzip module's reader, halves the cost. Input
        is read 64 KiB at a time, which bounds the output of one call.
        """
        digest = hashlib.sha256()
        inflate = zlib.decompressobj(wbits=31)
        with open(partial, "rb") as f:
            for compressed in iter(lambda: f.read(GZIP_INPUT), b""):
                while compressed:
                    if inflate.eof:  # the next gzip member
                        inflate = zlib.decompressobj(wbits=31)
                    try:
                        data = inflate.decompress(compressed)
                    except zlib.error as e:
                        raise DownloadError(f"corrupt gzip data ({e})") from None
                    out.write(data)  # a full disk is atomic_file's StorageError
                    digest.update(data)
                    compressed = inflate.unused_data.lstrip(b"\0") if inflate.eof else b""
        if not inflate.eof:
            raise DownloadError(
                "corrupt gzip data (Compressed file ended before the end-of-stream marker was reached)"
            )
        return digest.hexdigest()


#: The decorator form: ``@filedownloader(name, url, checksum=...)``.
filedownloader = FileDownloader
