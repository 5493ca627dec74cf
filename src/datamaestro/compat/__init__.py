"""Drop-in versions of the data helpers of two well-known texts, on datamaestro's datasets.

- ``load_mnist`` of the book/blog "Deep Learning from Scratch" (``dataset/mnist.py``):
  ``(x_train, t_train), (x_test, t_test)`` with its defaults and shapes.
- ``load_data_fashion_mnist``, ``get_fashion_mnist_labels`` and ``show_images``
  of "Dive into Deep Learning" (d2l, PyTorch edition, before 1.0).
- ``datamaestro.compat.d2l``: the names d2l 1.0 (PyTorch) gives, ``DataModule`` and
  ``FashionMNIST`` among them: ``from datamaestro.compat import d2l`` in place of
  ``from d2l import torch as d2l``.

Each takes a ``dataset=`` id, so the same code runs on any labelled image
dataset (the ones with ``train`` and ``test`` splits). See docs/compat.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, Optional, Union

import numpy as np

from datamaestro.api import prepare_dataset
from datamaestro.data.images import LabelledImages
from datamaestro.errors import UsageError
from datamaestro.loaders.arrays import arrays
from datamaestro.loaders.torch import import_torch
from datamaestro.viz import show_images as grid

MNIST = "com.lecun.mnist"
FASHION_MNIST = "com.github.zalandoresearch.fashion-mnist"
#: d2l's text labels of Fashion-MNIST's classes, as d2l spells them
FASHION_MNIST_LABELS = [
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
]


def train_test(dataset: str) -> tuple[Any, Any]:
    """The prepared ``train`` and ``test`` splits (``LabelledImages``) of ``dataset``."""
    data = prepare_dataset(dataset)
    splits = [getattr(data, name, None) for name in ("train", "test")]
    if not all(isinstance(s, LabelledImages) for s in splits):
        raise UsageError(f"{dataset} has no train and test splits of labelled images")
    return splits[0], splits[1]


def load_mnist(
    normalize: bool = True, flatten: bool = True, one_hot_label: bool = False, *, dataset: str = MNIST
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, t_train), (x_test, t_test))`` as "Deep Learning from Scratch" returns them.

    ``normalize``: float32 pixels in [0, 1] (else uint8 0..255); ``flatten``:
    ``(N, 784)`` (else ``(N, 1, 28, 28)``; colour images ``(N, 3, H, W)``);
    ``one_hot_label``: ``(N, classes)`` float64 rows of 0 and 1 (else the
    stored uint8 labels). ``dataset``: any dataset with labelled ``train`` and
    ``test`` image splits. The arrays are writable copies.
    """
    out = []
    for split in train_test(dataset):
        images, labels = arrays(
            split.images.data(), split.labels.data(), normalize=normalize, flatten=flatten, layout="NCHW"
        )
        images = np.array(images, copy=True)
        if one_hot_label:
            classes = len(split.categories) if split.categories else int(labels.max()) + 1
            labels = np.eye(classes, dtype=np.float64)[np.asarray(labels, dtype=np.int64)]
        else:
            labels = np.array(labels, copy=True)
        out.append((images, labels))
    return out[0], out[1]


class BatchLoader:
    """A re-iterable loader: every ``iter()`` is a new pass of ``(X, y)`` minibatches.

    ``X`` is float32 ``(N, C, H, W)`` in [0, 1] (``C`` = 1 for grey images),
    ``y`` int64 labels; numpy arrays, or torch tensors with ``tensors="torch"``.
    ``len()`` is the number of batches of a pass; ``num_examples`` the number of items.
    """

    def __init__(
        self,
        split: Any,
        batch_size: int,
        *,
        shuffle: bool,
        resize: Optional[Union[int, tuple[int, int]]] = None,
        tensors: str = "numpy",
    ):
        if tensors not in ("numpy", "torch"):
            raise UsageError(f"tensors must be 'numpy' or 'torch', not {tensors!r}")
        self.split = split
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.resize = resize
        self.tensors = tensors
        self.num_examples = int(split.labels.data().shape[0])
        if tensors == "torch":
            self._torch = import_torch()

    def __len__(self) -> int:
        return math.ceil(self.num_examples / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        batches = self.split.batches(
            self.batch_size, shuffle=self.shuffle, resize=self.resize, layout="NCHW"
        )
        for images, labels in batches:
            labels = np.asarray(labels, dtype=np.int64)
            if self.tensors == "torch":
                yield self._torch.from_numpy(np.ascontiguousarray(images)), self._torch.from_numpy(labels)
            else:
                yield images, labels


def load_data_fashion_mnist(
    batch_size: int,
    resize: Optional[Union[int, tuple[int, int]]] = None,
    *,
    dataset: str = FASHION_MNIST,
    tensors: str = "numpy",
) -> tuple[BatchLoader, BatchLoader]:
    """``(train_iter, test_iter)`` as d2l returns them: ``(X, y)`` batches, the training set shuffled.

    ``X`` is float32 ``(batch, 1, H, W)`` in [0, 1] (``ToTensor``); with
    ``resize`` (an int: the shorter edge, as torchvision's ``Resize``) the
    images are resized bilinearly first. ``y`` is int64. ``tensors="torch"``
    gives torch tensors (needs the ``torch`` extra).
    """
    train, test = train_test(dataset)
    return (
        BatchLoader(train, batch_size, shuffle=True, resize=resize, tensors=tensors),
        BatchLoader(test, batch_size, shuffle=False, resize=resize, tensors=tensors),
    )


def get_fashion_mnist_labels(labels: Sequence[Any]) -> list[str]:
    """d2l's text label of each numeric Fashion-MNIST label (tensors, arrays or ints)."""
    return [FASHION_MNIST_LABELS[int(i)] for i in labels]


def show_images(
    imgs: Any, num_rows: int, num_cols: int, titles: Optional[Sequence[str]] = None, scale: float = 1.5
) -> Any:
    """d2l's grid of ``num_rows`` x ``num_cols`` images with titles, as a PIL image.

    ``imgs`` is a batch (numpy or torch) of ``(H, W)``, ``(1, H, W)`` or
    ``(H, W, 3)`` images; only the first ``num_rows * num_cols`` are drawn.
    d2l gives ``scale`` in inches per image for matplotlib; here each image
    pixel becomes ``round(2 * scale)`` pixels (1.5 -> 3: 84 pixels for 28).
    In a notebook the returned image shows as the cell's output; ``.save()``
    writes it. Needs Pillow (the ``images`` extra).
    """
    if num_rows < 1 or num_cols < 1:
        raise UsageError("num_rows and num_cols must be at least 1")
    count = num_rows * num_cols
    batch = [_numpy(img) for img in list(imgs)[:count]]
    if not batch:
        raise UsageError("no images to show")
    array = np.stack(batch)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    labels = None if titles is None else list(titles)[: len(batch)]
    return grid(array, labels, num_cols, scale=max(1, round(2 * scale)))


def _numpy(image: Any) -> np.ndarray:
    """A torch tensor (any device) or array-like as a numpy array."""
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    return np.asarray(image)
