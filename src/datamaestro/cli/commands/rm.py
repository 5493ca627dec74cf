"""datamaestro rm: remove the prepared files (and partial downloads) of datasets."""

from __future__ import annotations

import argparse
import os
import sys

from datamaestro.cli.confirm import confirm
from datamaestro.config import load_settings
from datamaestro.download.hub import is_hub_id
from datamaestro.errors import DatamaestroError, UnknownDatasetError, UsageError
from datamaestro.paths import id_problem
from datamaestro.registry import Registry
from datamaestro.storage import CACHE_PREFIX, DataFolder, disk_usage, human_size

NAME = "rm"
HELP = "remove the prepared files and partial downloads of datasets, by id (asks first unless --yes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="+", metavar="ID", help="dataset ids or aliases (never paths)")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask before removing")
    parser.add_argument(
        "--caches", action="store_true",
        help="remove only the decoded caches of the datasets (split.cached(): decoded again when next used)",
    )


def remove_caches(folder: DataFolder, ids: list[str], yes: bool) -> int:
    """Remove the decoded caches recorded for ``ids`` (asking first unless ``yes``)."""
    names = {i: [n for n in folder.manifest(i).entries if n.startswith(CACHE_PREFIX)] for i in ids}
    paths = [folder.resource_path(i, n) for i in ids for n in names[i]]
    if not paths:
        print(f"no decoded cache of {', '.join(ids)} in {folder.root}; nothing to remove", file=sys.stderr)
        return 0
    size = sum(disk_usage(p) for p in paths)
    if not confirm(f"remove {', '.join(str(p) for p in paths)} ({human_size(size)})?", yes):
        print("nothing was removed", file=sys.stderr)
        return 1
    for dataset_id in ids:
        with folder.lock(dataset_id):
            for name in names[dataset_id]:
                freed = folder.forget(dataset_id, name)
                print(f"removed {folder.resource_path(dataset_id, name)} ({human_size(freed)})")
    return 0


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.data)
    folder = DataFolder(settings.datadir)
    args.ids = [Registry().resolve(name) if is_hub_id(name) else name for name in args.ids]
    if args.caches:
        for dataset_id in args.ids:
            if id_problem(dataset_id):
                raise UsageError(f"rm takes dataset ids, not paths: {id_problem(dataset_id)}")
        return remove_caches(folder, list(dict.fromkeys(args.ids)), args.yes)
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
