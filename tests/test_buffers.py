"""Batch arrays used again: only once nothing but the pool refers to them."""

from __future__ import annotations

import pickle

import numpy as np

from datamaestro.loaders.buffers import KEEP, Recycled, recycled


def test_an_array_is_used_again_only_once_nobody_holds_it():
    pool = Recycled()
    first = pool.empty((4, 3), np.float32)
    address = first.__array_interface__["data"][0]
    view = first[1:]
    second = pool.empty((4, 3), np.float32)
    assert second is not first  # a view of it is held
    del view, first
    third = pool.empty((4, 3), np.float32)
    assert third.__array_interface__["data"][0] == address  # nobody holds the first any more
    held = [third]
    fourth = pool.empty((4, 3), np.float32)
    assert fourth is not held[0] and fourth is not second
    assert pool.empty((4, 2), np.float32).shape == (4, 2) and pool.empty((4, 3), np.uint8).dtype == np.uint8


def test_the_pool_keeps_a_few_arrays():
    pool = Recycled()
    kept = [pool.empty((2,), np.float32) for _ in range(KEEP + 3)]
    assert len(pool.arrays) == KEEP + 1 and all(a is b for a, b in zip(pool.arrays[1:], kept[-KEEP:]))
    assert all(a is not pool.arrays[0] for a in kept)  # (the probe is never handed out)


class Split:
    """Stands for a split: any object with a ``__dict__``."""


def test_the_passes_of_a_split_share_its_pool_and_a_pickle_leaves_it_behind():
    split = Split()
    pool = recycled(split)
    assert recycled(split) is pool and recycled(Split()) is not pool
    pool.empty((1000,), np.float32)
    copy = pickle.loads(pickle.dumps(split))
    assert isinstance(recycled(copy), Recycled) and len(recycled(copy).arrays) == 1
