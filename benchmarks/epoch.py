"""Benchmark 1: one shuffled pass, batch 64, float32 in [0, 1], over Fashion-MNIST's 60,000 training images.

Against d2l's recipe (torchvision's FashionMNIST + ToTensor through a
DataLoader with 4 workers, and with none) and against a plain numpy loop over
the same memory-mapped file. Each loader yields every batch; the loop body
does nothing else.
"""

from __future__ import annotations

import os
import statistics

import common
import numpy as np

BATCH = 64


def numpy_loop(images: np.ndarray, labels: np.ndarray, seed: int) -> None:
    """The plain numpy loop: permute, gather, scale (the fast way to write it)."""
    order = np.random.default_rng(seed).permutation(images.shape[0])
    for start in range(0, images.shape[0], BATCH):
        rows = order[start : start + BATCH]
        x = np.divide(images[rows], np.float32(255), dtype=np.float32)
        y = labels[rows]
    del x, y


def naive_numpy_loop(images: np.ndarray, labels: np.ndarray, seed: int) -> None:
    """The same loop written the obvious way, ``astype(float32) / 255``."""
    order = np.random.default_rng(seed).permutation(images.shape[0])
    for start in range(0, images.shape[0], BATCH):
        rows = order[start : start + BATCH]
        x = images[rows].astype(np.float32) / 255
        y = labels[rows]
    del x, y


def run(repeat: int = 5, torch_repeat: int = 3) -> None:
    from datamaestro.data.images import LabelledImages
    from datamaestro.data.tensor import IDX
    from datamaestro.formats import idx

    work = common.work_folder("epoch")
    raw = common.write_raw(work / "FashionMNIST" / "raw", common.fashion_gz())
    split = LabelledImages(
        images=IDX(path=raw / "train-images-idx3-ubyte"),
        labels=IDX(path=raw / "train-labels-idx1-ubyte"),
    )
    images = np.asarray(idx.read(raw / "train-images-idx3-ubyte"))
    labels = np.asarray(idx.read(raw / "train-labels-idx1-ubyte"))
    n = images.shape[0]

    def ours() -> None:
        for _x, _y in split.batches(BATCH, seed=0):
            pass

    def ours_resized() -> None:
        for _x, _y in split.batches(BATCH, seed=0, resize=32):
            pass

    seeds = iter(range(10**6))
    rows = [
        ("datamaestro batches()", common.timings(ours, repeat, warmup=1)),
        ("plain numpy loop", common.timings(lambda: numpy_loop(images, labels, next(seeds)), repeat, 1)),
        ("naive numpy loop", common.timings(lambda: naive_numpy_loop(images, labels, next(seeds)), repeat, 1)),
    ]

    import torch

    torchvision = common.import_torchvision()
    from torchvision import transforms

    torch.manual_seed(0)

    def torch_pass(loader: object) -> None:
        for _x, _y in loader:  # type: ignore[attr-defined]
            pass

    def d2l(workers: int, resize: int | None = None) -> object:
        steps = [transforms.ToTensor()]
        if resize:
            steps.insert(0, transforms.Resize(resize))
        dataset = torchvision.datasets.FashionMNIST(
            str(work), train=True, transform=transforms.Compose(steps), download=False
        )
        return torch.utils.data.DataLoader(dataset, BATCH, shuffle=True, num_workers=workers)

    adapter = split.to_torch().loader(BATCH, shuffle=True, seed=0)
    rows += [
        ("datamaestro to_torch().loader()", common.timings(lambda: torch_pass(adapter), repeat, 1)),
        ("torchvision DataLoader, 4 workers (d2l)", common.timings(lambda: torch_pass(d2l(4)), torch_repeat)),
        ("torchvision DataLoader, 0 workers", common.timings(lambda: torch_pass(d2l(0)), torch_repeat)),
    ]
    common.table(
        f"Epoch: one shuffled pass of batch {BATCH}, float32 in [0, 1], {n:,} x 28 x 28",
        rows,
        "datamaestro batches()",
        note="DataLoaders are rebuilt for each pass (d2l's loop); workers start anew each pass. "
        f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.",
    )
    resized = [
        ("datamaestro batches(resize=32)", common.timings(ours_resized, max(2, repeat // 2), warmup=1)),
        ("torchvision Resize(32)+ToTensor, 4 workers", common.timings(lambda: torch_pass(d2l(4, 32)), 1)),
    ]
    common.table("Epoch with resize to 32 x 32 (bilinear)", resized, "datamaestro batches(resize=32)")

    median = dict((name, statistics.median(v)) for name, v in rows + resized)
    speedup = median["torchvision DataLoader, 4 workers (d2l)"] / median["datamaestro batches()"]
    overhead = median["datamaestro batches()"] / median["plain numpy loop"]
    print()
    common.verdict("at least 100x faster than the d2l DataLoader", speedup >= 100, f"{speedup:.0f}x")
    common.verdict("within 2x of the plain numpy loop", overhead <= 2, f"{overhead:.2f}x")
