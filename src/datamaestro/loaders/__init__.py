"""Loaders: labelled image splits as numpy arrays and minibatches, and framework adapters.

``arrays`` and ``batches`` need numpy only. ``datamaestro.loaders.torch`` and
``datamaestro.loaders.tf`` import their framework when used (extras
``datamaestro[torch]`` and ``datamaestro[tf]``).
"""

from datamaestro.loaders.arrays import arrays, image_layout, normalized, one_hot_rows, resize
from datamaestro.loaders.batches import Batches

__all__ = ["arrays", "Batches", "image_layout", "normalized", "one_hot_rows", "resize"]
