"""Moving originals between a data folder and a store: verified blob downloads, idempotent pushes, records."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from datamaestro.errors import RefusedObjectError, StoreError
from datamaestro.hashing import Checksum
from datamaestro.log import log
from datamaestro.paths import printable
from datamaestro.store.backend import Store, progress_bar
from datamaestro.store.lease import hold
from datamaestro.store.records import MAX_RECORD, BadRecordError, Entry, Record, parse_record


@dataclass(frozen=True)
class Original:
    """A downloaded original (the bytes that published checksums speak of), now at its destination."""

    sha256: str
    size: int
    #: the URL it was published at
    url: str
    #: hex digests by algorithm (sha256 and the declared checksum's algorithm at least)
    digests: dict[str, str] = field(default_factory=dict)
    #: where in the store it came from (None: from the origin)
    store: Optional[str] = None
    #: what verified it: the declared checksum ("md5:<hex>"), "store record sha256:<hex>", or None
    verified: Optional[str] = None


#: what reading a record fails with when the store's content is refused (not when it could not be read):
#: a push replaces such a record
REPLACEABLE = (BadRecordError, RefusedObjectError)


class RefusedBlob(StoreError):
    """The store served bytes that do not match what they must be."""


def read_record(store: Store, dataset_id: str) -> Optional[Record]:
    """The validated record of ``dataset_id`` in ``store`` (None when there is none)."""
    relative = store.record(dataset_id)
    data = store.read(relative, MAX_RECORD)
    return None if data is None else parse_record(data, dataset_id, store.where(relative))


def fetch_blob(
    store: Store,
    sha256: str,
    size: Optional[int],
    url: str,
    dest: Path,
    declared: Optional[Checksum],
    label: str,
    quiet: bool,
    root: Path,
) -> Optional[Original]:
    """Copy the blob ``sha256`` to ``dest`` (inside ``root``, the data folder) if it matches, re-hashing it
    (None when absent).

    The blob must hash to ``sha256`` (and be ``size`` bytes when given) and
    match ``declared`` when given; otherwise ``RefusedBlob`` is raised and
    ``dest`` is left as it was. The copy is written beside ``dest`` and
    renamed onto it only once verified.
    """
    relative = store.blob(sha256)
    stored = store.size(relative)
    if stored is None:
        return None
    where = store.where(relative)
    if size is not None and stored != size:
        raise RefusedBlob(f"{where} holds {stored} bytes, the record says {size}")
    algorithms = ["sha256", *([declared.algorithm] if declared else [])]
    tmp = dest.with_name(f".{dest.name}.store.tmp")
    try:
        with progress_bar(label, stored, quiet) as bar:
            got, digests = store.hashed_copy(relative, algorithms, stored, bar.update, (root, tmp))
        if got != stored:
            raise RefusedBlob(f"{where} sent {got} bytes, it holds {stored}")
        if digests["sha256"] != sha256:
            raise RefusedBlob(f"{where} holds bytes whose sha256 is {digests['sha256']}")
        if declared and digests[declared.algorithm] != declared.hexdigest:
            raise RefusedBlob(
                f"{where} does not match the published checksum {declared} "
                f"(got {declared.algorithm}:{digests[declared.algorithm]})"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    verified = str(declared) if declared else f"store record sha256:{sha256}"
    return Original(sha256, got, url, digests, where, verified)


def push_blob(
    store: Store, path: Path, sha256: str, size: int, label: str, quiet: bool, replace: bool = False
) -> bool:
    """Upload ``path`` as the blob ``sha256`` unless the store holds it already (True when uploaded).

    ``replace`` uploads it even then: the store's copy was found corrupt.
    """
    relative = store.blob(sha256)
    if not replace and store.size(relative) == size:
        return False
    with progress_bar(label, size, quiet) as bar:
        store.upload(path, relative, bar.update)
    return True


#: the files of a dataset install side by side: one record update at a time in this process
_RECORD_UPDATES = threading.Lock()


def add_to_record(store: Store, dataset_id: str, files: dict[str, Entry]) -> None:
    """Merge ``files`` into the record of ``dataset_id``, holding its record lease.

    Blobs must be pushed before: the record is what makes them visible.
    """
    relative = store.record(dataset_id)
    with _RECORD_UPDATES, hold(store, f"leases/{dataset_id}.record", lambda: False, f"record of {dataset_id}"):
        try:
            record = read_record(store, dataset_id) or Record(dataset_id)
        except REPLACEABLE as e:  # a failed read (the network) is no reason: it raises, the record stays
            log.warning("%s; replacing it", e)
            record = Record(dataset_id)
        for name, entry in files.items():
            old = record.files.get(name)
            if old is not None and old.sha256 != entry.sha256:
                log.warning(
                    "%s: the store's %s had sha256:%s; replaced by sha256:%s",
                    dataset_id, printable(name), old.sha256, entry.sha256,
                )
        record.files.update(files)
        store.write(relative, record.to_bytes())
