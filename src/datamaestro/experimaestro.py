"""Prepared datasets as parameters of experimaestro tasks, so that an experiment records its data.

``dataset_config(ID)`` (or ``dataset_config(ID, split="train")``) prepares the
dataset and gives an experimaestro ``Config``. Its identity (the ``Param``s)
is the dataset id, the split name and the checksum of every prepared
resource, read from the dataset's manifest; the data folder is a ``Meta``,
outside the identity. So two experiments on the same data share their jobs
(wherever the data folder is), and a dataset whose files changed gives new
jobs. Inside the task, ``.load()`` gives back the typed data (or the split),
rebuilt from the JSON that ``prepare`` prints (also a ``Meta``: the task needs
neither the registry nor the network), once the manifest in place is checked
to record the checksums the task was submitted with. Needs the
``experimaestro`` extra; see docs/experimaestro.md.
"""

import json
from pathlib import Path
from typing import Optional

from datamaestro.api import from_json, prepare_dataset, to_json
from datamaestro.config import Settings, load_settings
from datamaestro.data.base import Base
from datamaestro.download.context import Request
from datamaestro.errors import MissingDependencyError, UsageError
from datamaestro.hashing import Hashers
from datamaestro.manifest import Entry
from datamaestro.splits import splits_of
from datamaestro.storage import DataFolder

try:
    from experimaestro import Config, Meta, Param
except ImportError:
    raise MissingDependencyError("datasets as experimaestro parameters", "experimaestro", "experimaestro") from None


class DatasetConfig(Config):
    """A prepared dataset, or one of its splits: its id, split and checksums are its identity, not its place."""

    __xpmid__ = "datamaestro.dataset"

    #: the dataset id (the canonical one, never an alias)
    id: Param[str]
    #: the split's name ("train", "test"...); empty for the whole dataset
    split: Param[str]
    #: resource name -> sha256 of its content, from the manifest (see ``resource_checksum``)
    checksums: Param[dict[str, str]]
    #: the data folder the dataset was prepared in: not part of the identity
    datadir: Meta[str]
    #: the JSON that ``datamaestro prepare`` prints for the dataset: not part of the identity
    description: Meta[str]

    def load(self) -> Base:
        """The typed data (or split) this parameter names, once the data in place is checked to be the same."""
        if recorded_checksums(Path(self.datadir), self.id) != self.checksums:
            raise UsageError(
                f"{self.id} in {self.datadir} is not the data this task was submitted with "
                "(its files changed or were removed since): prepare it and submit the experiment again"
            )
        data = from_json(self.description)
        return split_of(data, self.id, self.split) if self.split else data


def dataset_config(
    dataset_id: str,
    split: Optional[str] = None,
    *,
    settings: Optional[Settings] = None,
    request: Optional[Request] = None,
) -> DatasetConfig:
    """Prepare ``dataset_id`` and give it (or its ``split``) as an experimaestro parameter."""
    settings = settings or load_settings()
    data = prepare_dataset(dataset_id, settings=settings, request=request or Request(quiet=True))
    canonical = data.dataset_id  # type: ignore[attr-defined]
    if split:
        split_of(data, canonical, split)
    return DatasetConfig.C(
        id=canonical,
        split=split or "",
        checksums=recorded_checksums(settings.datadir, canonical),
        datadir=str(settings.datadir),
        description=json.dumps(to_json(canonical, data), sort_keys=True),
    )


def recorded_checksums(datadir: Path, dataset_id: str) -> dict[str, str]:
    """The checksum of every prepared resource of ``dataset_id``, by name, as its manifest records them."""
    entries = DataFolder(datadir).manifest(dataset_id).entries
    return {name: resource_checksum(entry) for name, entry in sorted(entries.items())}


def resource_checksum(entry: Entry) -> str:
    """The sha256 of a file in place; for a folder, the sha256 of its ``sha256sum`` listing (sorted by path)."""
    if entry.kind == "file" and entry.sha256:
        return entry.sha256
    hashers = Hashers(["sha256"])
    for path in sorted(entry.files):
        hashers.update(f"{entry.files[path].sha256}  {path}\n".encode())
    return hashers.hexdigests()["sha256"]


def split_of(data: Base, dataset_id: str, name: str) -> Base:
    """The split called ``name`` of ``data``; a one-line error naming the splits there are otherwise."""
    splits = splits_of(data)
    if name not in splits:
        raise UsageError(f"{dataset_id} has no split '{name}'; its splits are: {', '.join(splits) or 'none'}")
    return splits[name]
