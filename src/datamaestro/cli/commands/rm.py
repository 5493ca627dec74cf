"""datamaestro rm: remove the prepared files (and partial downloads) of datasets."""

from __future__ import annotations

import argparse
import sys

from datamaestro.cli.confirm import confirm
from datamaestro.config import load_settings
from datamaestro.errors import DatamaestroError, UnknownDatasetError, UsageError
from datamaestro.paths import id_problem
from datamaestro.registry import Registry
from datamaestro.storage import DataFolder, disk_usage, human_size

NAME = "rm"
HELP = "remove the prepared files and partial downloads of datasets, by id (asks first unless --yes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="+", metavar="ID", help="dataset ids or aliases (never paths)")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask before removing")


def run(args: argparse.Namespace) -> int:
    import os


    settings = load_settings(args.data)
    folder = DataFolder(settings.datadir)
    known: set[str] | None = None
    targets = {}
    for dataset_id in dict.fromkeys(args.ids):
        if id_problem(dataset_id):
            raise UsageError(f"rm takes dataset ids, not paths: {id_problem(dataset_id)}")
        if dataset_id not in folder.recorded_ids():
            try:
                dataset_id = Registry().resolve(dataset_id)  # an alias names its id
            except UnknownDatasetError:
                pass  # said below
        paths = [p for p in (folder.dataset_dir(dataset_id), folder.download_dir(dataset_id)) if os.path.lexists(p)]
        if not paths:
            raise UsageError(f"{dataset_id} is not prepared in {settings.datadir}; nothing to remove")
        if dataset_id not in folder.recorded_ids():
            known = set(Registry().ids()) if known is None else known
            if dataset_id not in known:
                raise UsageError(
                    f"{dataset_id} is neither a known dataset nor recorded in {settings.datadir}; "
                    "nothing was removed"
                )
        targets[dataset_id] = paths
    size = sum(disk_usage(p) for paths in targets.values() for p in paths)
    listing = ", ".join(str(p) for paths in targets.values() for p in paths)
    if not confirm(f"remove {listing} ({human_size(size)})?", args.yes):
        print("nothing was removed", file=sys.stderr)
        return 1
    for dataset_id, paths in targets.items():
        with folder.lock(dataset_id, blocking=False) as held:
            if not held:
                raise DatamaestroError(
                    f"{dataset_id} is being prepared by another process; nothing of it was "
                    "removed, try again when it is done"
                )
            for path in paths:
                print(f"removed {path} ({human_size(folder.remove(path))})")
    return 0
