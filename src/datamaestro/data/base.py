"""The root of typed data objects, and their JSON round trip.

A data type derives from ``Base`` and declares its fields as class annotations,
with defaults as class values: every subclass is made a keyword-only dataclass
when it is defined (``__init__``, ``__post_init__``, ``repr`` and ``==``); a
list, dict or set default is copied for each object. A subclass may also be
written as ``@dataclass(kw_only=True)`` itself, with ``field(...)`` and
``InitVar`` as any dataclass.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from datamaestro.errors import FormatError

if TYPE_CHECKING:  # (typing's own from Python 3.11; typing_extensions is not installed on 3.10)
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_options: object) -> object:
        """Tells type checkers that subclasses are keyword-only dataclasses."""
        return lambda cls: cls


_TYPES: dict[str, type[Base]] = {}


@dataclass_transform(kw_only_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
class Base:
    """A typed piece of data: its fields are its class annotations (keyword-only).

    Fields annotated ``Path`` are converted from strings, nested ``Base``
    objects and lists of them serialise recursively.
    """

    type_name: ClassVar[str] = "datamaestro.data.base.Base"
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]  # (set on each subclass)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.type_name = f"{cls.__module__}.{cls.__qualname__}"
        _TYPES[cls.type_name] = cls
        for name in inspect.get_annotations(cls):
            default = cls.__dict__.get(name)
            if isinstance(default, (list, dict, set)):  # copied for each object
                setattr(cls, name, dataclasses.field(default_factory=default.copy))
        written = dict(cls.__dict__)
        dataclasses.dataclass(kw_only=True)(cls)
        # Put back the ``field(...)`` values that dataclass replaced, so that a
        # @dataclass decorator on the class reads it as it was written.
        for name, value in written.items():
            if isinstance(value, dataclasses.Field):
                setattr(cls, name, value)

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type in ("Path", Path) and isinstance(value, str):
                setattr(self, field.name, Path(value))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description: ``type`` plus every field that is set."""
        out: dict[str, Any] = {"type": self.type_name}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                out[field.name] = _to_json(value)
        return out


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
        names = {field.name for field in dataclasses.fields(cls) if field.init}
        kwargs = {k: from_json_value(v) for k, v in value.items() if k in names}
        return cls(**kwargs)
    return value
