"""``derived``: a folder computed once, at prepare time, from other resources.

Used to turn published files that are slow to load (CSV text, pickles) into
memory-mappable arrays. It goes through the same install pipeline as
downloads: built in staging after its sources are prepared, every file
hashed and recorded, then renamed into place. What it builds is bounded like
what an archive unpacks (``max_unpacked_size``, ``max_unpacked_files``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

from datamaestro.download import Resource
from datamaestro.download.context import PrepareContext
from datamaestro.download.packing import Limits
from datamaestro.errors import UnpackLimitError
from datamaestro.formats.bounds import check_bytes
from datamaestro.hashing import hash_file
from datamaestro.log import log
from datamaestro.manifest import Entry, folder_files


class Derived(Resource):
    """The folder ``name``, built by ``build(*source_paths, output_folder)``.

    A build that takes a ``limits`` argument is given the configured ``Limits``,
    for its readers to refuse, before allocating them, arrays larger than the
    limit; whatever a build writes is checked against them once it is done.
    """

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
        limits = Limits(max_bytes=ctx.settings.max_unpacked_size, max_files=ctx.settings.max_unpacked_files)
        paths = [s.path(ctx) for s in self.sources]
        if "limits" in inspect.signature(self.build).parameters:
            self.build(*paths, dest, limits=limits)
        else:
            self.build(*paths, dest)
        written = folder_files(dest)
        check_output(f"{self.name} of {ctx.dataset_id}", written, limits)
        files = {relative: hash_file(path) for relative, path in written.items()}
        return Entry.of_folder(self.name, files, verified_by="derived", derived_from=[s.name for s in self.sources])


def check_output(label: str, files: dict[str, Path], limits: Limits) -> None:
    """Refuse a build whose ``files`` hold more than ``limits`` allow."""
    if len(files) > limits.max_files:
        raise UnpackLimitError(
            f"{label}: refused: its build wrote more than {limits.max_files} files, the limit; "
            "if the data really holds that many, raise max_unpacked_files in the configuration"
        )
    check_bytes(sum(path.stat().st_size for path in files.values()), limits.max_bytes, label, "what its build wrote")


#: decorator: the dataset needs the folder ``name`` that ``build`` makes from ``sources``
derived = Derived
