"""Optional packages (Pillow, scipy, torch...): imported on demand, or one clear error naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from datamaestro.errors import MissingDependencyError


def require(module: str, what: str, package: str, extra: str) -> ModuleType:
    """Import ``module``, needed for ``what``; a missing package is a ``MissingDependencyError`` (exit 2)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(what, package, extra) from None


def pillow(what: str = "image files") -> ModuleType:
    """``PIL.Image``, needed for ``what``."""
    return require("PIL.Image", what, "Pillow", "images")
