"""Readers and writers of on-disk data formats.

``read(path, format)`` and ``write(dataset, path, format)`` handle the
dataset layouts named as Datumaro names them (mnist, mnist_csv, cifar,
imagenet); ``Dataset`` and ``Subset`` are the in-memory form they share.
"""

from typing import Any

_EXPORTS = {
    "read": "datamaestro.formats.registry",
    "write": "datamaestro.formats.registry",
    "convert": "datamaestro.formats.registry",
    "from_data": "datamaestro.formats.registry",
    "apply_filters": "datamaestro.formats.registry",
    "FORMATS": "datamaestro.formats.registry",
    "Dataset": "datamaestro.formats.dataset",
    "Subset": "datamaestro.formats.dataset",
}


def __getattr__(name: str) -> Any:
    """Import the layout machinery only when it is used."""
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'datamaestro.formats' has no attribute {name!r}")
