"""Oxford Flowers-102's label files: ``imagelabels.mat`` and ``setid.mat`` (MATLAB v5).

``imagelabels.mat`` holds ``labels``: the class (1 to 102) of each image,
image ``k`` (1-based) being ``jpg/image_<k, 5 digits>.jpg`` of
``102flowers.tgz``; ``setid.mat`` holds the 1-based image numbers of each
split: ``trnid`` (train), ``valid`` (validation) and ``tstid`` (test). The
files are read with scipy.io (the extra ``mat``). The archive does not name
the classes: ``NAMES`` are the names TensorFlow Datasets gives them (from the
publisher's category page), in label order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.formats import mat
from datamaestro.optional import require

#: the class names, in label order
NAMES = [
    "pink primrose", "hard-leaved pocket orchid", "canterbury bells", "sweet pea", "english marigold",
    "tiger lily", "moon orchid", "bird of paradise", "monkshood", "globe thistle", "snapdragon",
    "colt's foot", "king protea", "spear thistle", "yellow iris", "globe-flower", "purple coneflower",
    "peruvian lily", "balloon flower", "giant white arum lily", "fire lily", "pincushion flower",
    "fritillary", "red ginger", "grape hyacinth", "corn poppy", "prince of wales feathers",
    "stemless gentian", "artichoke", "sweet william", "carnation", "garden phlox", "love in the mist",
    "mexican aster", "alpine sea holly", "ruby-lipped cattleya", "cape flower", "great masterwort",
    "siam tulip", "lenten rose", "barbeton daisy", "daffodil", "sword lily", "poinsettia",
    "bolero deep blue", "wallflower", "marigold", "buttercup", "oxeye daisy", "common dandelion", "petunia",
    "wild pansy", "primula", "sunflower", "pelargonium", "bishop of llandaff", "gaura", "geranium",
    "orange dahlia", "pink-yellow dahlia?", "cautleya spicata", "japanese anemone", "black-eyed susan",
    "silverbush", "californian poppy", "osteospermum", "spring crocus", "bearded iris", "windflower",
    "tree poppy", "gazania", "azalea", "water lily", "rose", "thorn apple", "morning glory",
    "passion flower", "lotus", "toad lily", "anthurium", "frangipani", "clematis", "hibiscus", "columbine",
    "desert-rose", "tree mallow", "magnolia", "cyclamen", "watercress", "canna lily", "hippeastrum",
    "bee balm", "ball moss", "foxglove", "bougainvillea", "camellia", "mallow", "mexican petunia",
    "bromelia", "blanket flower", "trumpet creeper", "blackberry lily",
]
#: split -> the variable of ``setid.mat`` listing its images
SPLITS = {"train": "trnid", "val": "valid", "test": "tstid"}
#: the most numbers a variable may hold (the published files hold 8,189 at most)
MAX_NUMBERS = 1_000_000


def read_numbers(path: Path, name: str) -> np.ndarray:
    """The variable ``name`` of a MATLAB v5 file, as a flat int64 array of whole numbers."""
    scipy_io = require("scipy.io", "reading MATLAB .mat files", "scipy", "mat")
    declared = {v.name: v for v in mat.variables(path)}
    if name not in declared or declared[name].kind in ("cell", "struct", "object", "char", "sparse"):
        raise FormatError(f"{path}: expected a numeric variable {name}; the file is not the published one")
    if int(np.prod(declared[name].shape, dtype=object)) > MAX_NUMBERS:
        raise FormatError(f"{path}: {name} holds more than {MAX_NUMBERS:,} numbers; the file is not the published one")
    try:
        values = np.asarray(scipy_io.loadmat(path, variable_names=[name])[name]).reshape(-1)
    except (scipy_io.matlab.MatReadError, ValueError, TypeError, OSError, EOFError, NotImplementedError, KeyError) as e:
        raise FormatError(f"{path}: not a readable MATLAB v5 .mat file ({e})") from None
    if values.dtype.kind not in "iuf" or not np.array_equal(values, np.round(values)):
        raise FormatError(f"{path}: {name} should hold whole numbers; the file is not the published one")
    return values.astype(np.int64)


def read(labels_file: Path, setid_file: Path) -> dict[str, list[tuple[str, int]]]:
    """The (image file, label from 0) pairs of the train, val and test splits."""
    labels = read_numbers(labels_file, "labels")
    if labels.size and (labels.min() < 1 or labels.max() > len(NAMES)):
        raise FormatError(f"{labels_file}: labels should be 1 to {len(NAMES)}; the file is not the published one")
    splits = {}
    for split, variable in SPLITS.items():
        ids = read_numbers(setid_file, variable)
        if ids.size and (ids.min() < 1 or ids.max() > labels.size):
            raise FormatError(f"{setid_file}: {variable} names images beyond the {labels.size} labelled ones")
        splits[split] = [(f"image_{k:05d}.jpg", int(labels[k - 1]) - 1) for k in ids.tolist()]
    return splits
