"""How much a reader may allocate or write while a derived resource is built.

A derived build (``datamaestro.download.derived``) is bounded like what an
archive unpacks, by the ``max_unpacked_size`` setting: its readers check the
size of each array a file declares before allocating it, and the build's
output is checked once written.
"""

from __future__ import annotations

from typing import Optional

from datamaestro.errors import UnpackLimitError
from datamaestro.storage import human_size

#: the most bytes deflate can expand one compressed byte to (its limit is about 1032:1)
DEFLATE_EXPANSION = 1100
#: the advice of every refusal
RAISE_IT = "if the data is really that large, raise max_unpacked_size in the configuration"


def check_bytes(nbytes: int, max_bytes: Optional[int], source: object, what: str) -> None:
    """Refuse ``what`` (read from ``source``) when it takes more than ``max_bytes`` (None: no bound)."""
    if max_bytes is not None and nbytes > max_bytes:
        raise UnpackLimitError(
            f"{source}: refused: {what} would take {human_size(nbytes)} ({nbytes} bytes), more than "
            f"{human_size(max_bytes)}, the limit; {RAISE_IT}"
        )
