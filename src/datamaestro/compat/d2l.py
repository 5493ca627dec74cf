"""The data names of "Dive into Deep Learning" 1.0 (PyTorch edition), on datamaestro's datasets.

``from datamaestro.compat import d2l`` in place of ``from d2l import torch as d2l``
gives the chapter "The Image Classification Dataset" what it calls:
``d2l.FashionMNIST(batch_size=64, resize=(28, 28))`` with its ``train`` and
``val`` datasets, ``train_dataloader()``, ``val_dataloader()``,
``text_labels(indices)`` and ``visualize(batch)``; the ``DataModule`` and
``HyperParameters`` bases, ``add_to_class``, ``use_svg_display`` and
``show_images``; and the older ``load_data_fashion_mnist`` and
``get_fashion_mnist_labels``. The data comes from the data folder (prepared on
first use), never from ``root``. Needs the ``torch`` extra.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable, Sequence
from typing import Any, Optional

import numpy as np

from datamaestro.compat import (
    FASHION_MNIST,
    FASHION_MNIST_LABELS,
    get_fashion_mnist_labels,
    load_data_fashion_mnist,
    train_test,
)
from datamaestro.compat import show_images as show_grid
from datamaestro.loaders.torch import TorchDataset, import_torch

__all__ = [
    "DataModule", "FashionMNIST", "HyperParameters", "add_to_class", "get_fashion_mnist_labels",
    "load_data_fashion_mnist", "show_images", "use_svg_display",
]


def add_to_class(Class: type) -> Callable[[Callable[..., Any]], None]:
    """d2l's decorator: make the decorated function a method of ``Class``."""

    def wrapper(function: Callable[..., Any]) -> None:
        setattr(Class, function.__name__, function)

    return wrapper


class HyperParameters:
    """d2l's base of classes that keep their constructor's arguments as attributes."""

    def save_hyperparameters(self, ignore: Sequence[str] = ()) -> None:
        """Set each argument of the calling ``__init__`` as an attribute (and in ``self.hparams``)."""
        frame = inspect.currentframe()
        caller = frame.f_back if frame is not None else None
        values = inspect.getargvalues(caller).locals if caller is not None else {}
        skipped = {*ignore, "self"}
        self.hparams = {k: v for k, v in values.items() if k not in skipped and not k.startswith("_")}
        for name, value in self.hparams.items():
            setattr(self, name, value)


class DataModule(HyperParameters):
    """d2l's base of data: ``train_dataloader()`` and ``val_dataloader()`` call ``get_dataloader(train)``.

    ``root`` is kept for code that reads it; datamaestro's datasets live in its
    data folder. ``num_workers`` defaults to 0 (d2l: 4): batches are gathered
    whole from memory-mapped arrays, so worker processes rarely help.
    """

    root: Optional[str]
    num_workers: int
    #: set by subclasses (their ``save_hyperparameters``)
    batch_size: int

    def __init__(self, root: Optional[str] = None, num_workers: int = 0):
        self.save_hyperparameters()

    def get_dataloader(self, train: bool) -> Any:
        raise NotImplementedError

    def train_dataloader(self) -> Any:
        """The loader of the training data (shuffled)."""
        return self.get_dataloader(train=True)

    def val_dataloader(self) -> Any:
        """The loader of the validation data (in order)."""
        return self.get_dataloader(train=False)

    def get_tensorloader(self, tensors: Sequence[Any], train: bool, indices: Any = slice(0, None)) -> Any:
        """A ``DataLoader`` over rows ``indices`` of ``tensors``, shuffled when ``train``."""
        data = import_torch().utils.data
        dataset = data.TensorDataset(*(t[indices] for t in tensors))
        return data.DataLoader(dataset, self.batch_size, shuffle=train)


class FashionMNIST(DataModule):
    """d2l's Fashion-MNIST: ``train`` and ``val`` datasets of ``(image, label)``, and their loaders.

    An image is a float32 ``(1, H, W)`` tensor in [0, 1], resized bilinearly to
    ``resize`` (height, width) as ``transforms.Resize`` then ``ToTensor`` give
    it; a label an int (int64 tensors in batches). ``dataset`` may name any
    dataset with labelled ``train`` and ``test`` image splits (its test split
    is ``val``).
    """

    resize: Any
    dataset: str

    def __init__(self, batch_size: int = 64, resize: Any = (28, 28), *, dataset: str = FASHION_MNIST):
        super().__init__()
        self.save_hyperparameters()
        train, test = train_test(dataset)
        shape = tuple(train.images.data().shape[1:3])
        size = None if tuple(np.atleast_1d(resize)) in (shape, shape[:1]) else resize
        self.categories = train.categories
        self.train = TorchDataset(train, resize=size)
        self.val = TorchDataset(test, resize=size)

    def get_dataloader(self, train: bool) -> Any:
        """A ``DataLoader`` of ``batch_size`` batches: shuffled for training, in order for validation."""
        data = self.train if train else self.val
        return data.loader(batch_size=self.batch_size, shuffle=train, num_workers=self.num_workers)

    def text_labels(self, indices: Sequence[Any]) -> list[str]:
        """The text label of each numeric label (d2l's spelling for Fashion-MNIST, else the class names)."""
        names = FASHION_MNIST_LABELS if self.dataset == FASHION_MNIST else self.categories
        return [names[int(i)] if names else str(int(i)) for i in indices]

    def visualize(self, batch: tuple[Any, Any], nrows: int = 1, ncols: int = 8, labels: Sequence[str] = ()) -> Any:
        """Draw the first ``nrows * ncols`` images of ``batch`` with their labels (``show_images``)."""
        X, y = batch
        if not labels:
            labels = self.text_labels(y)
        return show_images(X.squeeze(1), nrows, ncols, titles=labels)


def use_svg_display() -> None:
    """Draw matplotlib figures as SVG in notebooks (nothing to do without matplotlib_inline)."""
    if importlib.util.find_spec("matplotlib_inline") is None:
        return
    from matplotlib_inline import backend_inline

    backend_inline.set_matplotlib_formats("svg")


def show_images(
    imgs: Any, num_rows: int, num_cols: int, titles: Optional[Sequence[str]] = None, scale: float = 1.5
) -> Any:
    """d2l's grid of images with titles: matplotlib axes where matplotlib is installed, else a PIL image.

    ``imgs``: ``(H, W)``, ``(1, H, W)``, ``(3, H, W)`` or ``(H, W, 3)`` images,
    torch tensors or arrays.
    """
    images = [_hwc(img) for img in list(imgs)[: num_rows * num_cols]]
    if importlib.util.find_spec("matplotlib") is None:
        return show_grid(images, num_rows, num_cols, titles=titles, scale=scale)
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(num_rows, num_cols, figsize=(num_cols * scale, num_rows * scale), squeeze=False)
    axes = axes.flatten()
    for i, (ax, img) in enumerate(zip(axes, images)):
        ax.imshow(img)
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
        if titles:
            ax.set_title(titles[i])
    return axes


def _hwc(image: Any) -> np.ndarray:
    """One image as a numpy ``(H, W)`` or ``(H, W, C)`` array (a tensor on any device, channels first or last)."""
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] == 1:
        return array[0]
    if array.ndim == 3 and array.shape[0] == 3 and array.shape[2] != 3:
        return np.transpose(array, (1, 2, 0))
    return array
