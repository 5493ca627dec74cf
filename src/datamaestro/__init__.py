"""datamaestro: find, fetch, verify and load machine-learning datasets by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from datamaestro.api import from_json, prepare_dataset, to_json

__version__ = "0.1.0"
__all__ = ["prepare_dataset", "from_json", "to_json", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `import datamaestro` (and the CLI) stays fast.
    if name in ("prepare_dataset", "from_json", "to_json"):
        from datamaestro import api

        return getattr(api, name)
    raise AttributeError(f"module 'datamaestro' has no attribute '{name}'")
