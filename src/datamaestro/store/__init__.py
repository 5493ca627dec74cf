"""The team store: prepare once, and every machine takes the verified originals from a shared store.

``obtain`` is the one call the prepare pipeline makes; ``push`` and ``pull``
(CLI) move whole datasets. See docs/teams.md.
"""

from datamaestro.store.obtain import obtain
from datamaestro.store.transfer import Original

__all__ = ["Original", "obtain"]
