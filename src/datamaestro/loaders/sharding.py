"""Distributed training: each rank's share of one pass, with the semantics of PyTorch's DistributedSampler.

Every rank computes the same order of the pass (the seeded permutation of
epoch k, or 0..N-1 unshuffled), makes its length a multiple of the number of
ranks, and takes every ``world_size``-th index from its ``rank``. By default
the order is padded with its own first indices (a few samples are then seen
twice in the pass); with ``drop_last`` its tail is dropped instead. Either way
the ranks get disjoint (but for padding) shares of equal size, so they run the
same number of steps. A pass is shared only when the code asks: with ``rank``
and ``world_size``, or with ``distributed=True``, which reads them from the
``RANK`` and ``WORLD_SIZE`` environment variables that ``torchrun`` sets (0
and 1 when they are not set). Otherwise every process gets the whole pass,
whatever the environment says.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Optional

import numpy as np

from datamaestro.errors import UsageError

#: the seed of shuffled passes over several ranks when none is given (all ranks must agree)
DEFAULT_SEED = 0


def resolve(rank: Optional[int], world_size: Optional[int], distributed: bool = False) -> tuple[int, int]:
    """``(rank, world_size)``: as given, from RANK and WORLD_SIZE with ``distributed``, else (0, 1)."""
    if distributed:
        if rank is not None or world_size is not None:
            raise UsageError("give rank and world_size, or distributed=True (RANK and WORLD_SIZE), not both")
        rank, world_size = from_environment("RANK", 0), from_environment("WORLD_SIZE", 1)
    rank = integer("rank", 0 if rank is None else rank)
    world_size = integer("world_size", 1 if world_size is None else world_size)
    if world_size < 1:
        raise UsageError(f"world_size must be at least 1, not {world_size}")
    if not 0 <= rank < world_size:
        raise UsageError(f"rank must be in 0..{world_size - 1} (world_size {world_size}), not {rank}")
    return rank, world_size


def from_environment(variable: str, default: int) -> int:
    """The integer in environment variable ``variable`` (``default`` when it is not set)."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{variable}={text!r} is not an integer (distributed=True reads it)") from None


def integer(name: str, value: object) -> int:
    """``value`` as an int, or a one-line error naming the option ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UsageError(f"{name} must be an integer, not {value!r}")
    return int(value)


def shard(order: np.ndarray, rank: int, world_size: int, drop_last: bool = False) -> np.ndarray:
    """The indices of ``order`` (a whole pass) that belong to ``rank`` of ``world_size``."""
    n = len(order)
    if world_size == 1:
        return order
    if drop_last:
        total = n - n % world_size
        order = order[:total]
    else:
        total = -(-n // world_size) * world_size
        if total > n and n:
            order = np.concatenate([order, np.resize(order, total - n)])
    return order[rank:total:world_size]


def pass_order(n: int, shuffle: bool, seed: Optional[int], epoch: int) -> Optional[np.ndarray]:
    """The order of one pass over ``n`` samples (None: 0..n-1, unshuffled)."""
    if not shuffle:
        return None
    return np.random.default_rng(None if seed is None else [int(seed), int(epoch)]).permutation(n)


class ShardBatchSampler:
    """Batches of indices of one rank's share of each pass: a batch sampler for ``DataLoader``.

    Each iteration is the next epoch (0, 1, ...), shuffled with the same seeded
    permutation on every rank; ``set_epoch(k)`` sets the next one, as with
    PyTorch's DistributedSampler.
    """

    def __init__(
        self, n: int, batch_size: int, shuffle: bool, seed: Optional[int], drop_last: bool, rank: int, world_size: int
    ):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise UsageError(f"batch_size must be a positive integer, not {batch_size!r}")
        self.n, self.batch_size, self.shuffle, self.drop_last = n, int(batch_size), shuffle, drop_last
        self.seed = DEFAULT_SEED if seed is None else seed
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Make ``epoch`` the next pass."""
        self.epoch = epoch

    def _share(self) -> int:
        n, w = self.n, self.world_size
        return n // w if self.drop_last else -(-n // w)

    def __len__(self) -> int:
        share = self._share()
        return share // self.batch_size if self.drop_last else -(-share // self.batch_size)

    def __iter__(self) -> Iterator[np.ndarray]:
        order = pass_order(self.n, self.shuffle, self.seed, self.epoch)
        self.epoch += 1
        share = shard(np.arange(self.n) if order is None else order, self.rank, self.world_size, self.drop_last)
        stop = len(share) - len(share) % self.batch_size if self.drop_last else len(share)
        for start in range(0, stop, self.batch_size):
            yield share[start : start + self.batch_size]
