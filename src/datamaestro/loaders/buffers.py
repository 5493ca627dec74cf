"""Batch arrays used again once the caller has let go of them.

A pass of float32 batches asks for a fresh array every batch (12.5 MB for 64
images of 128 x 128 x 3), and the system hands over fresh memory, zeroed page
by page: at array speed (a decoded cache) that was most of the time of a
pass. ``Recycled.empty`` gives back an array of an earlier batch when nothing
but the pool refers to it any more (no variable, view, tensor or list of the
caller's: CPython's reference count says so), else a new one. A batch the
caller still holds, or anything made from it, is never written again.

What "nobody else refers to it" counts to depends on the interpreter (its
stack may or may not count a reference for a call's argument): the pool
keeps a probe array, never handed out, and counts it the same way as the
others; an interpreter without reference counts never reuses an array.

The passes of one split share its pool (``recycled``), so that a new pass
starts with the arrays of the last; the pool keeps at most ``KEEP`` arrays
(the caller's batch, the one being handed over, the next being made), freed
with the split. A copy or a pickle of a pool is an empty pool.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np

#: arrays kept for reuse
KEEP = 3


class Recycled:
    """A few arrays, handed out again for a request of the same shape and type once unheld."""

    def __init__(self) -> None:
        #: the probe (never handed out), then the arrays kept
        self.arrays: list[np.ndarray] = [np.empty(0)]
        self.lock = threading.Lock()

    def empty(self, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        """An array of ``shape`` and ``dtype`` with any content: a kept one nobody holds, or a new one."""
        dtype = np.dtype(dtype)
        with self.lock:
            if hasattr(sys, "getrefcount"):
                unheld = -1
                for array in self.arrays:  # (the probe first: all are counted alike)
                    count = sys.getrefcount(array)
                    if unheld < 0:
                        unheld = count
                    elif count == unheld and array.shape == shape and array.dtype == dtype:
                        return array
            array = np.empty(shape, dtype=dtype)
            probe, kept = self.arrays[0], self.arrays[1:]
            self.arrays = [probe, *kept[-(KEEP - 1) :], array]
            return array

    def __reduce__(self) -> tuple[Any, ...]:
        return (Recycled, ())


def recycled(owner: object) -> Recycled:
    """The pool of batch arrays that the passes over ``owner`` (a split) share."""
    pool: Recycled = owner.__dict__.setdefault("_batch_arrays", Recycled())
    return pool
