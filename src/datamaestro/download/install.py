"""Installing what a dataset lacks, holding its lock: the downloads side by side, then what derives from them.

The team store, when one is configured, is opened here once per preparation
and handed to every download.
"""

from __future__ import annotations

from typing import Optional

from datamaestro.download import Resource, pipeline, progress
from datamaestro.download.context import PrepareContext
from datamaestro.download.fetching import failed_files
from datamaestro.download.inplace import Definition, adopt, problems
from datamaestro.download.partial import Partial
from datamaestro.download.pool import run_concurrently
from datamaestro.errors import ChecksumError, DatamaestroError, DownloadError
from datamaestro.log import log
from datamaestro.storage import human_size
from datamaestro.store.originals import TeamStore


def team_store(ctx: PrepareContext) -> Optional[TeamStore]:
    """The team store the originals are taken from and pushed to (None without one)."""
    if not ctx.settings.store_url:
        return None
    return TeamStore(ctx.settings, ctx.request.store_only, ctx.request.quiet)


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
        errors = install_all(ctx, todo, team_store(ctx))
    except KeyboardInterrupt:
        kept = sum(Partial(p, ctx.folder.root).kept() for p in ctx.folder.partial_files(dataset_id) if p.name.endswith(".part"))
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


def install_all(ctx: PrepareContext, todo: list[Resource], store: Optional[TeamStore]) -> list[DownloadError]:
    """Install the downloads side by side, then what is derived from them; the errors of local copies.

    Downloads fail at the first error, but local copies (``--from DIR``) are
    all tried, and their errors returned (then nothing derived is built).
    """
    downloads = [r for r in todo if not r.requires()]
    with progress.dataset(ctx.dataset_id, files=len(downloads), quiet=ctx.request.quiet) as display:

        def install(resource: Resource) -> None:
            pipeline.install(ctx, resource, store)
            display.file_done()

        try:
            errors = run_concurrently(downloads, install, ctx.jobs, keep_going=ctx.local)
        except KeyboardInterrupt:
            display.cancel()  # the other downloads stop at their next chunk
            raise
    if errors and not ctx.local:
        raise failed_files(ctx.dataset_id, errors)
    for resource in todo:
        if resource.requires() and not errors:
            pipeline.install(ctx, resource, store)
    return errors


def unused_copies(ctx: PrepareContext, errors: list[DownloadError]) -> DatamaestroError:
    """The error naming every local copy (``--from DIR``) that was not used."""
    error = ChecksumError if all(isinstance(e, ChecksumError) for e in errors) else DownloadError
    hint = "; pass --no-verify to accept them anyway" if error is ChecksumError else ""
    return error(
        f"{ctx.dataset_id}: {len(errors)} file(s) from {ctx.request.source_dir} not used "
        f"(they were not kept{hint}):\n" + "\n".join(f"  {e}" for e in errors)
    )
