"""Resources: the files a definition needs, and how each gets into the data folder."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datamaestro.config import Settings
from datamaestro.storage import DataFolder

log = logging.getLogger("datamaestro")


@dataclass
class PrepareContext:
    """What a resource needs to know while preparing one dataset."""

    dataset_id: str
    settings: Settings

    @property
    def folder(self) -> DataFolder:
        return DataFolder(self.settings.datadir)

    @property
    def dataset_dir(self) -> Path:
        return self.folder.dataset_dir(self.dataset_id)


class Resource:
    """A named file (or folder) of a dataset; also a decorator on definitions.

    ``name`` is the file name inside the dataset folder; the definition
    function receives its path as the argument ``varname`` (by default the
    name before its first dot, e.g. ``train_images`` for ``train_images.idx``).
    """

    def __init__(self, name: str, varname: str | None = None):
        self.name = name
        self.varname = varname or re.sub(r"\W", "_", name.split(".")[0])

    def __call__(self, definition: Any) -> Any:
        from datamaestro.definitions import DatasetDefinition

        if isinstance(definition, DatasetDefinition):
            definition.add_resource(self)
        else:  # applied below @dataset: keep it for the dataset decorator
            pending = definition.__dict__.setdefault("__datamaestro_resources__", [])
            pending.insert(0, self)
        return definition

    def path(self, ctx: PrepareContext) -> Path:
        """Where the prepared resource lives."""
        return ctx.dataset_dir / self.name

    def is_prepared(self, ctx: PrepareContext) -> bool:
        """Whether the resource is in place (complete and verified)."""
        return self.path(ctx).exists()

    def prepare(self, ctx: PrepareContext) -> None:
        """Bring the resource into place and record it in the manifest."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What ``info`` shows of the resource (urls, size, checksum...)."""
        return {"name": self.name}
