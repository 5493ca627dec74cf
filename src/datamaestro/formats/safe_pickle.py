"""Loading untrusted pickles (the CIFAR batches) without running code from them.

Only the globals that the published CIFAR files and Datumaro's CIFAR files
need are admitted: numpy's array reconstruction and dtypes, and
``_codecs.encode`` (how Python 3 writes ``bytes`` in protocol 2). Anything
else (``os.system``, ``builtins.eval``, ``subprocess.Popen``...) is refused
before it can be called. Containers are then checked: dicts, lists, tuples,
str/bytes, numbers, None, and numpy arrays of numbers, or object arrays of
numbers or of numeric arrays (Datumaro's ``image_sizes`` extension).
"""

from __future__ import annotations

import codecs
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.paths import printable

_NUMPY_MODULES = ("numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric", "numpy._core.numeric", "numpy")
_NUMPY_NAMES = {"_reconstruct", "ndarray", "dtype", "scalar", "_frombuffer"}
_ENCODINGS = {"latin1", "latin-1", "iso-8859-1", "utf-8", "utf8", "ascii"}


def _encode(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` limited to the text encodings a pickle of bytes uses."""
    if not isinstance(text, str) or encoding.lower() not in _ENCODINGS:
        raise _Forbidden(f"the pickle asks for _codecs.encode with encoding {encoding!r}")
    return codecs.encode(text, encoding)


class _Forbidden(pickle.UnpicklingError):
    """A global that a data file never needs."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module in _NUMPY_MODULES and name in _NUMPY_NAMES:
            if name == "ndarray":
                return np.ndarray
            if name == "dtype":
                return np.dtype
            from numpy._core import multiarray, numeric

            return getattr(multiarray, name, None) or getattr(numeric, name)
        if module == "_codecs" and name == "encode":
            return _encode
        raise _Forbidden(f"the pickle asks for {module}.{name}")


_ALLOWED_KINDS = set("biufcSUO")
_NUMERIC_KINDS = set("biufc")


def _check(value: Any, depth: int = 0) -> None:
    """Raise ``ValueError`` unless ``value`` is made of plain data only."""
    if depth > 20:
        raise ValueError("nesting deeper than 20 levels")
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return
    if isinstance(value, np.generic):
        if value.dtype.kind not in _ALLOWED_KINDS or value.dtype.kind == "O":
            raise ValueError(f"numpy scalar of type {value.dtype}")
        return
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _ALLOWED_KINDS:
            raise ValueError(f"numpy array of type {value.dtype}")
        if value.dtype.kind == "O":
            for element in value.flat:
                kind = type(element)
                if kind is np.ndarray:
                    if element.dtype.kind not in _NUMERIC_KINDS:
                        raise ValueError(f"an object array holding an array of type {element.dtype}")
                elif not (kind is int or kind is float or isinstance(element, np.number)):
                    raise ValueError("an object array holding something else than numbers or numeric arrays")
        return
    if isinstance(value, (list, tuple)):
        for element in value:
            _check(element, depth + 1)
        return
    if isinstance(value, dict):
        for key, element in value.items():
            if not isinstance(key, (str, bytes, int)):
                raise ValueError(f"dict key of type {type(key).__name__}")
            _check(element, depth + 1)
        return
    raise ValueError(f"a {type(value).__name__} object")


def loads(data: bytes, source: str = "<bytes>") -> Any:
    """Unpickle ``data`` admitting only plain data and numpy arrays (else ``FormatError``)."""
    source = printable(source)  # a file name found in the data
    try:
        value = _Unpickler(io.BytesIO(data), encoding="latin1").load()
    except _Forbidden as e:
        raise FormatError(
            f"{source}: refused to unpickle: {e}, which a data file never needs "
            "(only dicts, lists, str/bytes, numbers and numpy arrays are allowed)"
        ) from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError, MemoryError) as e:
        raise FormatError(f"{source}: corrupt or truncated pickle ({type(e).__name__}: {e})") from None
    try:
        _check(value)
    except ValueError as e:
        raise FormatError(f"{source}: refused: the pickle holds {e}") from None
    return value


def load(path: Path | str) -> Any:
    """Unpickle the file ``path`` safely (see ``loads``)."""
    path = Path(path)
    return loads(path.read_bytes(), str(path))
