"""TensorFlow adapter: a split as a ``tf.data.Dataset`` (extra ``datamaestro[tf]``).

The dataset is fed by ``datamaestro.loaders.batches.Batches`` through
``tf.data.Dataset.from_generator``: nothing is copied ahead, each pass gathers
and converts one batch at a time, and each pass reshuffles (with a seed, pass
k uses epoch k, as ``LabelledImages.batches`` does).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, Optional

from datamaestro.loaders.arrays import Size
from datamaestro.optional import require

#: rows gathered at a time when the dataset yields single examples
CHUNK = 1024


def import_tf() -> Any:
    """The ``tensorflow`` module, or a one-line error saying which extra to install."""
    return require("tensorflow", "TensorFlow datasets (to_tf)", "tensorflow", "tf")


def dataset(
    split: Any,
    *,
    batch_size: Optional[int] = None,
    shuffle: bool = False,
    seed: Optional[int] = None,
    drop_last: bool = False,
    normalize: bool = True,
    layout: Optional[str] = "NHWC",
    resize: Optional[Size] = None,
    interpolation: str = "bilinear",
    one_hot: bool = False,
) -> Any:
    """A ``tf.data.Dataset`` of ``(image, label)`` examples, or of batches when
    ``batch_size`` is given. Images are float32 in [0, 1] (``normalize``), channels
    last by default as Keras expects; labels int64, or float32 one-hot rows."""
    tf = import_tf()
    from datamaestro.loaders.batches import Batches, Converter

    images, labels = split.images.data(), split.labels.data()
    options = dict(
        normalize=normalize,
        layout=layout,
        resize=resize,
        interpolation=interpolation,
        one_hot=one_hot,
        categories=split.categories,
    )
    passes = itertools.count()
    size = batch_size or CHUNK

    def generate() -> Iterator[tuple[Any, Any]]:
        epoch = next(passes)
        for x, y in Batches(
            images, labels, batch_size=size, shuffle=shuffle, seed=seed, epoch=epoch,
            drop_last=drop_last and batch_size is not None, **options,
        ):
            yield x, (y if y.ndim == 2 else y.astype("int64"))

    first_x, first_y = Converter(images, labels, **options)(images[:0], labels[:0])
    signature = (
        tf.TensorSpec(shape=(None, *first_x.shape[1:]), dtype=tf.as_dtype(first_x.dtype)),
        tf.TensorSpec(
            shape=(None, *first_y.shape[1:]),
            dtype=tf.float32 if first_y.ndim == 2 else tf.int64,
        ),
    )
    data = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return data if batch_size else data.unbatch()
