"""``derived``: a folder computed once, at prepare time, from other resources.

Used to turn published files that are slow to load (CSV text, pickles) into
memory-mappable arrays. It goes through the same install pipeline as
downloads: built in staging after its sources are prepared, every file
hashed and recorded, then renamed into place.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

from datamaestro.download import Resource
from datamaestro.download.context import PrepareContext
from datamaestro.hashing import hash_file
from datamaestro.log import log
from datamaestro.manifest import Entry, folder_files


class Derived(Resource):
    """The folder ``name``, built by ``build(*source_paths, output_folder)``."""

    def __init__(
        self,
        name: str,
        build: Callable[..., None],
        *sources: Resource,
        varname: Optional[str] = None,
    ):
        super().__init__(name, varname)
        self.build = build
        self.sources = sources

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "derived_from": [s.name for s in self.sources]}

    def requires(self) -> list[Resource]:
        return list(self.sources)

    def produce(self, ctx: PrepareContext, dest: Path) -> Entry:
        dest.mkdir()
        log.info("%s: converting %s into %s", ctx.dataset_id, ", ".join(s.name for s in self.sources), self.name)
        self.build(*(s.path(ctx) for s in self.sources), dest)
        files = {relative: hash_file(path) for relative, path in folder_files(dest).items()}
        return Entry.of_folder(self.name, files, verified_by="derived", derived_from=[s.name for s in self.sources])


#: decorator: the dataset needs the folder ``name`` that ``build`` makes from ``sources``
derived = Derived
