"""The ``@dataset`` decorator and the dataset definitions it creates.

Ids: by default the module path inside its repository plus the lowercased
function name (``com/lecun.py``'s ``MNIST`` is ``com.lecun.mnist``). ``id=``
replaces the function name when it has no dot (``id="fashion-mnist"``), is
used as is when it has one, and ``id=""`` makes the module path the id.

Aliases: ``aliases=["cifar10"]`` are the short names users may type instead
of the id (the names torchvision and TensorFlow Datasets give the dataset);
each is one word (no dot), kept in lower case.
"""

from __future__ import annotations

import inspect
import sys
from typing import TYPE_CHECKING

from datamaestro.config import Settings
from datamaestro.data.base import Base
from datamaestro.download import Resource, inplace
from datamaestro.download import prepare as preparing
from datamaestro.download.context import PrepareContext, Request
from datamaestro.errors import DefinitionError
from datamaestro.paths import id_problem, is_valid_id, printable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, Optional

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
        aliases: Iterable[str] = (),
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
        #: the short names that resolve to this id (lower case, no dot)
        self.aliases = _check_aliases(function, self.id, aliases)
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

    def context(self, settings: Settings, request: Optional[Request] = None) -> PrepareContext:
        """The context of one preparation of this dataset (built once, passed down)."""
        return PrepareContext(self.id, settings, request)

    def problems(self, ctx: PrepareContext, full: bool = False) -> dict[str, list[str]]:
        """What is wrong with each resource in the data folder (an empty list: in place, as recorded).

        Quick by default (recorded, present, sizes as recorded); ``full`` hashes every byte.
        """
        return inplace.problems(self, ctx, full)

    def is_prepared(self, ctx: PrepareContext) -> bool:
        """Whether every resource is in place, as recorded (a quick check: sizes, not hashes)."""
        return not any(self.problems(ctx).values())

    def adopt(self, ctx: PrepareContext) -> list[str]:
        """Record the resources found in place without a record, where their declarations prove them;
        the names it recorded."""
        before = ctx.folder.manifest(self.id)
        after = inplace.adopt(self, ctx, before)
        return [r.name for r in self.resources if r.name in after.entries and r.name not in before.entries]

    def prepare(self, settings: Settings, request: Optional[Request] = None) -> Base:
        """Fetch whatever is missing or damaged (``datamaestro.download.prepare``), then build the typed data."""
        ctx = self.context(settings, request)
        preparing.prepare(self, ctx)
        return self.build(ctx)

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


def _check_aliases(function: Callable[..., Any], dataset_id: str, aliases: Iterable[str]) -> list[str]:
    """``aliases`` in lower case, refused (naming the function) unless each is one well-formed word."""
    if isinstance(aliases, str):
        raise DefinitionError(f"{function.__qualname__}: aliases= takes a list of names, not one string")
    checked: list[str] = []
    for alias in aliases:
        if not isinstance(alias, str) or "." in alias or not is_valid_id(alias):
            raise DefinitionError(
                f"{function.__qualname__}: alias {printable(repr(alias))} is not one word "
                "of letters, digits, '_' and '-' (like cifar10)"
            )
        if alias.lower() != dataset_id.lower() and alias.lower() not in checked:
            checked.append(alias.lower())
    return checked


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
    aliases: Iterable[str] = (),
) -> Callable[[Callable[..., Any]], DatasetDefinition]:
    """Decorator declaring a dataset whose data ``base(**function(...))`` builds.

    The function receives one argument per resource (its prepared path) and
    returns a dict of ``base``'s fields, or a data object. ``license``,
    ``citation`` (BibTeX) and ``homepage`` are what ``info`` and the catalog show;
    ``aliases`` are short names that resolve to the id (``cifar10``).
    """

    def decorate(function: Callable[..., Any]) -> DatasetDefinition:
        return DatasetDefinition(
            function, base, id=id, name=name, url=url, tags=tags, description=description,
            license=license, citation=citation, homepage=homepage, aliases=aliases,
        )

    return decorate
