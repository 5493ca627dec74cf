"""The root of typed data objects, and their JSON round trip.

A data type derives from ``Base`` and declares its fields as class annotations,
with defaults as class values (a ``datamaestro.record.Record``): they become
keyword-only constructor arguments, as in a keyword-only dataclass. A subclass
of ``Base`` itself may also be written as ``@dataclass(kw_only=True)``; a
``@dataclass`` deriving from a type that has fields (``IDX``, ``Supervised``...)
is refused when first built, naming the fields its constructor would drop.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from datamaestro.errors import FormatError
from datamaestro.record import Record, own_annotations

if TYPE_CHECKING:
    from typing import Any, ClassVar

_TYPES: dict[str, type[Base]] = {}
#: the data types whose way of being written was checked (``_check_dataclass``)
_CHECKED: set[type[Base]] = set()


class Base(Record):
    """A typed piece of data: its fields are its class annotations (keyword-only).

    Fields annotated ``Path`` are converted from strings, nested ``Base``
    objects and lists of them serialise recursively.
    """

    type_name: ClassVar[str]
    #: the names of the fields annotated ``Path``
    path_fields: ClassVar[frozenset[str]] = frozenset()

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls not in _CHECKED:
            _check_dataclass(cls)
            _CHECKED.add(cls)
        return super().__new__(cls)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.type_name = f"{cls.__module__}.{cls.__qualname__}"
        _TYPES[cls.type_name] = cls
        paths = set(cls.path_fields)
        for name, annotation in own_annotations(cls).items():
            (paths.add if annotation in ("Path", Path) else paths.discard)(name)
        cls.path_fields = frozenset(paths)

    def __post_init__(self) -> None:
        for name in self.path_fields:
            value = getattr(self, name)
            if isinstance(value, str):
                setattr(self, name, Path(value))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description: ``type`` plus every field that is set."""
        out: dict[str, Any] = {"type": self.type_name}
        for name in _data_fields(type(self)):
            value = getattr(self, name)
            if value is not None:
                out[name] = _to_json(value)
        return out


def _data_fields(cls: type[Base], init: bool = False) -> list[str]:
    """The fields of a data type (with ``init``: those its constructor takes), as a dataclass
    sees them when the type was written as one."""
    if not hasattr(cls, "__dataclass_fields__"):
        return list(cls.record_fields)
    import dataclasses

    return [f.name for f in dataclasses.fields(cls) if f.init or not init]


def _check_dataclass(cls: type[Base]) -> None:
    """Refuse a ``@dataclass`` whose constructor would not take the fields it inherits."""
    own = cls.__dict__.get("__dataclass_fields__")
    lost = [name for name in cls.record_fields if own is not None and name not in own]
    if lost:
        raise TypeError(
            f"{cls.__qualname__} is a @dataclass deriving from a data type with fields "
            f"({', '.join(lost)}) that its constructor would not take: remove @dataclass "
            "(a data type's fields are its annotations)"
        )


def _to_json(value: Any) -> Any:
    if isinstance(value, Base):
        return value.to_json()
    if isinstance(value, Path):
        return str(value.absolute())
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    return value


def data_type(name: str) -> type[Base]:
    """The ``Base`` subclass registered under ``name`` (``module.Class``).

    Only modules of the ``datamaestro`` family are imported on demand; other
    types must have been imported by the caller.
    """
    if name not in _TYPES:
        module = name.rpartition(".")[0]
        if module.split(".")[0].startswith("datamaestro"):
            try:
                importlib.import_module(module)
            except ImportError:
                pass
    try:
        return _TYPES[name]
    except KeyError:
        raise FormatError(
            f"unknown data type '{name}' in the JSON description; "
            "import the module that defines it first"
        ) from None


def from_json_value(value: Any) -> Any:
    """Rebuild typed objects from the output of ``Base.to_json``."""
    if isinstance(value, list):
        return [from_json_value(v) for v in value]
    if isinstance(value, dict):
        if "type" not in value:
            return {k: from_json_value(v) for k, v in value.items()}
        cls = data_type(value["type"])
        names = _data_fields(cls, init=True)
        kwargs = {k: from_json_value(v) for k, v in value.items() if k in names}
        return cls(**kwargs)
    return value
