"""Resources: the files a definition needs, and how each gets into the data folder.

The package reads as the pipeline: the declarations (``Resource`` here,
``remote``, ``single``, ``archive``, ``derived``, ``packing``, ``unpack``),
fetching (``context``, ``prepare``, ``checks``, ``install``, ``pipeline``,
``fetching``, ``partial``, ``verify``, ``pool``) and the transport (``transport``: HTTP, mirror health).
Every resource is installed by one pipeline (``datamaestro.download.pipeline``):
fetch, unpack into a staging folder, verify, record in the manifest, rename
in. A resource class supplies only what differs: where its bytes come from
and how they are unpacked (``produce``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from datamaestro.download.context import PrepareContext
from datamaestro.errors import DefinitionError
from datamaestro.manifest import Entry
from datamaestro.paths import name_problem


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
        """Build the resource at ``dest`` (inside a staging folder), verified; its manifest entry.

        (A ``RemoteResource`` is made by the pipeline from its URLs: it says only how to ``unpack``.)
        """
        raise NotImplementedError

    def reverify(self, ctx: PrepareContext, path: Path) -> Optional[Entry]:
        """The record of a resource found in place without one, if its declaration can prove it."""
        return None

    def describe(self) -> dict[str, Any]:
        """What ``info`` shows of the resource (urls, size, checksum...)."""
        return {"name": self.name}
