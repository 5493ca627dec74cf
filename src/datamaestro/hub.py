"""``hf:`` ids: a dataset of the Hugging Face Hub as a definition, prepared by the one pipeline.

``HubDefinition`` stands for a ``DatasetDefinition``: its resources are the
pinned resolution (``hub.json``), one verified download per Parquet file
(``datamaestro.download.hub``) and an index built from them at prepare time
(image labels and sizes, or tables: ``datamaestro.loaders.hub``); what ``info``
shows comes from the dataset card. The Hub is asked once, when the dataset
is not prepared yet (or with ``--force``); afterwards, and offline, the
recorded resolution is used.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from datamaestro.config import Settings
from datamaestro.data.base import Base
from datamaestro.data.hub import HubDataset, HubImages
from datamaestro.data.npy import NPY
from datamaestro.data.table import Table
from datamaestro.definitions import DatasetDefinition
from datamaestro.download import Resource
from datamaestro.download import prepare as preparing
from datamaestro.download.context import PrepareContext, Request
from datamaestro.download.derived import Derived
from datamaestro.download.hub import RECORD, HubId, HubRecord, Resolution, is_hub_id, read_record, resolve
from datamaestro.download.hubhost import endpoint
from datamaestro.errors import OfflineError
from datamaestro.loaders.hub import read_splits, write_index

__all__ = ["HubDefinition", "is_hub_id"]

#: the derived folder of the splits' index
INDEX = "index"
#: split names that are the container's own fields
KNOWN_SPLITS = {"train": "train", "test": "test", "validation": "validation", "valid": "validation", "dev": "validation"}


class HubDefinition(DatasetDefinition):
    """A Hub dataset (``hf:ORG/NAME[@REVISION][:CONFIG]``); its resources are known once resolved
    (``context`` resolves: from the recorded ``hub.json``, else from the Hub)."""

    def __init__(self, text: str):  # (DatasetDefinition's own is for decorated functions)
        self.hub_id = HubId.parse(text)
        self.id = self.hub_id.folder_id
        self.name = str(self.hub_id)
        self.url = self.homepage = f"{endpoint()}/datasets/{self.hub_id.repo}"
        self.base = HubDataset
        self.tags = ["hub"]
        self.aliases: list[str] = []
        self.description = ""
        self.license: Optional[str] = None
        self.citation: Optional[str] = None
        self.resources: list[Resource] = []
        self.resolution: Optional[Resolution] = None

    def __repr__(self) -> str:
        return f"<dataset {self.name}>"

    def context(self, settings: Settings, request: Optional[Request] = None) -> PrepareContext:
        """The context of one preparation; the dataset is resolved first."""
        ctx = PrepareContext(self.id, settings, request)
        self.resolve(ctx)
        return ctx

    def resolve(self, ctx: PrepareContext) -> None:
        """Use the recorded resolution, else (not offline) ask the Hub."""
        record = ctx.folder.resource_path(self.id, RECORD)
        if record.is_file() and RECORD in ctx.folder.manifest(self.id).entries and not ctx.request.force:
            self.use(read_record(record))
        elif ctx.settings.offline and not ctx.local:
            raise OfflineError(
                f"offline mode: {self.hub_id} is not prepared; run 'datamaestro prepare {self.hub_id}' with network access"
            )
        else:
            self.use(resolve(self.hub_id))

    def use(self, resolution: Resolution) -> None:
        """Take the resources and the card's facts of ``resolution``."""
        self.resolution = resolution
        downloads = resolution.resources()
        splits = [f.split for f in resolution.files]
        features = card_features(resolution.card, resolution.config)

        def build_index(*paths: Path) -> None:
            *sources, dest = paths
            by_split: dict[str, list[Path]] = {}
            for split, path in zip(splits, sources):
                by_split.setdefault(split, []).append(path)
            write_index(dest, by_split, features)

        self.resources = [HubRecord(resolution), *downloads, Derived(INDEX, build_index, *downloads)]
        card = resolution.card
        license = card.get("license")
        self.license = ", ".join(map(str, license)) if isinstance(license, list) else license
        self.citation = citation_of(resolution.readme)
        self.tags = ["hub", *[str(t) for t in card.get("task_categories") or []]]
        self.description = describe_card(resolution)

    def prepare(self, settings: Settings, request: Optional[Request] = None) -> Base:
        """Fetch whatever is missing (the one pipeline), then build the typed data."""
        ctx = self.context(settings, request)
        preparing.prepare(self, ctx)
        return self.build(ctx)

    def build(self, ctx: PrepareContext) -> Base:
        """The splits, from the index written at prepare time."""
        index = ctx.folder.resource_path(self.id, INDEX)
        splits = {name: split_of(index, name, facts, ctx, self.id) for name, facts in read_splits(index).items()}
        known = {KNOWN_SPLITS[n]: s for n, s in splits.items() if n in KNOWN_SPLITS}
        others = {n: s for n, s in splits.items() if n not in KNOWN_SPLITS} or None
        categories = next((f.get("categories") for f in read_splits(index).values() if f.get("categories")), None)
        commit = self.resolution.commit if self.resolution else None
        return HubDataset(**known, others=others, categories=categories, commit=commit)


def split_of(index: Path, name: str, facts: dict[str, Any], ctx: PrepareContext, dataset_id: str) -> Base:
    """One split described by ``splits.json``: images read from Parquet, or a table."""
    if facts.get("kind") == "images":
        files = [ctx.folder.resource_path(dataset_id, f) for f in facts.get("files", [])]
        return HubImages(
            files=files, column=str(facts["column"]), labels=NPY(path=index / f"{name}_labels.npy"),
            sizes=NPY(path=index / f"{name}_sizes.npy"), categories=facts.get("categories"),
            mode=str(facts.get("mode", "RGB")),
        )
    return Table(path=index / f"{name}.npy", target=facts.get("label"), categories=facts.get("categories"))


def card_features(card: dict[str, Any], config: Optional[str]) -> Any:
    """The features of ``config`` in the card's ``dataset_info`` (one dict, or one per config)."""
    info = card.get("dataset_info")
    infos = info if isinstance(info, list) else [info] if isinstance(info, dict) else []
    chosen = next((i for i in infos if i.get("config_name") in (config, None)), infos[0] if infos else {})
    return chosen.get("features") if isinstance(chosen, dict) else None


def citation_of(readme: str) -> Optional[str]:
    """The first BibTeX entry of the card's text (a fenced block starting with ``@``)."""
    match = re.search(r"```[a-z]*\n\s*(@\w+\s*\{.*?)```", readme, re.S)
    return match.group(1).strip() if match else None


def describe_card(resolution: Resolution) -> str:
    """What ``info`` says of the dataset: its pretty name, the card's splits, the pinned commit."""
    card = resolution.card
    lines = [str(card["pretty_name"])] if card.get("pretty_name") else []
    info = card.get("dataset_info")
    infos = info if isinstance(info, list) else [info] if isinstance(info, dict) else []
    chosen = next((i for i in infos if i.get("config_name") in (resolution.config, None)), None)
    for split in (chosen or {}).get("splits") or []:
        lines.append(f"split {split.get('name')}: {split.get('num_examples')} examples, {split.get('num_bytes')} bytes")
    if chosen and chosen.get("download_size") is not None:
        lines.append(f"download size: {chosen['download_size']} bytes")
    config = f" (config {resolution.config})" if resolution.config else ""
    lines.append(f"Hub dataset {resolution.repo} at commit {resolution.commit}{config}")
    return "\n".join(lines)
