"""Resources: the files a definition needs, and how each gets into the data folder.

Every resource is installed by one pipeline (``datamaestro.download.pipeline``):
fetch, unpack into a staging folder, verify, record in the manifest, rename
in. A resource class supplies only what differs: where its bytes come from
and how they are unpacked (``produce``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from datamaestro.errors import DefinitionError
from datamaestro.paths import name_problem

if TYPE_CHECKING:
    from typing import Any, Optional

    from datamaestro.config import Settings
    from datamaestro.manifest import Entry


class PrepareContext:
    """What a resource needs to know while preparing one dataset."""

    def __init__(self, dataset_id: str, settings: Settings):
        from datamaestro.storage import DataFolder

        self.dataset_id = dataset_id
        self.settings = settings
        # one DataFolder per preparation: its manifest lock serialises concurrent records
        self.folder = DataFolder(settings.datadir)

    def __repr__(self) -> str:
        return f"PrepareContext({self.dataset_id!r}, {self.settings!r})"

    @property
    def dataset_dir(self) -> Path:
        return self.folder.dataset_dir(self.dataset_id)


class Resource:
    """A named file (or folder) of a dataset; also a decorator on definitions.

    ``name`` is the file name inside the dataset folder (one name: letters,
    digits, ``.``, ``_``, ``-``); the definition function receives its path as
    the argument ``varname`` (by default the name before its first dot, e.g.
    ``train_images`` for ``train_images.idx``).
    """

    def __init__(self, name: str, varname: Optional[str] = None):
        problem = name_problem(name)
        if problem:
            raise DefinitionError(problem)
        self.name = name
        self.varname = varname or re.sub(r"\W", "_", name.split(".")[0])

    def __call__(self, definition: Any) -> Any:
        add = getattr(definition, "add_resource", None)  # a DatasetDefinition (which imports this module)
        if add is not None:
            add(self)
        else:  # applied below @dataset: keep it for the dataset decorator
            pending = definition.__dict__.setdefault("__datamaestro_resources__", [])
            pending.insert(0, self)
        return definition

    def path(self, ctx: PrepareContext) -> Path:
        """Where the prepared resource lives."""
        return ctx.folder.resource_path(ctx.dataset_id, self.name)

    def requires(self) -> list[Resource]:
        """Resources that must be prepared before this one."""
        return []

    def produce(self, ctx: PrepareContext, dest: Path) -> Entry:
        """Build the resource at ``dest`` (inside a staging folder), verified; its manifest entry."""
        raise NotImplementedError

    def reverify(self, ctx: PrepareContext, path: Path) -> Optional[Entry]:
        """The record of a resource found in place without one, if its declaration can prove it."""
        return None

    def describe(self) -> dict[str, Any]:
        """What ``info`` shows of the resource (urls, size, checksum...)."""
        return {"name": self.name}
