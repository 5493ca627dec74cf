"""Loaders: data splits as numpy arrays and minibatches, and framework adapters.

``arrays`` and ``batches`` need numpy only. ``datamaestro.loaders.torch`` and
``datamaestro.loaders.tf`` import their framework when used (extras
``datamaestro[torch]`` and ``datamaestro[tf]``). Importing this package
registers the loaders of each data type (``datamaestro.data.loading``), one
module per kind.
"""

from datamaestro.loaders import audio, detection, folder, hub, images, pairs, qa, segmentation, table, text
from datamaestro.loaders.arrays import arrays, image_layout, normalized, one_hot_rows, resize
from datamaestro.loaders.batches import Batches

__all__ = [
    "arrays", "audio", "Batches", "detection", "folder", "hub", "image_layout", "images", "normalized",
    "one_hot_rows", "pairs", "qa", "resize", "segmentation", "table", "text",
]
