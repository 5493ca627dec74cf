"""Preparing a dataset: what is wrong with its files in place, and fetching what is missing.

One ``PrepareContext`` is built per preparation (``DatasetDefinition.prepare``)
and passed to every step; ``datamaestro.download.inplace`` says what is wrong
with the files in place, ``datamaestro.download.install`` fetches what is
missing. The manifest is read once for the quick check and once more under the
dataset's lock (another process may have prepared it meanwhile).
"""

from __future__ import annotations

from datamaestro.download.context import PrepareContext
from datamaestro.download.inplace import Definition, adopt, problems
from datamaestro.download.remote import RemoteResource
from datamaestro.errors import OfflineError
from datamaestro.manifest import Manifest
from datamaestro.store.offline import offline_note, usable_offline


def prepare(definition: Definition, ctx: PrepareContext) -> None:
    """Fetch whatever is missing or damaged (everything with ``force``).

    One process at a time prepares a dataset (a file lock in the data folder);
    the others wait, then use its files. Offline, a dataset that is not
    prepared fails at once, naming what is missing. With ``repair`` every
    byte is checked first, and only what fails is fetched again.
    """
    request, settings = ctx.request, ctx.settings
    found = problems(definition, ctx)
    if not (request.force or request.repair or any(found.values())):
        return
    # Offline, only downloads are out of reach: a local store may still serve them, and what is
    # derived, or taken from the user's own folders (files behind a sign-in), needs no network.
    downloads = [r for r in definition.resources if isinstance(r, RemoteResource) and found.get(r.name)]
    if settings.offline and not (ctx.local or usable_offline(settings)) and (downloads or request.force or request.repair):
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
