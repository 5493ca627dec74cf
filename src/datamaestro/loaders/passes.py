"""The order of one pass over N items, cut into batches of indices.

The same convention as ``datamaestro.loaders.batches.Batches``: with a seed,
pass ``epoch`` visits ``np.random.default_rng([seed, epoch]).permutation(N)``
(reproducible, and every epoch reshuffles); without one, fresh entropy.
With ``rank`` and ``world_size`` (or ``distributed=True``: RANK and
WORLD_SIZE), a pass is this rank's share of that order (``datamaestro.loaders.sharding``). Every loader's
``batches()`` is an ``IndexBatches``: of arrays, image files or texts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Generic, NoReturn, Optional, TypeVar

import numpy as np

from datamaestro.errors import UsageError
from datamaestro.loaders.sharding import DEFAULT_SEED, pass_order, resolve, shard

T = TypeVar("T")


def check_options(batch_size: object, seed: object) -> None:
    """Raise a one-line error for a batch size that is not positive or a negative seed."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise UsageError(f"batch_size must be a positive integer, not {batch_size!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise UsageError(f"seed must be a non-negative integer or None, not {seed!r}")


class IndexBatches(Generic[T]):
    """Iterates ``gather(indices)`` over the batches of one pass; ``len()`` is the number of batches.

    ``indices`` is a slice when the pass is neither shuffled nor sharded, else an
    array of positions. With ``start`` (``start(indices)`` begins the work of a
    batch in the background and gives a call that waits for it and returns the
    batch), each batch is started before the one before it is handed over, so
    that the caller's work on a batch overlaps the making of the next.
    """

    def __init__(
        self,
        n: int,
        gather: Callable[[slice | np.ndarray], T],
        *,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: Optional[int] = None,
        epoch: int = 0,
        drop_last: bool = False,
        rank: Optional[int] = None,
        world_size: Optional[int] = None,
        distributed: bool = False,
        start: Optional[Callable[[slice | np.ndarray], Callable[[], T]]] = None,
    ):
        check_options(batch_size, seed)
        self.gather = gather
        self.start = start
        self._ahead: Optional[Callable[[], T]] = None
        self.batch_size = int(batch_size)
        self.seed, self.epoch = seed, epoch
        self.rank, self.world_size = resolve(rank, world_size, distributed)
        if shuffle and seed is None and self.world_size > 1:
            seed = DEFAULT_SEED  # every rank must shuffle alike
        #: the order of this pass, this rank's share of it (None when neither shuffled nor sharded)
        self.order: Optional[np.ndarray] = pass_order(n, shuffle, seed, epoch)
        if self.world_size > 1:
            self.order = shard(np.arange(n) if self.order is None else self.order, self.rank, self.world_size, drop_last)
            n = len(self.order)
        stop = n - n % self.batch_size if drop_last else n
        self._starts: Iterator[int] = iter(range(0, stop, self.batch_size))
        self._count = -(-stop // self.batch_size)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> IndexBatches[T]:
        return self

    def __next__(self) -> T:
        if self.start is None:
            return self.gather(self._indices(next(self._starts)))
        current = self._ahead or self._started(self.start, next(self._starts))
        following = next(self._starts, None)
        self._ahead = None if following is None else self._started(self.start, following)
        return current()

    def _started(self, begin: Callable[[slice | np.ndarray], Callable[[], T]], start: int) -> Callable[[], T]:
        """The batch beginning at ``start``, begun; when beginning it fails, a call raising that
        error: it comes with its own batch, not with the one handed over while it was begun."""
        try:
            return begin(self._indices(start))
        except Exception as error:
            return functools.partial(reraise, error)

    def _indices(self, start: int) -> slice | np.ndarray:
        """The indices of the batch beginning at ``start`` in this pass."""
        end = start + self.batch_size
        return slice(start, end) if self.order is None else self.order[start:end]


def reraise(error: Exception) -> NoReturn:
    """Raise ``error`` (again)."""
    raise error


def counted_epoch(data: object, epoch: Optional[int]) -> int:
    """The epoch of the next ``batches()`` call on ``data``: ``epoch`` when given, else the
    number of its earlier calls (each call counts, so that each call reshuffles)."""
    counter = data.__dict__.setdefault("_passes", PassCounter())
    return counter.next(epoch)


class PassCounter:
    """Counts the passes asked of one data object, so that each call reshuffles."""

    def __init__(self) -> None:
        self.calls = 0

    def next(self, epoch: Optional[int]) -> int:
        """The epoch of this pass: ``epoch`` when given, else the number of earlier calls."""
        calls = self.calls
        self.calls += 1
        return calls if epoch is None else epoch
