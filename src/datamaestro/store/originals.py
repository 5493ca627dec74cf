"""The team store as fetching uses it: a verified copy of an original, a turn to download it, a push.

Fetching (``datamaestro.download.fetching``) asks, for each original: the
store's blob (verified against the declared checksum, or without one against
the store's record), else the origin. A store that serves wrong bytes is
refused like a bad mirror. With ``push: auto``, the machine that downloads
from the origin holds a lease meanwhile (``turn``: the others wait for its
push), then pushes the blob and, last, the record. A copy the store served
wrong is refetched and replaced the same way, under the same lease: the others
wait until what the store holds for the file changes (``Glance``), then take
the replacement from the store.

An original that is installed otherwise than downloaded (decompressed,
extracted) and that the store did not take is kept in the data folder
(``kept_original``), so that ``push`` uploads it later without the origin.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from datamaestro.config import Settings
from datamaestro.errors import NotInStoreError, StoreError, UsageError
from datamaestro.hashing import Checksum
from datamaestro.log import log
from datamaestro.paths import inside, printable
from datamaestro.storage import DataFolder, link_or_copy
from datamaestro.store.backend import Store
from datamaestro.store.lease import hold
from datamaestro.store.offline import usable_offline
from datamaestro.store.records import Entry
from datamaestro.store.transfer import REPLACEABLE, Original, add_to_record, fetch_blob, push_blob, read_record


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


def kept_original(folder: DataFolder, dataset_id: str, name: str) -> Path:
    """Where the downloaded original of resource ``name`` is kept for ``push`` (see ``TeamStore.keep``)."""
    return folder.download_dir(dataset_id) / f"{name}.original"


@dataclass(frozen=True, slots=True)
class Glance:
    """What a store holds for one original, seen without reading its bytes: equal glances, same content."""

    #: the blob that should hold it: sha256, size (if known), original URL; None when the record lacks it
    source: Optional[tuple[str, Optional[int], str]] = None
    #: what the backend says of that blob (size, modification time or ETag...), None when absent
    facts: Optional[dict[str, Any]] = None
    #: why the store could not be looked at ("" when it could)
    error: str = ""


@dataclass(slots=True)
class Wanted:
    """One original asked of the store: which resource, where its bytes go, what must verify them."""

    dataset_id: str
    name: str
    #: where the verified copy is put (inside the data folder)
    dest: Path
    #: the published checksum (None: the store's record verifies it)
    declared: Optional[Checksum] = None
    #: the published size, when there is one
    size: Optional[int] = None
    #: why the store's copy was refused: a push then replaces it
    refused: list[str] = field(default_factory=list)
    #: what the store held for it when it was last found lacking or refused (None: not looked yet)
    seen: Optional[Glance] = None

    @property
    def what(self) -> str:
        return f"{self.dataset_id}: {self.name}"


class TeamStore:
    """One store, as one preparation uses it: opened when first used (it may be never)."""

    def __init__(self, settings: Settings, store_only: bool, quiet: bool):
        assert settings.store_url
        self.url = settings.store_url
        self.options = settings.store_options
        self.opened: Optional[Store] = None
        self.opening = threading.Lock()
        self.datadir = settings.datadir
        self.offline = settings.offline
        #: never the origin: ``pull``, or offline mode
        self.only = store_only or settings.offline
        #: whether downloads from the origin are pushed to the store (``push: auto``)
        self.pushes = settings.store_push == "auto"
        self.quiet = quiet
        #: the files pushed by this preparation ("<id>: <name>")
        self.pushed: set[str] = set()

    @property
    def store(self) -> Store:
        """The store's backend, opened once."""
        with self.opening:
            if self.opened is None:
                self.opened = Store(self.url, self.options)
            return self.opened

    def glance(self, wanted: Wanted) -> Glance:
        """What the store holds for ``wanted`` now: the blob its record names (or its declared sha256
        names: blobs are content-addressed) and that blob's facts. Content the store refuses is part of
        the glance; a store that cannot be read raises ``StoreError``."""
        try:
            if wanted.declared is not None and wanted.declared.algorithm == "sha256":
                source: Optional[tuple[str, Optional[int], str]] = (wanted.declared.hexdigest, wanted.size, "")
            else:
                record = read_record(self.store, wanted.dataset_id)
                entry = record.files.get(wanted.name) if record else None
                source = None if entry is None else (entry.sha256, entry.size, entry.url)
            facts = None if source is None else self.store.facts(self.store.blob(source[0]))
        except REPLACEABLE as e:  # a bad record, an object refused unread: what a push replaces
            return Glance(error=str(e))
        return Glance(source, facts)

    def copy(self, wanted: Wanted, only: bool) -> Optional[Original]:
        """The store's verified copy at ``wanted.dest``; None when it has none, or serves a bad one
        (warned, and noted in ``wanted.refused``; with ``only`` that raises instead), or when what it
        holds has not changed since it was found so."""
        inside(self.datadir, wanted.dest.parent)  # refused whether or not the store has a copy
        try:
            seen = self.glance(wanted)
            if seen == wanted.seen:  # not read (nor refused) twice
                return None
            wanted.seen = seen
            if seen.error:
                raise StoreError(seen.error)
            if seen.source is None:
                return None
            sha256, size, url = seen.source
            return fetch_blob(
                self.store, sha256, size, url, wanted.dest, wanted.declared, f"{wanted.what} (store)", self.quiet,
                self.datadir,
            )
        except StoreError as e:
            if only:
                never = "offline mode" if self.offline else "pull"
                raise StoreError(f"{wanted.what}: {e}; {never} never uses the origin") from None
            log.warning("%s: %s; refused, trying the origin", wanted.what, e)
            wanted.refused.append(str(e))
            return None

    def missing(self, wanted: Wanted) -> NotInStoreError:
        """The error of a file that only the store may give (``self.only``) and that it lacks."""
        instead = "run without --offline" if self.offline else f"run 'datamaestro prepare {wanted.dataset_id}'"
        return NotInStoreError(
            f"{wanted.dataset_id}: the store {printable(self.store.url)} has no copy of {wanted.name}; push it "
            f"from a machine where it is prepared ('datamaestro push {wanted.dataset_id}'), or {instead} to use "
            "the origin"
        )

    @contextmanager
    def turn(self, wanted: Wanted) -> Iterator[None]:
        """Hold the lease of ``wanted``, found lacking or refused by ``copy``: the other machines wait
        meanwhile, until what the store holds for it changes (this one's push)."""

        def changed() -> bool:  # a cheap look, while waiting for the lease's holder (raises when unreachable)
            return self.glance(wanted) != wanted.seen

        with hold(self.store, f"leases/{wanted.dataset_id}/{wanted.name}", changed, wanted.what):
            yield

    def push(self, wanted: Wanted, original: Original) -> None:
        """Push a download that matches what the definition declares: its blob, then its record entry."""
        if wanted.size is not None and original.size != wanted.size:
            return
        declared = wanted.declared
        if declared is not None and original.digests.get(declared.algorithm) != declared.hexdigest:
            return
        label = f"{wanted.what} -> store"
        if push_blob(self.store, wanted.dest, original.sha256, original.size, label, self.quiet, bool(wanted.refused)):
            log.info("%s: pushed %s to the store %s", wanted.dataset_id, wanted.name, self.store.url)
        entry = Entry(original.sha256, original.size, original.url, str(declared) if declared else None)
        add_to_record(self.store, wanted.dataset_id, {wanted.name: entry})
        self.pushed.add(wanted.what)

    def keep(self, folder: DataFolder, dataset_id: str, name: str, original: Path, from_store: bool) -> None:
        """Keep the verified original of a file installed otherwise than downloaded, for a later ``push``,
        unless the store has it (``from_store``, or pushed by this preparation)."""
        kept = kept_original(folder, dataset_id, name)
        if from_store or f"{dataset_id}: {name}" in self.pushed:
            if os.path.lexists(kept):  # an older one
                folder.remove(kept)
            return
        link_or_copy(folder.root, original, kept)
