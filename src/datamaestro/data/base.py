"""The root of typed data objects, and their JSON round trip."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any, ClassVar

from datamaestro.errors import FormatError

_TYPES: dict[str, type[Base]] = {}


@dataclasses.dataclass(kw_only=True)
class Base:
    """A typed piece of data: subclasses are keyword-only dataclasses.

    Fields annotated ``Path`` are converted from strings, nested ``Base``
    objects and lists of them serialise recursively.
    """

    type_name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.type_name = f"{cls.__module__}.{cls.__qualname__}"
        _TYPES[cls.type_name] = cls

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type in (Path, "Path") and isinstance(value, str):
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
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        kwargs = {k: from_json_value(v) for k, v in value.items() if k in names}
        return cls(**kwargs)
    return value
