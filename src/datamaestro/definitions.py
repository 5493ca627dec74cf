"""The ``@dataset`` decorator and the dataset definitions it creates.

Ids: by default the module path inside its repository plus the lowercased
function name (``com/lecun.py``'s ``MNIST`` is ``com.lecun.mnist``). ``id=``
replaces the function name when it has no dot (``id="fashion-mnist"``), is
used as is when it has one, and ``id=""`` makes the module path the id.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any, Optional

from datamaestro.config import Settings
from datamaestro.data.base import Base
from datamaestro.download import PrepareContext, Resource
from datamaestro.download.mirrors import OfflineError
from datamaestro.errors import ChecksumError, DefinitionError, DownloadError
from datamaestro.storage import remove
from datamaestro.store.offline import offline_note, usable_offline

log = logging.getLogger("datamaestro")

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
    ):
        self.function = function
        self.base = base
        self.id = _make_id(function, id)
        self.name = name or function.__name__
        self.url = url
        self.tags = list(tags)
        self.description = description or inspect.getdoc(function) or ""
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

    def is_prepared(self, settings: Settings) -> bool:
        """Whether every resource is in place in the data folder."""
        ctx = self.context(settings)
        return all(r.is_prepared(ctx) for r in self.resources)

    def prepare(self, settings: Settings) -> Base:
        """Fetch whatever is missing, then build the typed data object.

        One process at a time prepares a dataset (a file lock in the data
        folder); the others wait, then use its files. Offline, a dataset that
        is not prepared fails at once, naming what is missing.
        """
        ctx = self.context(settings)
        if settings.force or not self.is_prepared(settings):
            local = settings.source_dir is not None or usable_offline(settings)  # a local store too
            if settings.offline and not local:
                raise OfflineError(self._offline_message(ctx))
            with ctx.folder.lock(self.id):
                self._prepare_locked(ctx)
        return self.build(ctx)

    def _prepare_locked(self, ctx: PrepareContext) -> None:
        """Prepare the missing resources (all of them with ``force``), holding the lock."""
        settings = ctx.settings
        for leftover in ctx.folder.temporaries(self.id):  # from a killed run: never left to grow
            log.info("%s: removing %s, left by an interrupted run", self.id, leftover.name)
            remove(leftover)
        local_errors: list[DownloadError] = []
        for resource in self.resources:
            if settings.force or not resource.is_prepared(ctx):
                try:
                    resource.prepare(ctx)
                except DownloadError as e:
                    if settings.source_dir is None:
                        raise
                    local_errors.append(e)  # report every local file, not only the first
        if local_errors:
            error = ChecksumError if all(isinstance(e, ChecksumError) for e in local_errors) else DownloadError
            hint = "; pass --no-verify to accept them anyway" if error is ChecksumError else ""
            raise error(
                f"{self.id}: {len(local_errors)} file(s) from {settings.source_dir} not used: "
                + "; ".join(str(e) for e in local_errors)
                + f"; they were not kept{hint}"
            )

    def _offline_message(self, ctx: PrepareContext) -> str:
        missing = [r.name for r in self.resources if not r.is_prepared(ctx)]
        if not missing:
            return f"offline mode: {self.id} is prepared; --force would download it again"
        return (
            f"offline mode: {self.id} is not prepared (missing {', '.join(missing)}); "
            f"run 'datamaestro prepare {self.id}' with network access, "
            f"or 'datamaestro prepare {self.id} --from DIR' with a copy of its files{offline_note(ctx.settings)}"
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
) -> Callable[[Callable[..., Any]], DatasetDefinition]:
    """Decorator declaring a dataset whose data ``base(**function(...))`` builds.

    The function receives one argument per resource (its prepared path) and
    returns a dict of ``base``'s fields, or a data object.
    """

    def decorate(function: Callable[..., Any]) -> DatasetDefinition:
        return DatasetDefinition(
            function, base, id=id, name=name, url=url, tags=tags, description=description
        )

    return decorate
