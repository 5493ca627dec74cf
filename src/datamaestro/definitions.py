"""The ``@dataset`` decorator and the dataset definitions it creates.

Ids: by default the module path inside its repository plus the lowercased
function name (``com/lecun.py``'s ``MNIST`` is ``com.lecun.mnist``). ``id=``
replaces the function name when it has no dot (``id="fashion-mnist"``), is
used as is when it has one, and ``id=""`` makes the module path the id.
"""

from __future__ import annotations

import inspect
import os
import sys
from typing import TYPE_CHECKING

from datamaestro.data.base import Base
from datamaestro.download import PrepareContext, Resource, pipeline
from datamaestro.errors import ChecksumError, DefinitionError, DownloadError, OfflineError
from datamaestro.log import log
from datamaestro.paths import id_problem
from datamaestro.store.offline import offline_note, usable_offline

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, Optional

    from datamaestro.config import Settings

#: module attribute, set by the registry before running a definition module
PREFIX_ATTRIBUTE = "__datamaestro_prefix__"


class DatasetDefinition:
    """A dataset: metadata, the resources it needs, and the function building its data."""

    def __init__(
        self,
        function: Callable[..., Any],
        base: Optional[type[Base]],
        *,
        id: Optional[str],
        name: Optional[str],
        url: Optional[str],
        tags: Iterable[str],
        description: Optional[str],
        license: Optional[str] = None,
        citation: Optional[str] = None,
        homepage: Optional[str] = None,
    ):
        self.function = function
        self.license = license
        self.citation = citation
        self.homepage = homepage
        self.base = base
        self.id = _make_id(function, id)
        if id_problem(self.id):
            raise DefinitionError(f"{function.__qualname__}: {id_problem(self.id)}")
        self.name = name or function.__name__
        self.url = url
        self.tags = list(tags)
        self.description = description or inspect.cleandoc(function.__doc__ or "")  # as inspect.getdoc
        #: the license of the data (an SPDX id where there is one, else its name)
        self.license = license
        #: how to cite the dataset: one or more BibTeX entries
        self.citation = citation.strip() if citation else None
        #: the dataset's own page (``url`` may be where its files are)
        self.homepage = homepage
        self.resources: list[Resource] = list(
            function.__dict__.get("__datamaestro_resources__", [])
        )

    def __repr__(self) -> str:
        return f"<dataset {self.id}>"

    @property
    def type_name(self) -> str:
        return self.base.type_name if self.base else ""

    def add_resource(self, resource: Resource) -> None:
        """Add a resource (decorators run bottom-up, so it goes first)."""
        if any(r.varname == resource.varname for r in self.resources):
            raise DefinitionError(f"{self.id}: two resources are named '{resource.varname}'")
        self.resources.insert(0, resource)

    def context(self, settings: Settings) -> PrepareContext:
        return PrepareContext(self.id, settings)

    def problems(self, settings: Settings, full: bool = False) -> dict[str, list[str]]:
        """What is wrong with each resource in the data folder (an empty list: in place, as recorded).

        Quick by default (recorded, present, sizes as recorded); ``full`` hashes every byte.
        """
        ctx = self.context(settings)
        manifest = ctx.folder.manifest(self.id)
        found: dict[str, list[str]] = {}
        for resource in self.resources:
            entry = manifest.entries.get(resource.name)
            path = resource.path(ctx)
            if entry is None:
                found[resource.name] = [f"{resource.name}: " + ("not recorded" if os.path.lexists(path) else "missing")]
            else:
                found[resource.name] = pipeline.check(path, entry, full)
        return found

    def is_prepared(self, settings: Settings) -> bool:
        """Whether every resource is in place, as recorded (a quick check: sizes, not hashes)."""
        return not any(self.problems(settings).values())

    def prepare(self, settings: Settings) -> Base:
        """Fetch whatever is missing or damaged, then build the typed data object.

        One process at a time prepares a dataset (a file lock in the data
        folder); the others wait, then use its files. Offline, a dataset that
        is not prepared fails at once, naming what is missing. With
        ``settings.repair`` every byte is checked first, and only what fails is
        fetched again.
        """
        ctx = self.context(settings)
        if settings.force or settings.repair or not self.is_prepared(settings):
            local = settings.source_dir is not None or usable_offline(settings)  # a local store too
            if settings.offline and not local:
                self.adopt(settings)
                raise OfflineError(self._offline_message(settings))
            with ctx.folder.lock(self.id):
                self._prepare_locked(ctx)
        return self.build(ctx)

    def adopt(self, settings: Settings) -> list[str]:
        """Record the resources found in place without a record, where their declarations prove them.

        This rebuilds a missing or corrupt manifest without deleting anything;
        returns the names it recorded.
        """
        ctx = self.context(settings)
        manifest = ctx.folder.manifest(self.id)
        adopted = []
        for resource in self.resources:
            path = resource.path(ctx)
            if resource.name in manifest.entries or not os.path.lexists(path) or path.is_symlink():
                continue
            entry = resource.reverify(ctx, path)
            if entry is not None:
                log.info("%s: %s is in place and matches %s: recorded again", self.id, resource.name, entry.verified_by)
                ctx.folder.record(self.id, entry)
                adopted.append(resource.name)
        return adopted

    def _prepare_locked(self, ctx: PrepareContext) -> None:
        """Prepare the resources that are missing or damaged (all of them with ``force``), holding the lock."""
        from datamaestro.download import progress
        from datamaestro.download.pool import run_concurrently

        settings = ctx.settings
        for leftover in ctx.folder.temporaries(self.id):  # from a killed run: never left to grow
            log.info("%s: removing %s, left by an interrupted run", self.id, leftover.name)
            ctx.folder.remove(leftover)
        self.adopt(settings)
        repair = settings.repair
        problems = self.problems(settings, full=repair)
        todo = [r for r in self.resources if settings.force or problems[r.name]]
        for resource in todo:
            if problems[resource.name] not in ([], [f"{resource.name}: missing"]) and not settings.force:
                log.info("%s: %s; fetching it again", self.id, "; ".join(problems[resource.name]))
        local = settings.source_dir is not None
        try:
            downloads = [r for r in todo if not r.requires()]
            with progress.dataset(self.id, files=len(downloads), quiet=settings.quiet) as display:

                def install(resource: Resource) -> None:
                    pipeline.install(ctx, resource)
                    display.file_done()

                try:
                    errors = run_concurrently(downloads, install, settings.jobs, keep_going=local)
                except KeyboardInterrupt:
                    display.cancel()  # the other downloads stop at their next chunk
                    raise
            if errors and not local:
                raise errors[0]
            for resource in todo:
                if resource.requires() and not errors:
                    pipeline.install(ctx, resource)
        except KeyboardInterrupt:
            from datamaestro.download.transport import kept_bytes
            from datamaestro.storage import human_size

            kept = sum(kept_bytes(p) for p in ctx.folder.partial_files(self.id) if p.name.endswith(".part"))
            if kept:
                log.warning(
                    "%s: interrupted; %s of partial downloads kept in %s: the next run resumes",
                    self.id, human_size(kept), ctx.folder.download_dir(self.id),
                )
            raise
        finally:
            for directory in (ctx.folder.download_dir(self.id), ctx.folder.dataset_dir(self.id)):
                try:  # once empty
                    directory.rmdir()
                except OSError:
                    pass
        if errors:  # local copies (--from DIR): every file that was not used
            error = ChecksumError if all(isinstance(e, ChecksumError) for e in errors) else DownloadError
            hint = "; pass --no-verify to accept them anyway" if error is ChecksumError else ""
            raise error(
                f"{self.id}: {len(errors)} file(s) from {settings.source_dir} not used "
                f"(they were not kept{hint}):\n" + "\n".join(f"  {e}" for e in errors)
            )

    def _offline_message(self, settings: Settings) -> str:
        missing = [name for name, problems in self.problems(settings).items() if problems]
        if not missing:
            return f"offline mode: {self.id} is prepared; --force and --repair need network access"
        return (
            f"offline mode: {self.id} is not prepared (missing {', '.join(missing)}); "
            f"run 'datamaestro prepare {self.id}' with network access, "
            f"or 'datamaestro prepare {self.id} --from DIR' with a copy of its files{offline_note(settings)}"
        )

    def build(self, ctx: PrepareContext) -> Base:
        """Call the definition function with the resource paths; wrap a dict in ``base``."""
        result = self.function(**{r.varname: r.path(ctx) for r in self.resources})
        if isinstance(result, Base):
            return result
        if isinstance(result, dict) and self.base is not None:
            try:
                return self.base(**result)
            except TypeError as e:
                raise DefinitionError(f"{self.id}: cannot build {self.type_name}: {e}") from None
        raise DefinitionError(
            f"{self.id}: the definition returned {type(result).__name__}, "
            "expected a dict of fields or a data object"
        )


def _make_id(function: Callable[..., Any], given: Optional[str]) -> str:
    module = sys.modules.get(function.__module__)
    prefix = getattr(module, PREFIX_ATTRIBUTE, None)
    if prefix is None:
        prefix = function.__module__.removeprefix("datasets_registry.")
    if given is None:
        return f"{prefix}.{function.__name__.lower()}"
    if given == "":
        return prefix
    return given if "." in given else f"{prefix}.{given}"


def dataset(
    base: Optional[type[Base]] = None,
    *,
    id: Optional[str] = None,
    name: Optional[str] = None,
    url: Optional[str] = None,
    tags: Iterable[str] = (),
    description: Optional[str] = None,
    license: Optional[str] = None,
    citation: Optional[str] = None,
    homepage: Optional[str] = None,
) -> Callable[[Callable[..., Any]], DatasetDefinition]:
    """Decorator declaring a dataset whose data ``base(**function(...))`` builds.

    The function receives one argument per resource (its prepared path) and
    returns a dict of ``base``'s fields, or a data object. ``license``,
    ``citation`` (BibTeX) and ``homepage`` are what ``info`` and the catalog show.
    """

    def decorate(function: Callable[..., Any]) -> DatasetDefinition:
        return DatasetDefinition(
            function, base, id=id, name=name, url=url, tags=tags, description=description,
            license=license, citation=citation, homepage=homepage,
        )

    return decorate
