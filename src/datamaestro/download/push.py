"""Pushing a prepared dataset's originals to a store (``datamaestro push``).

A file installed as downloaded is pushed from the data folder once its bytes
match the manifest (and the published checksum). A file installed otherwise
(gunzipped, an extracted archive) is no longer the original: its original is
pushed from where ``prepare`` kept it when a store was configured
(``kept_original``, removed once the store has it), else fetched again from the
origin; either way verified against the manifest and the published checksum. Files the store already
holds are skipped, so an interrupted push resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from datamaestro.config import Settings
from datamaestro.download.checks import absent
from datamaestro.download.context import PrepareContext, Request
from datamaestro.download.fetching import Fetch, try_urls
from datamaestro.download.inplace import Definition, problems
from datamaestro.download.remote import RemoteResource
from datamaestro.download.single import FileDownloader
from datamaestro.download.transport import Policy
from datamaestro.errors import ChecksumError, DatamaestroError, UsageError
from datamaestro.hashing import Checksum, file_digests
from datamaestro.log import log
from datamaestro.manifest import Entry as ManifestEntry
from datamaestro.store.backend import Store
from datamaestro.store.originals import kept_original
from datamaestro.store.records import Entry, Record
from datamaestro.store.transfer import REPLACEABLE, add_to_record, push_blob, read_record


@dataclass
class PushReport:
    """What one ``push`` of a dataset did."""

    dataset_id: str
    uploaded: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def line(self, store: Store) -> str:
        parts = [f"{len(self.uploaded)} uploaded", f"{len(self.present)} already in the store"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} not pushed ({', '.join(self.skipped)})")
        return f"{self.dataset_id}: {', '.join(parts)} ({store.url})"


def push_dataset(settings: Settings, store: Store, definition: Definition, quiet: bool = False) -> PushReport:
    """Push the originals of the prepared ``definition``, then its record (``quiet``: no progress bars)."""
    ctx = PrepareContext(definition.id, settings, Request(quiet=quiet))
    dataset_id = definition.id
    if any(p and absent(p[0]) for p in problems(definition, ctx).values()):
        raise UsageError(f"{dataset_id} is not prepared in {settings.datadir}; run 'datamaestro prepare {dataset_id}' first")
    report = PushReport(dataset_id)
    try:
        record = read_record(store, dataset_id) or Record(dataset_id)
    except REPLACEABLE as e:  # refused content; an unreachable store raises instead
        log.warning("%s; it will be replaced", e)
        record = Record(dataset_id)
    entries: dict[str, Entry] = {}
    with ctx.folder.lock(dataset_id):
        manifest = ctx.folder.manifest(dataset_id).entries
        for resource in definition.resources:
            if not isinstance(resource, RemoteResource):
                continue  # derived from the others: rebuilt where it is pulled
            entry = manifest.get(resource.name)
            if entry is None:
                raise UsageError(f"{dataset_id}: {resource.name} has no record; run 'datamaestro prepare {dataset_id}' first")
            if entry.no_verify:
                log.warning("%s: %s was accepted with --no-verify: not pushed", dataset_id, resource.name)
                report.skipped.append(resource.name)
                continue
            known = _in_store(store, record, resource, entry)
            if known is not None:
                entries[resource.name] = known
                report.present.append(resource.name)
                _drop_kept(ctx, resource.name)
                continue
            pushed, uploaded = _push_original(ctx, store, resource, entry)
            entries[resource.name] = pushed
            (report.uploaded if uploaded else report.present).append(resource.name)
            add_to_record(store, dataset_id, {resource.name: pushed})  # an interrupted push resumes after it
            _drop_kept(ctx, resource.name)
    if entries:
        add_to_record(store, dataset_id, entries)
    return report


def _in_store(store: Store, record: Record, resource: RemoteResource, entry: ManifestEntry) -> Optional[Entry]:
    """The store's entry for ``resource`` when the store already holds its blob."""
    known = record.files.get(resource.name)
    declared = str(resource.checksum) if resource.checksum else None
    if known is None and entry.original is not None:
        # the manifest records the sha256 of the downloaded original: the blob may be there from elsewhere
        known = Entry(entry.original.sha256, entry.original.size, entry.url or resource.url, declared)
    if known is None or (declared and known.checksum not in (None, declared)):
        return None
    if store.size(store.blob(known.sha256)) != known.size:
        return None
    return dataclasses.replace(known, checksum=declared)


def _installed_as_downloaded(resource: RemoteResource) -> bool:
    """Whether the prepared file is the downloaded original itself."""
    return not resource.transforms()


def _push_original(
    ctx: PrepareContext, store: Store, resource: RemoteResource, entry: ManifestEntry
) -> tuple[Entry, bool]:
    """Push the original of ``resource``: from the data folder, or fetched again from the origin.

    Returns its record entry and whether it was uploaded (False: the store had its blob).
    """
    dataset_id, name = ctx.dataset_id, resource.name
    label = f"{dataset_id}: {name} -> store"
    declared = str(resource.checksum) if resource.checksum else None
    if _installed_as_downloaded(resource):
        path = resource.path(ctx)
        size, sha256 = _check_installed(ctx, resource, entry)
        log.info("%s: pushing %s from %s", dataset_id, name, path)
        uploaded = push_blob(store, path, sha256, size, label, ctx.request.quiet)
        return Entry(sha256, size, entry.url or resource.url, declared), uploaded
    kept = _kept(ctx, resource, entry)
    if kept is not None and entry.original is not None:
        log.info("%s: pushing the original of %s from %s, kept when it was prepared", dataset_id, name, kept)
        original = entry.original
        uploaded = push_blob(store, kept, original.sha256, original.size, label, ctx.request.quiet)
        return Entry(original.sha256, original.size, entry.url or resource.url, declared), uploaded
    log.info(
        "%s: %s is installed %s, not as downloaded: fetching its original again from the origin to push it",
        dataset_id, name, "extracted" if not isinstance(resource, FileDownloader) else "decompressed",
    )
    # the origin only (offline, even a local store is no origin): this copy goes to the store below
    origin = PrepareContext(dataset_id, dataclasses.replace(ctx.settings, store_url=None), ctx.request)
    pushed: list[tuple[Entry, bool]] = []

    def attempt(url: str, policy: Policy) -> None:
        fetched = Fetch(origin, None, name, url, resource.checksum, resource.size, policy).run()
        if resource.checksum and not fetched.matches(resource.checksum):
            raise ChecksumError(f"expected {resource.checksum}, got {fetched.digest(resource.checksum)}")
        uploaded = push_blob(store, fetched.path, fetched.sha256, fetched.size, label, ctx.request.quiet)
        pushed.append((Entry(fetched.sha256, fetched.size, url, declared), uploaded))

    try_urls(origin, name, resource.urls(origin), attempt)
    return pushed[0]


def _check_installed(ctx: PrepareContext, resource: RemoteResource, entry: ManifestEntry) -> tuple[int, str]:
    """Size and sha256 of the installed original, refusing one that changed since it was prepared."""
    path = resource.path(ctx)
    checksum: Optional[Checksum] = resource.checksum
    size = path.stat().st_size
    digests = file_digests(path, ["sha256", *([checksum.algorithm] if checksum else [])])
    sha256 = digests["sha256"]
    changed = entry.sha256 != sha256 or (checksum is not None and digests[checksum.algorithm] != checksum.hexdigest)
    if changed:
        raise DatamaestroError(
            f"{ctx.dataset_id}: {path} does not match its manifest or published checksum (sha256:{sha256}); "
            f"not pushed: run 'datamaestro prepare --force {ctx.dataset_id}', then push again"
        )
    return size, sha256


def _kept(ctx: PrepareContext, resource: RemoteResource, entry: ManifestEntry) -> Optional[Path]:
    """The original of ``resource`` that ``prepare`` kept, when its bytes are those of the manifest
    and the published checksum (None otherwise)."""
    path = kept_original(ctx.folder, ctx.dataset_id, resource.name)
    original, checksum = entry.original, resource.checksum
    if original is None or path.is_symlink() or not path.is_file() or path.stat().st_size != original.size:
        return None
    digests = file_digests(path, ["sha256", *([checksum.algorithm] if checksum else [])])
    if digests["sha256"] != original.sha256 or (checksum is not None and digests[checksum.algorithm] != checksum.hexdigest):
        log.warning("%s: %s does not match its manifest: not pushed from it", ctx.dataset_id, path)
        return None
    return path


def _drop_kept(ctx: PrepareContext, name: str) -> None:
    """Remove the kept original of ``name``: the store has it now."""
    path = kept_original(ctx.folder, ctx.dataset_id, name)
    if os.path.lexists(path):
        ctx.folder.remove(path)
