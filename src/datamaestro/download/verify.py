"""Verification: what proves a resource's content, in one place.

A download is proven by its published checksum; a decompressed file whose
download differs (a recompressed copy) by its ``data_checksum``; a local copy
that matches neither is accepted only with ``--no-verify``, and recorded so.
A resource with no published checksum is accepted with a warning, and its
sha256 is recorded, so that later changes are caught by ``verify``; one that
came from the team store is proven by the sha256 its record holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from datamaestro.download.context import PrepareContext
from datamaestro.download.fetching import Fetched
from datamaestro.errors import ChecksumError
from datamaestro.hashing import Checksum, FileHash
from datamaestro.log import log


@dataclass(frozen=True, slots=True)
class Verdict:
    """What verified a resource, as its manifest entry records it."""

    #: the published checksum, "data sha256:<hex>", "store record sha256:<hex>"; None: nothing could
    verified_by: Optional[str] = None
    #: why a local copy was accepted by ``--no-verify`` although it does not match
    no_verify: Optional[str] = None


class Verification:
    """The checks of one fetched original: before it is unpacked, then of the resource made from it."""

    def __init__(
        self,
        ctx: PrepareContext,
        name: str,
        checksum: Optional[Checksum],
        data_checksum: Optional[Checksum],
        fetched: Fetched,
    ):
        self.ctx = ctx
        self.name = name
        self.checksum = checksum
        self.data_checksum = data_checksum
        self.fetched = fetched
        #: the digest of the bytes in the checksum's algorithm (None without checksum)
        self.digest = fetched.digest(checksum) if checksum else None
        #: whether the bytes are the published file
        self.matches = checksum is not None and fetched.matches(checksum)
        #: why a local copy accepted by --no-verify does not match (None otherwise)
        self.unverified: Optional[str] = None
        request = ctx.request
        if checksum and not self.matches and request.source_dir is not None and request.no_verify:
            self.unverified = f"expected {checksum}, got {self.digest}"

    @property
    def accepted(self) -> bool:
        """Whether the bytes are the published file, or a local copy that ``--no-verify`` accepted."""
        return self.matches or self.unverified is not None

    def check_download(self) -> None:
        """Refuse a download that does not match its published checksum.

        Unless its content may still be proven after decompression (a data
        checksum), or ``--no-verify`` accepted a local copy.
        """
        if self.checksum and not self.matches and not self.data_checksum and self.unverified is None:
            raise ChecksumError(f"expected {self.checksum}, got {self.digest}")

    def verdict(self, content: Optional[FileHash]) -> Verdict:
        """What verified the resource; raises on a mismatch.

        ``content`` is the hash of a single-file resource as it is in place (None for folders).
        """
        ctx, name, fetched = self.ctx, self.name, self.fetched
        if self.matches:
            return Verdict(str(self.checksum))
        unverified = self.unverified is not None  # prepare --from DIR --no-verify
        if self.data_checksum and content is not None:
            if content.sha256 == self.data_checksum.hexdigest:
                if self.checksum:
                    log.info(
                        "%s: %s differs from the published file (%s) but its data matches sha256:%s: accepted",
                        ctx.dataset_id, name, self.checksum, content.sha256,
                    )
                return Verdict(f"data {self.data_checksum}")
            if not unverified:
                expected = self.checksum or self.data_checksum
                raise ChecksumError(f"expected {expected}, got {self.digest or 'sha256:' + content.sha256}")
        if unverified:
            log.warning(
                "%s: %s (%s) does not match its published checksum (%s); accepted because of --no-verify",
                ctx.dataset_id, name, fetched.url, self.unverified,
            )
            return Verdict(no_verify=f"accepted with --no-verify: {self.unverified}")
        if fetched.store_verified:  # no published checksum: the sha256 a trusted machine pushed
            return Verdict(fetched.store_verified)
        log.warning(
            "%s: %s has no published checksum, so it was not verified (recorded sha256:%s)",
            ctx.dataset_id, name, content.sha256 if content else fetched.sha256,
        )
        return Verdict()
