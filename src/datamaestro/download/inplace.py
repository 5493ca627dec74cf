"""What is in place of a dataset: what is wrong with each of its files, and adopting the unrecorded ones.

Both read the data folder only; ``adopt`` may add records, never deletes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Optional, Protocol

from datamaestro.download import Resource, checks
from datamaestro.download.context import PrepareContext
from datamaestro.log import log
from datamaestro.manifest import Manifest


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
