"""Face images with per-image attributes, landmarks and a box (CelebA): an ``ImageFolder`` with three arrays more.

The images, their labels (the person's identity) and every loader are those
of ``ImageFolder`` (``show``, ``info``, ``batches``, ``to_torch``... work as
for any image folder); the annotations are arrays in the same order as the
images, written at prepare time beside the split's index:
``<split>_attributes.npy``, ``<split>_landmarks.npy``, ``<split>_boxes.npy``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from datamaestro.data.folder import ImageFolder, index_files
from datamaestro.data.npy import NPY
from datamaestro.data.tensor import Tensor


def face_files(folder: Path, split: str) -> tuple[Path, Path, Path]:
    """The attributes, landmarks and boxes files of ``split``'s index in ``folder``."""
    return folder / f"{split}_attributes.npy", folder / f"{split}_landmarks.npy", folder / f"{split}_boxes.npy"


class FaceImages(ImageFolder):
    """Face images with their identity as label and, in the same order, their annotations.

    ``attributes``: (N, A) uint8, 1 where image ``i`` has attribute
    ``attribute_names[a]``, else 0. ``landmarks``: (N, 2 * P) int32, the x
    and y of each point in turn (``landmark_names`` names the columns).
    ``boxes``: (N, 4) int32, ``x, y, width, height`` of the face.
    """

    attributes: Tensor
    landmarks: Tensor
    boxes: Tensor
    attribute_names: list[str] = []
    landmark_names: list[str] = []

    @classmethod
    def from_face_index(
        cls, root: Path, index: Path, split: str, attribute_names: list[str], landmark_names: list[str],
        categories: Optional[list[str]] = None,
    ) -> FaceImages:
        """The split ``split`` of the images under ``root``, from the index folder ``index`` (the
        image index of ``ImageFolder.from_index`` and the arrays named by ``face_files``)."""
        files, labels, sizes = index_files(index, split)
        attributes, landmarks, boxes = face_files(index, split)
        return cls(
            root=root, files=files, labels=NPY(path=labels), sizes=NPY(path=sizes), categories=categories,
            attributes=NPY(path=attributes), landmarks=NPY(path=landmarks), boxes=NPY(path=boxes),
            attribute_names=attribute_names, landmark_names=landmark_names,
        )
