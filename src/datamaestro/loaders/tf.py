"""TensorFlow adapter: a split as a ``tf.data.Dataset`` (extra ``datamaestro[tf]``).

The dataset is fed by the split's own passes (``one_pass``, what ``batches()``
gives) through ``tf.data.Dataset.from_generator``: nothing is copied ahead,
each pass gathers, decodes and converts one batch at a time, and each pass
reshuffles (with a seed, pass k uses epoch k, as ``batches()`` does). Any
labelled split works: image arrays, image folders (images, channels last by
default) and texts (UTF-8 strings).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, Optional

import numpy as np

from datamaestro.data.text import LabelledTexts
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
    **options: Any,
) -> Any:
    """A ``tf.data.Dataset`` of ``(x, label)`` examples of ``split``, or of batches when
    ``batch_size`` is given. ``options`` go to the split's ``batches()`` (for images:
    ``normalize``, ``layout`` (default "NHWC"), ``resize``, ``interpolation``, ``one_hot``...).
    Images are float32 in [0, 1] by default, texts strings; labels int64, or float32 one-hot rows."""
    tf = import_tf()
    texts = isinstance(split, LabelledTexts)
    if not texts:
        options.setdefault("layout", "NHWC")  # images channels last, as Keras expects
    passes = itertools.count()
    size = batch_size or CHUNK

    def examples(x: Any, y: Any) -> tuple[Any, Any]:
        x = np.array(x, dtype=object) if texts else x  # (a list of strings)
        return x, (y if y.ndim == 2 else y.astype("int64"))

    def generate() -> Iterator[tuple[Any, Any]]:
        drop = drop_last and batch_size is not None
        for x, y in split.one_pass(next(passes), size, shuffle, seed, drop, **options):
            yield examples(x, y)

    whole = {**options, "rank": 0, "world_size": 1, "distributed": False}  # (the probe reads the first example)
    probe = next(iter(split.one_pass(0, 1, False, None, False, **whole)), None)
    if probe is None:  # an empty split: shapes unknown
        x_spec = tf.TensorSpec(shape=None, dtype=tf.string if texts else tf.float32)
        y_spec = tf.TensorSpec(shape=None, dtype=tf.int64)
    else:
        x, y = examples(*probe)
        x_spec = tf.TensorSpec(shape=(None, *x.shape[1:]), dtype=tf.string if texts else tf.as_dtype(x.dtype))
        y_spec = tf.TensorSpec(shape=(None, *y.shape[1:]), dtype=tf.float32 if y.ndim == 2 else tf.int64)
    data = tf.data.Dataset.from_generator(generate, output_signature=(x_spec, y_spec))
    return data if batch_size else data.unbatch()
