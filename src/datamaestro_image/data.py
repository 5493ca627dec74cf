"""Image data types (aliases of ``datamaestro.data.images``)."""

from datamaestro.data.base import Base
from datamaestro.data.images import ImageClassification, LabelledImages

__all__ = ["Base", "ImageClassification", "LabelledImages"]
