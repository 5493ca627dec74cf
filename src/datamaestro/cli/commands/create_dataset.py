"""datamaestro create-dataset: write a commented definition skeleton for a new dataset id."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from datamaestro.errors import UsageError
from datamaestro.log import log
from datamaestro.registry import Registry
from datamaestro.storage import atomic_file

NAME = "create-dataset"
HELP = "write a commented definition skeleton for a new dataset id"

MODULE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*")
LAST_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="NEW_ID", help="the new id, e.g. org.example.my-data")
    parser.add_argument(
        "--dir", metavar="DIR",
        help="repository folder (default: the first DATAMAESTRO_PATH folder, else .)",
    )
    parser.add_argument("--name", help="human-readable name (default: from the id)")
    parser.add_argument("--url", help="where the files are published (a URL ending in /)")
    parser.add_argument("--print", action="store_true", help="print the skeleton, write nothing")
    parser.add_argument("--force", action="store_true", help="overwrite an existing module file")


def run(args: argparse.Namespace) -> int:
    module_parts, last = split_id(args.id)
    source = skeleton(args.id, name=args.name, base=args.url)
    if args.print:
        sys.stdout.write(source)
        return 0
    existing = next((e for e in Registry().entries() if e.id == args.id), None)
    if existing is not None:
        raise UsageError(f"'{args.id}' is already defined in {existing.file}")
    folder = Path(args.dir) if args.dir else default_folder()
    path = folder.joinpath(*module_parts).with_suffix(".py")
    if path.exists() and not args.force:
        raise UsageError(
            f"{path} already exists; use --print and add the definition to it yourself, "
            "or --force to overwrite it"
        )
    with atomic_file(path) as f:
        f.write(source.encode())
    print(path)
    on_path = [Path(p).absolute() for p in os.environ.get("DATAMAESTRO_PATH", "").split(os.pathsep) if p]
    if folder.absolute() not in on_path:
        log.info("add %s to DATAMAESTRO_PATH so that datamaestro finds %s", folder, args.id)
    log.info("edit the TODOs in %s, then run: datamaestro prepare %s", path, args.id)
    return 0


def split_id(dataset_id: str) -> tuple[list[str], str]:
    """(module path parts, last part) of a new id; raises on ids that cannot name a file."""
    parts = dataset_id.split(".")
    if (
        len(parts) < 2
        or not all(MODULE_PART.fullmatch(p) for p in parts[:-1])
        or not LAST_PART.fullmatch(parts[-1])
    ):
        raise UsageError(
            f"invalid dataset id '{dataset_id}': use a dotted name such as "
            "org.example.my-data (letters, digits and _ ; '-' only in the last part)"
        )
    return parts[:-1], parts[-1]


def _q(text: str) -> str:
    """``text`` as a double-quoted Python string literal."""
    return json.dumps(text)


def default_folder() -> Path:
    """The first DATAMAESTRO_PATH folder, else the current folder."""
    for item in os.environ.get("DATAMAESTRO_PATH", "").split(os.pathsep):
        if item:
            return Path(item).expanduser()
    return Path(".")


#: the definition module written by ``skeleton`` (``str.format`` fields in braces)
TEMPLATE = '''\
"""Datasets under {module} (a skeleton written by `datamaestro create-dataset`).

This file is {module_file} inside a repository folder: a folder listed in
DATAMAESTRO_PATH, or a package named by a `datamaestro.repositories` entry
point. Its path there ({module}) prefixes the ids it defines,
so the dataset below is {dataset_id}. Edit the TODOs, then check it with
    datamaestro info {dataset_id}
and fetch it with
    datamaestro prepare {dataset_id}
"""

from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.tensor import IDX
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader

# TODO: where the files are published.
BASE = {base_literal}


# One decorator per file: the name it gets in the data folder, its URL, and the
# published checksum of the downloaded bytes ("sha256:<hex>" or "md5:<hex>", as
# `sha256sum FILE` prints it). Without a checksum the file is accepted with a
# warning that it was not verified. A URL ending in .gz is decompressed into
# the name. mirrors=[...] lists more URLs serving the same bytes, tried in order.
@filedownloader("train_images.idx", BASE + "train-images-idx3-ubyte.gz")  # TODO: checksum="sha256:..."
@filedownloader("train_labels.idx", BASE + "train-labels-idx1-ubyte.gz")  # TODO: checksum="sha256:..."
@filedownloader("test_images.idx", BASE + "t10k-images-idx3-ubyte.gz")  # TODO: checksum="sha256:..."
@filedownloader("test_labels.idx", BASE + "t10k-labels-idx1-ubyte.gz")  # TODO: checksum="sha256:..."
@dataset(
    ImageClassification,  # the type of data the function returns (its fields)
{id_line}    name={name_literal},  # TODO: the human-readable name
    url={base_literal},  # TODO: the dataset's home page
    tags=["images", "classification"],  # TODO: words `datamaestro search tag:WORD` finds
)
def {function}(train_images, train_labels, test_images, test_labels):
    """TODO: one line saying what this dataset is (search and info show it).

    TODO: more lines: where it comes from, its size, its license, how to cite it.
    """
    # Each argument is the path of the prepared file of the same name (the
    # file name before its first dot). Return the fields of ImageClassification.
    return {{
        "train": LabelledImages(images=IDX(path=train_images), labels=IDX(path=train_labels)),
        "test": LabelledImages(images=IDX(path=test_images), labels=IDX(path=test_labels)),
        "categories": [str(label) for label in range(10)],  # TODO: the class names, by label
    }}
'''


def skeleton(dataset_id: str, *, name: str | None = None, base: str | None = None) -> str:
    """The source of a definition module for ``dataset_id`` (MNIST-like IDX files)."""
    module_parts, last = split_id(dataset_id)
    function = re.sub(r"\W", "_", last).lower()
    if function[0].isdigit():
        function = "_" + function
    id_line = (
        "" if function == last
        else f'    id="{last}",  # the last part of the id (the function name would give {function})\n'
    )
    name = name or last.replace("-", " ").replace("_", " ").capitalize()
    base = base or f"https://example.org/{last}/"
    module_file = "/".join(module_parts) + ".py"
    return TEMPLATE.format(
        module=".".join(module_parts), module_file=module_file, dataset_id=dataset_id, function=function,
        id_line=id_line, base_literal=_q(base), name_literal=_q(name),
    )
