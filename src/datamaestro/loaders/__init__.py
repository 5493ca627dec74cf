"""Loaders: data splits as numpy arrays and minibatches, and framework adapters.

``arrays`` and ``batches`` need numpy only. ``datamaestro.loaders.torch`` and
``datamaestro.loaders.tf`` import their framework when used (extras
``datamaestro[torch]`` and ``datamaestro[tf]``). Importing this package
registers the loaders of each data type (``datamaestro.data.loading``): the
modules ``images``, ``folder``, ``text`` and ``table``.
"""

from datamaestro.loaders import folder, images, pairs, qa, table, text
from datamaestro.loaders.arrays import arrays, image_layout, normalized, one_hot_rows, resize
from datamaestro.loaders.batches import Batches

__all__ = ["arrays", "Batches", "folder", "image_layout", "images", "normalized", "one_hot_rows", "pairs", "qa", "resize", "table", "text"]
