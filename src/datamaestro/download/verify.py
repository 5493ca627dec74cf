"""Verification: what proves a resource's content, in one place.

A download is proven by its published checksum; a decompressed file whose
download differs (a recompressed copy) by its ``data_checksum``; a local copy
that matches neither is accepted only with ``--no-verify``, and recorded so.
A resource with no published checksum is accepted with a warning, and its
sha256 is recorded, so that later changes are caught by ``verify``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from datamaestro.errors import ChecksumError
from datamaestro.hashing import Checksum, FileHash
from datamaestro.log import log

if TYPE_CHECKING:
    from datamaestro.download import PrepareContext
    from datamaestro.download.mirrors import Fetched, RemoteResource


def check_download(checksum: Optional[Checksum], fetched: Fetched, rescuable: bool) -> None:
    """Refuse a download that does not match its published checksum.

    Unless its content may still be proven after decompression (``rescuable``:
    the resource has a data checksum), or ``--no-verify`` accepted a local copy.
    """
    if checksum and not fetched.matches and not rescuable:
        raise ChecksumError(f"expected {checksum}, got {fetched.digest}")


def verdict(
    ctx: PrepareContext,
    name: str,
    resource: RemoteResource,
    fetched: Fetched,
    content: Optional[FileHash],
) -> tuple[Optional[str], Optional[str]]:
    """What verified the resource (None: nothing could) and the ``--no-verify`` note; raises on a mismatch.

    ``content`` is the hash of a single-file resource as it is in place (None for folders).
    """
    unverified = fetched.unverified is not None  # prepare --from DIR --no-verify
    if fetched.matches and not unverified:
        return str(resource.checksum), None
    data_checksum: Optional[Checksum] = getattr(resource, "data_checksum", None)
    if data_checksum and content is not None:
        if content.sha256 == data_checksum.hexdigest:
            if resource.checksum:
                log.info(
                    "%s: %s differs from the published file (%s) but its data matches sha256:%s: accepted",
                    ctx.dataset_id, name, resource.checksum, content.sha256,
                )
            return f"data {data_checksum}", None
        if not unverified:
            expected = resource.checksum or data_checksum
            raise ChecksumError(f"expected {expected}, got {fetched.digest or 'sha256:' + content.sha256}")
    if unverified:
        return None, _no_verify_note(ctx, name, fetched)
    if fetched.store_verified:  # no published checksum: the sha256 a trusted machine pushed
        return fetched.store_verified, None
    log.warning(
        "%s: %s has no published checksum, so it was not verified (recorded sha256:%s)",
        ctx.dataset_id, name, content.sha256 if content else fetched.sha256,
    )
    return None, None


def _no_verify_note(ctx: PrepareContext, name: str, fetched: Fetched) -> Optional[str]:
    """The manifest note of a copy that only ``--no-verify`` accepted (saying so on stderr); else None."""
    if fetched.unverified is None:
        return None
    log.warning(
        "%s: %s (%s) does not match its published checksum (%s); accepted because of --no-verify",
        ctx.dataset_id, name, fetched.url, fetched.unverified,
    )
    return f"accepted with --no-verify: {fetched.unverified}"
