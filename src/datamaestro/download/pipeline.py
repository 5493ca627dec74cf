"""The one install pipeline: fetch, unpack into staging, verify, record, rename in.

Every resource kind goes through ``install``. A remote resource's original is
fetched (``datamaestro.download.fetching``: ``downloads/`` holds partial
downloads), checked (``datamaestro.download.verify``) and unpacked into a
staging folder inside the dataset folder; a derived one is built there from
its sources. Then the manifest entry is written, and only then is the staged
result renamed into place. So a resource in place always has its record, and
a failed attempt leaves the previous copy untouched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from datamaestro.download import Resource
from datamaestro.download.context import PrepareContext
from datamaestro.download.fetching import Fetch, Fetched, Refused, partial_of, try_urls
from datamaestro.download.remote import RemoteResource
from datamaestro.download.transport import Policy
from datamaestro.download.verify import Verification
from datamaestro.errors import DownloadError, FormatError, UnsafePathError
from datamaestro.hashing import FileHash
from datamaestro.log import log
from datamaestro.manifest import Entry
from datamaestro.storage import NotReusable
from datamaestro.store.originals import TeamStore


def install(ctx: PrepareContext, resource: Resource, store: Optional[TeamStore]) -> Entry:
    """Produce ``resource`` in staging, record it, then rename it into place (``store``: the team store)."""
    folder = ctx.folder
    staging = folder.staging(ctx.dataset_id, resource.name)
    try:
        dest = staging / resource.name
        if isinstance(resource, RemoteResource):
            entry = produce_remote(ctx, store, resource, dest)
        else:
            entry = resource.produce(ctx, dest)
        folder.record(ctx.dataset_id, entry)  # before the rename: what is in place has its record
        folder.put_in_place(dest, ctx.dataset_id, resource.name)
        return entry
    finally:
        folder.remove(staging)


def produce_remote(ctx: PrepareContext, store: Optional[TeamStore], resource: RemoteResource, dest: Path) -> Entry:
    """Make ``resource`` at ``dest`` from the same published file (or the same archive, unpacked the same
    way) in the data folder, else from its URLs."""
    twin = None
    if resource.checksum and not ctx.local and not ctx.request.force:
        reused = reuse_unpacked(ctx, resource, dest)
        if reused is not None:
            return reused
        twin = ctx.folder.find_verified(str(resource.checksum), exclude=ctx.dataset_id)
    if twin is not None:  # the same published file, already in the data folder: no download
        try:
            log.info("%s: %s is already in %s: using it", ctx.dataset_id, resource.name, twin)
            return make(ctx, store, resource, resource.url, dest, twin)
        except (DownloadError, FormatError) as e:
            log.info("%s: %s could not be used (%s); downloading", ctx.dataset_id, twin, e)
    return try_urls(
        ctx, resource.name, resource.urls(ctx), lambda url, policy: make(ctx, store, resource, url, dest, policy=policy)
    )


def reuse_unpacked(ctx: PrepareContext, resource: RemoteResource, dest: Path) -> Optional[Entry]:
    """The entry of ``resource`` made at ``dest`` of hard links to the folder another dataset unpacked
    the same way from the same verified archive; None when there is none, or it differs from its record."""
    unpacking = resource.unpacking()
    if unpacking is None or resource.checksum is None:
        return None
    checksum = str(resource.checksum)
    found = ctx.folder.find_unpacked(checksum, unpacking, exclude=ctx.dataset_id)
    if found is None:
        return None
    limits = resource.limits(ctx.settings)
    if found.entry.size > limits.max_bytes or len(found.entry.files) > limits.max_files:
        log.info("%s: %s of %s is beyond this dataset's unpack limits; downloading it", ctx.dataset_id,
                 found.entry.name, found.dataset_id)
        return None
    try:
        files = ctx.folder.link_unpacked(found, dest)
    except (NotReusable, UnsafePathError, OSError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        log.warning(
            "%s: %s of %s is not reused (%s); downloading %s (check it with 'datamaestro verify %s')",
            ctx.dataset_id, found.entry.name, found.dataset_id, why, resource.name, found.dataset_id,
        )
        if os.path.lexists(dest):
            ctx.folder.remove(dest)
        return None
    log.info("%s: %s is already unpacked in %s: linking it", ctx.dataset_id, resource.name, found.path)
    return Entry.of_folder(
        resource.name, files, url=resource.url, source=f"linked from {found.path}", original=found.entry.original,
        verified_by=checksum, unpacking=unpacking,
    )


def make(
    ctx: PrepareContext,
    store: Optional[TeamStore],
    resource: RemoteResource,
    url: str,
    dest: Path,
    twin: Optional[Path] = None,
    policy: Optional[Policy] = None,
) -> Entry:
    """Fetch ``url`` (or its local copy, or ``twin``), check it, unpack it to ``dest``; its entry."""
    fetched = Fetch(ctx, store, resource.name, url, resource.checksum, resource.size, policy).run(twin)
    verification = Verification(ctx, resource.name, resource.checksum, resource.data_checksum, fetched)
    verification.check_download()
    unpacked = unpack_fetched(ctx, resource, fetched, dest, verification.accepted)
    verdict = verification.verdict(unpacked if isinstance(unpacked, FileHash) else None)
    if store is not None and resource.transforms() and not verdict.no_verify:  # kept for a later push
        store.keep(ctx.folder, ctx.dataset_id, resource.name, fetched.path, fetched.store is not None)
    origin: dict[str, Any] = {
        "url": url,
        "source": fetched.store or (fetched.url if fetched.url != url else None),
        "original": FileHash(fetched.size, fetched.sha256),
        "verified_by": verdict.verified_by,
        "no_verify": verdict.no_verify,
        "unpacking": resource.unpacking(),
    }
    if isinstance(unpacked, FileHash):
        return Entry.of_file(resource.name, unpacked, **origin)
    return Entry.of_folder(resource.name, unpacked, **origin)


def unpack_fetched(
    ctx: PrepareContext, resource: RemoteResource, fetched: Fetched, dest: Path, accepted: bool
) -> FileHash | dict[str, FileHash]:
    """Make the resource at ``dest`` from the fetched file (``accepted``: proven by its checksum, or by
    --no-verify); a refused or corrupt download is deleted."""
    try:
        if resource.transforms():
            label = f"{resource.name} of {ctx.dataset_id}"
            return resource.unpack(fetched.path, dest, resource.limits(ctx.settings), label)
        os.replace(fetched.path, dest)  # the download itself is the resource: already hashed while fetched
        return FileHash(fetched.size, fetched.sha256)
    except FormatError as e:
        partial_of(ctx, resource.name).discard()  # a refused or corrupt download is not worth resuming
        if resource.checksum and accepted:
            raise  # the published file itself: another mirror would serve the same bytes
        raise Refused(e) from None  # unverified bytes: another mirror may do better
