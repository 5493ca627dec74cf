"""``derived``: a folder computed once, at prepare time, from other resources.

Used to turn published files that are slow to load (CSV text, pickles) into
memory-mappable arrays: the conversion runs after its sources are prepared,
writes into a temporary folder beside the target, and is renamed into place
only when it succeeded.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

from datamaestro.download import PrepareContext, Resource
from datamaestro.storage import replace_folder

log = logging.getLogger("datamaestro")


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

    def is_prepared(self, ctx: PrepareContext) -> bool:
        return self.path(ctx).is_dir()

    def prepare(self, ctx: PrepareContext) -> None:
        for source in self.sources:
            if not source.is_prepared(ctx):
                source.prepare(ctx)
        dest = self.path(ctx)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp"))
        try:
            log.info("%s: converting %s into %s", ctx.dataset_id, ", ".join(s.name for s in self.sources), self.name)
            self.build(*(s.path(ctx) for s in self.sources), tmp)
            replace_folder(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        files = sorted(p for p in dest.rglob("*") if p.is_file())
        ctx.folder.record(
            ctx.dataset_id,
            self.name,
            {
                "derived_from": [s.name for s in self.sources],
                "size": sum(p.stat().st_size for p in files),
                "files": [p.relative_to(dest).as_posix() for p in files],
            },
        )



#: decorator: the dataset needs the folder ``name`` that ``build`` makes from ``sources``
derived = Derived
