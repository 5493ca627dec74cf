"""Preparing a dataset: what is wrong with its files in place, and fetching what is missing.

One ``PrepareContext`` is built per preparation (``DatasetDefinition.prepare``)
and passed to every step; ``datamaestro.download.install`` fetches what is
missing. The manifest is read once for the quick check and
once more under the dataset's lock (another process may have prepared it
meanwhile); the resources found in place without a record are recorded
again when their declarations prove them (``adopt``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Optional, Protocol

from datamaestro.download import Resource, checks
from datamaestro.download.context import PrepareContext
from datamaestro.errors import OfflineError
from datamaestro.log import log
from datamaestro.manifest import Manifest
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
            found[resource.name] = checks.check(path, entry, full)
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
    # The fetching machinery (transport, team store, unpacking) is imported only now that something
    # must be fetched: loading a prepared dataset does without it (tests/test_registry.py).
    from datamaestro.download import install

    with ctx.folder.lock(definition.id):
        install.prepare_locked(definition, ctx)


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
