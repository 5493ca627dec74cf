"""``obtain``: one original file, from the team store when it holds a good copy, else from the origin.

This is the one call the prepare pipeline makes into the store. Order: the
store's blob (verified against the declared checksum, or without one against
the store's record) -> the origin, through ``download()``. A store that serves
wrong bytes is refused like a bad mirror. With ``push: auto``, the machine
that downloads from the origin holds a lease meanwhile (the others wait for
its push), then pushes the blob and, last, the record.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Optional

from datamaestro.config import Settings
from datamaestro.errors import NotInStoreError, StoreError, UsageError
from datamaestro.hashing import Checksum
from datamaestro.log import log
from datamaestro.paths import inside, printable
from datamaestro.store.backend import Store
from datamaestro.store.lease import hold
from datamaestro.store.offline import usable_offline
from datamaestro.store.records import Entry
from datamaestro.store.transfer import Original, add_to_record, fetch_blob, push_blob, read_record


def store_of(settings: Settings) -> Optional[Store]:
    """The configured store (None when there is none)."""
    if not settings.store_url:
        return None
    return Store(settings.store_url, settings.store_options)


def check_store_only(settings: Settings) -> Store:
    """The store ``pull`` takes files from; refuses no store, or a remote one offline."""
    store = store_of(settings)
    if store is None:
        raise UsageError(
            "no store is configured: set 'store: {url: ...}' in the config file, "
            "DATAMAESTRO_STORE, or --store URL"
        )
    if settings.offline and not usable_offline(settings):
        raise UsageError(
            f"offline mode: the store {printable(store.url)} is not a local path (file:// or a folder), "
            "so it cannot be used offline; run without --offline (and DATAMAESTRO_OFFLINE)"
        )
    return store


def obtain(
    settings: Settings,
    dataset_id: str,
    name: str,
    dest: Path,
    *,
    declared: Optional[Checksum],
    download: Callable[[], Original],
    size: Optional[int] = None,
) -> Original:
    """The original of resource ``name`` of ``dataset_id``, put at ``dest`` (inside the data folder).

    ``download()`` fetches it from the origin mirrors into ``dest``. Without a
    store this is just ``download()``. With ``settings.store_only`` (``pull``)
    or offline, the origin is never used: a missing file raises
    ``NotInStoreError``. ``size`` is the published size, when there is one.
    """
    store = store_of(settings)
    if store is None:
        return download()
    inside(settings.datadir, dest.parent)
    what = f"{dataset_id}: {name}"
    store_only = settings.store_only or settings.offline
    refused: list[str] = []  # the store's copy was refused: a push replaces it
    found = _from_store(store, settings, dataset_id, name, dest, declared, size, store_only, refused)
    if found is not None:
        return found
    if store_only:
        instead = "run without --offline" if settings.offline else f"run 'datamaestro prepare {dataset_id}'"
        raise NotInStoreError(
            f"{dataset_id}: the store {printable(store.url)} has no copy of {name}; push it from a machine "
            f"where it is prepared ('datamaestro push {dataset_id}'), or {instead} to use the origin"
        )
    if settings.store_push != "auto":
        return download()

    def pushed() -> bool:  # a cheap look, while waiting for the lease's holder
        if declared is not None and declared.algorithm == "sha256":
            return store.size(store.blob(declared.hexdigest)) is not None
        record = read_record(store, dataset_id)
        return record is not None and name in record.files

    original: Optional[Original] = None
    try:
        with hold(store, f"leases/{dataset_id}/{name}", pushed, what):
            # pushed by the lease's holder while this machine waited, or by another since the first look
            found = _from_store(store, settings, dataset_id, name, dest, declared, size, False, refused)
            if found is not None:
                return found
            original = download()
            if _verified(original, declared, size):
                _push(store, settings, dataset_id, name, dest, original, declared, bool(refused))
    except StoreError as e:  # the store failed, not the origin: carry on without it
        log.warning("%s: %s; the store was not updated", what, e)
    return original if original is not None else download()


def _from_store(
    store: Store,
    settings: Settings,
    dataset_id: str,
    name: str,
    dest: Path,
    declared: Optional[Checksum],
    size: Optional[int],
    store_only: bool,
    refused: list[str],
) -> Optional[Original]:
    """The store's verified copy at ``dest``; None when it has none or serves a bad one (warned,
    and noted in ``refused``)."""
    try:
        if declared is not None and declared.algorithm == "sha256":
            sha256, url = declared.hexdigest, ""  # content-addressed: no record needed
            entry = None
        else:
            record = read_record(store, dataset_id)
            entry = record.files.get(name) if record else None
            if entry is None:
                return None
            sha256, url = entry.sha256, entry.url
        return fetch_blob(
            store, sha256, entry.size if entry else size, url, dest, declared,
            f"{dataset_id}: {name} (store)", settings.quiet,
        )
    except StoreError as e:
        if store_only:
            never = "offline mode" if settings.offline else "pull"
            raise StoreError(f"{dataset_id}: {name}: {e}; {never} never uses the origin") from None
        log.warning("%s: %s: %s; refused, trying the origin", dataset_id, name, e)
        refused.append(str(e))
        return None


def _verified(original: Original, declared: Optional[Checksum], size: Optional[int]) -> bool:
    """Whether a download may be pushed: it matches what the definition declares."""
    if size is not None and original.size != size:
        return False
    return declared is None or original.digests.get(declared.algorithm) == declared.hexdigest


def _push(
    store: Store, settings: Settings, dataset_id: str, name: str, path: Path, original: Original,
    declared: Optional[Checksum],
    replace: bool,
) -> None:
    """Push a verified download: its blob (``replace``: even if the store has one), then its record entry."""
    label = f"{dataset_id}: {name} -> store"
    if push_blob(store, path, original.sha256, original.size, label, settings.quiet, replace):
        log.info("%s: pushed %s to the store %s", dataset_id, name, store.url)
    entry = Entry(original.sha256, original.size, original.url, str(declared) if declared else None)
    add_to_record(store, dataset_id, {name: entry})
