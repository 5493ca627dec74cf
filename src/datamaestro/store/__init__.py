"""The team store: prepare once, and every machine takes the verified originals from a shared store.

``obtain`` (in ``datamaestro.store.originals``) is the one call the prepare pipeline
makes; ``push`` and ``pull`` (CLI) move whole datasets. See docs/teams.md.
Nothing is imported here, so that ``datamaestro.store.offline`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any



def __getattr__(name: str) -> Any:
    """``obtain`` and ``Original``, imported when first asked for."""
    if name == "obtain":
        from datamaestro.store.originals import obtain

        return obtain
    if name == "Original":
        from datamaestro.store.transfer import Original

        return Original
    raise AttributeError(f"module 'datamaestro.store' has no attribute {name!r}")
