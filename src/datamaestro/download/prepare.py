"""Preparing a dataset: what is wrong with its files in place, and fetching what is missing.

One ``PrepareContext`` is built per preparation (``DatasetDefinition.prepare``)
and passed to every step. The manifest is read once for the quick check and
once more under the dataset's lock (another process may have prepared it
meanwhile); the resources found in place without a record are recorded
again when their declarations prove them (``adopt``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Optional, Protocol

from datamaestro.download import Resource, pipeline, progress
from datamaestro.download.context import PrepareContext
from datamaestro.download.partial import Partial
from datamaestro.download.pool import run_concurrently
from datamaestro.errors import ChecksumError, DatamaestroError, DownloadError, OfflineError
from datamaestro.log import log
from datamaestro.manifest import Manifest
from datamaestro.storage import human_size
from datamaestro.store.offline import offline_note, usable_offline


class Definition(Protocol):
    """What preparing needs of a dataset definition: its id and its resources."""

    @property
    def id(self) -> str: ...

    @property
    def resources(self) -> Sequence[Resource]: ...


def problems(
    definition: Definition, ctx: PrepareContext, full: bool = False, manifest: Optional[Manifest] = None
) -> dict[str, list[str]]:
    """What is wrong with each resource in the data folder (an empty list: in place, as recorded).

    Quick by default (recorded, present, sizes as recorded); ``full`` hashes
    every byte. ``manifest``: the dataset's manifest, when already read.
    """
    manifest = manifest or ctx.folder.manifest(definition.id)
    found: dict[str, list[str]] = {}
    for resource in definition.resources:
        entry = manifest.entries.get(resource.name)
        path = resource.path(ctx)
        if entry is None:
            found[resource.name] = [f"{resource.name}: " + ("not recorded" if os.path.lexists(path) else "missing")]
        else:
            found[resource.name] = pipeline.check(path, entry, full)
    return found


def adopt(definition: Definition, ctx: PrepareContext, manifest: Optional[Manifest] = None) -> Manifest:
    """Record the resources found in place without a record, where their declarations prove them.

    This rebuilds a missing or corrupt manifest without deleting anything;
    returns the manifest with what it recorded.
    """
    manifest = manifest or ctx.folder.manifest(definition.id)
    for resource in definition.resources:
        path = resource.path(ctx)
        if resource.name in manifest.entries or not os.path.lexists(path) or path.is_symlink():
            continue
        entry = resource.reverify(ctx, path)
        if entry is not None:
            log.info("%s: %s is in place and matches %s: recorded again", definition.id, resource.name, entry.verified_by)
            ctx.folder.record(definition.id, entry)
            manifest = manifest.with_entry(entry)
    return manifest


def prepare(definition: Definition, ctx: PrepareContext) -> None:
    """Fetch whatever is missing or damaged (everything with ``force``).

    One process at a time prepares a dataset (a file lock in the data folder);
    the others wait, then use its files. Offline, a dataset that is not
    prepared fails at once, naming what is missing. With ``repair`` every
    byte is checked first, and only what fails is fetched again.
    """
    request, settings = ctx.request, ctx.settings
    if not (request.force or request.repair or any(problems(definition, ctx).values())):
        return
    if settings.offline and not (ctx.local or usable_offline(settings)):  # a local store may still serve it
        raise OfflineError(offline_message(definition, ctx, adopt(definition, ctx)))
    with ctx.folder.lock(definition.id):
        prepare_locked(definition, ctx)


def offline_message(definition: Definition, ctx: PrepareContext, manifest: Manifest) -> str:
    """Why an offline preparation cannot go on."""
    dataset_id = definition.id
    missing = [name for name, found in problems(definition, ctx, manifest=manifest).items() if found]
    if not missing:
        return f"offline mode: {dataset_id} is prepared; --force and --repair need network access"
    return (
        f"offline mode: {dataset_id} is not prepared (missing {', '.join(missing)}); "
        f"run 'datamaestro prepare {dataset_id}' with network access, "
        f"or 'datamaestro prepare {dataset_id} --from DIR' with a copy of its files{offline_note(ctx.settings)}"
    )


def prepare_locked(definition: Definition, ctx: PrepareContext) -> None:
    """Prepare the resources that are missing or damaged, holding the dataset's lock."""
    dataset_id, force = definition.id, ctx.request.force
    for leftover in ctx.folder.temporaries(dataset_id):  # from a killed run: never left to grow
        log.info("%s: removing %s, left by an interrupted run", dataset_id, leftover.name)
        ctx.folder.remove(leftover)
    manifest = adopt(definition, ctx)
    found = problems(definition, ctx, full=ctx.request.repair, manifest=manifest)
    todo = [r for r in definition.resources if force or found[r.name]]
    for resource in todo:
        if found[resource.name] not in ([], [f"{resource.name}: missing"]) and not force:
            log.info("%s: %s; fetching it again", dataset_id, "; ".join(found[resource.name]))
    try:
        errors = install_all(ctx, todo)
    except KeyboardInterrupt:
        kept = sum(Partial(p).kept() for p in ctx.folder.partial_files(dataset_id) if p.name.endswith(".part"))
        if kept:
            log.warning(
                "%s: interrupted; %s of partial downloads kept in %s: the next run resumes",
                dataset_id, human_size(kept), ctx.folder.download_dir(dataset_id),
            )
        raise
    finally:
        for directory in (ctx.folder.download_dir(dataset_id), ctx.folder.dataset_dir(dataset_id)):
            try:  # once empty
                directory.rmdir()
            except OSError:
                pass
    if errors:  # local copies (--from DIR): every file that was not used
        raise unused_copies(ctx, errors)


def install_all(ctx: PrepareContext, todo: list[Resource]) -> list[DownloadError]:
    """Install the downloads side by side, then what is derived from them; the errors of local copies.

    Downloads fail at the first error, but local copies (``--from DIR``) are
    all tried, and their errors returned (then nothing derived is built).
    """
    downloads = [r for r in todo if not r.requires()]
    with progress.dataset(ctx.dataset_id, files=len(downloads), quiet=ctx.request.quiet) as display:

        def install(resource: Resource) -> None:
            pipeline.install(ctx, resource)
            display.file_done()

        try:
            errors = run_concurrently(downloads, install, ctx.jobs, keep_going=ctx.local)
        except KeyboardInterrupt:
            display.cancel()  # the other downloads stop at their next chunk
            raise
    if errors and not ctx.local:
        raise errors[0]
    for resource in todo:
        if resource.requires() and not errors:
            pipeline.install(ctx, resource)
    return errors


def unused_copies(ctx: PrepareContext, errors: list[DownloadError]) -> DatamaestroError:
    """The error naming every local copy (``--from DIR``) that was not used."""
    error = ChecksumError if all(isinstance(e, ChecksumError) for e in errors) else DownloadError
    hint = "; pass --no-verify to accept them anyway" if error is ChecksumError else ""
    return error(
        f"{ctx.dataset_id}: {len(errors)} file(s) from {ctx.request.source_dir} not used "
        f"(they were not kept{hint}):\n" + "\n".join(f"  {e}" for e in errors)
    )
