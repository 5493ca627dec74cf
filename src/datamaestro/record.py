"""``Record``: a class whose fields are its annotations, what ``dataclasses`` would give.

A subclass declares its fields as class annotations, with defaults as class
values; it gets ``__init__`` (keyword-only unless the class says
``kw_only=False``), ``__post_init__`` (called when defined), ``repr``, ``==``,
``replace(**changes)``, and with ``frozen=True`` immutability and a hash. A
list, dict or set default is copied for each object.

Why not ``dataclasses``: importing it imports ``inspect``, about 6 ms, more
than half of what the first ``prepare_dataset()`` of a prepared dataset may
take (docs/reliability.md: a prepared dataset loads in milliseconds). The
records on that path (settings, manifest entries, checksums, data types) use
this instead; the others stay dataclasses.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar

    from typing_extensions import dataclass_transform  # typing's own from Python 3.11

    R = TypeVar("R", bound="Record")
else:

    def dataclass_transform(**_options: object) -> object:
        """Tells type checkers that subclasses get a dataclass-like ``__init__``."""
        return lambda cls: cls


#: annotations that declare no field: ``ClassVar[...]``, and a dataclass's ``InitVar[...]``
#: (``typing.ClassVar``, ``t.ClassVar``... too)
_NOT_FIELD = re.compile(r"(?:\w+\.)*(?:ClassVar|InitVar)\b")

#: the default of a field that has none
REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()


@dataclass_transform(kw_only_default=True)
class Record:
    """A record of named fields: see the module."""

    #: field name -> its default (``REQUIRED`` when it has none), in declaration order
    record_fields: ClassVar[dict[str, Any]] = {}
    record_kw_only: ClassVar[bool] = True
    record_frozen: ClassVar[bool] = False

    def __init_subclass__(cls, *, kw_only: bool | None = None, frozen: bool | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if kw_only is not None:
            cls.record_kw_only = kw_only
        if frozen is not None:
            cls.record_frozen = frozen
        fields = dict(cls.record_fields)
        for name, annotation in own_annotations(cls).items():
            text = annotation if isinstance(annotation, str) else repr(annotation)
            if not _NOT_FIELD.match(text):
                fields[name] = cls.__dict__.get(name, REQUIRED)
        cls.record_fields = fields
        if "__hash__" not in cls.__dict__:
            cls.__hash__ = Record._hash if cls.record_frozen else None  # type: ignore[assignment]

    def __init__(self, *args: Any, **values: Any) -> None:
        cls = type(self)
        if args:
            if cls.record_kw_only or len(args) > len(cls.record_fields):
                raise TypeError(f"{cls.__qualname__}() takes keyword arguments only, or fewer positional ones")
            for name, value in zip(cls.record_fields, args):
                if name in values:
                    raise TypeError(f"{cls.__qualname__}() got multiple values for argument '{name}'")
                values[name] = value
        for name in values:
            if name not in cls.record_fields:
                raise TypeError(f"{cls.__qualname__}.__init__() got an unexpected keyword argument '{name}'")
        missing = [name for name, default in cls.record_fields.items() if default is REQUIRED and name not in values]
        if missing:
            names = " and ".join(f"'{name}'" for name in missing)
            plural = "s" if len(missing) > 1 else ""
            raise TypeError(f"{cls.__qualname__}.__init__() missing {len(missing)} required argument{plural}: {names}")
        for name, default in cls.record_fields.items():
            if name in values:
                value = values[name]
            else:
                value = default.copy() if isinstance(default, (list, dict, set)) else default
            object.__setattr__(self, name, value)
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    if not TYPE_CHECKING:  # (type checkers know frozen classes from the class keyword)

        def __setattr__(self, name: str, value: Any) -> None:
            if self.record_frozen:
                raise AttributeError(f"cannot assign to field '{name}' of a frozen {type(self).__qualname__}")
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.record_fields)
        return f"{type(self).__qualname__}({fields})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        # as tuples, as dataclasses compare: a field is equal to itself (NaN, arrays)
        fields = self.record_fields
        return tuple(getattr(self, n) for n in fields) == tuple(getattr(other, n) for n in fields)

    def _hash(self) -> int:
        return hash((type(self), *(getattr(self, name) for name in self.record_fields)))

    def replace(self: R, **changes: Any) -> R:
        """A copy with ``changes`` applied (``__post_init__`` runs again)."""
        return type(self)(**{**{name: getattr(self, name) for name in self.record_fields}, **changes})


def own_annotations(cls: type) -> dict[str, Any]:
    """The annotations a class declares itself (not its bases')."""
    if "__annotations__" in cls.__dict__:
        return cls.__dict__["__annotations__"]
    if "__annotate__" in cls.__dict__:  # Python 3.14 (PEP 649), without `from __future__ import annotations`
        return dict(cls.__annotations__)
    return {}
