"""How a data type reaches its loaders without importing them: a registry of loaders by kind.

Data types describe stored files; ``datamaestro.loaders`` turns them into
arrays, minibatches and framework datasets, and imports the data types to do
so. Imports go that one way: a data type's ``arrays()``, ``batches()``,
``to_torch()``... call ``loaders_for(self)``, the object that a loaders module
registered for the nearest class of ``self`` (``register``). The package that
registers the built-in loaders, ``LOADERS``, is imported by name when loaders
are first asked for, as ``data_type`` imports a type's module by name (it
imports numpy, which describing data does not need). Another package may
register loaders for its own data types.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar, Union

from datamaestro.errors import UsageError

T = TypeVar("T", covariant=True)

#: the package whose modules register the built-in loaders when imported
LOADERS = "datamaestro.loaders"

_REGISTRY: dict[type, Callable[[Any], Any]] = {}

#: the loaders' ``normalize=``: True (scale to [0, 1]), False, or ``(mean, std)`` (scale, then
#: standardise each channel, as torchvision's ``ToTensor`` and ``Normalize((mean,), (std,))``)
Normalize = Union[bool, tuple[Sequence[float], Sequence[float]]]
#: the loaders' ``transform=``: called on each batch of images (numpy, or a tensor for
#: ``to_torch``), returns the batch to give
Transform = Callable[[Any], Any]


class Pass(Protocol[T]):
    """One pass of minibatches: an iterator whose ``len()`` is its number of batches."""

    def __iter__(self) -> Iterator[T]: ...

    def __next__(self) -> T: ...

    def __len__(self) -> int: ...


def register(kind: type, loaders: Callable[[Any], Any]) -> None:
    """Make ``loaders(data)`` the loaders of every ``data`` of type ``kind`` (or a subclass)."""
    _REGISTRY[kind] = loaders


def loaders_for(data: object) -> Any:
    """The loaders registered for the nearest class of ``data``, made for it."""
    importlib.import_module(LOADERS)
    for cls in type(data).__mro__:
        if cls in _REGISTRY:
            return _REGISTRY[cls](data)
    raise UsageError(f"no loaders are registered for {type(data).__qualname__}")
