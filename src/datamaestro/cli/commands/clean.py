"""datamaestro clean: remove partial downloads, interrupted writes and unrecorded files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

NAME = "clean"
HELP = "remove partial downloads, leftovers of interrupted writes and unrecorded files (asks first unless --yes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask before removing")


def leftovers(folder: Any, dataset_id: str) -> list[Path]:
    """What ``clean`` removes for one dataset (call with its lock held)."""
    from datamaestro.storage import MANIFEST

    found = list(folder.partial_files(dataset_id))
    directory: Path = folder.dataset_dir(dataset_id)
    if directory.is_dir():
        recorded = set(folder.read_manifest(dataset_id).get("files", {}))
        found += sorted(p for p in directory.iterdir() if p.name != MANIFEST and p.name not in recorded)
    return found


def run(args: argparse.Namespace) -> int:
    from datamaestro.cli.confirm import confirm
    from datamaestro.config import load_settings
    from datamaestro.storage import DataFolder, disk_usage, human_size, remove

    settings = load_settings(args.data, quiet=args.quiet)
    folder = DataFolder(settings.datadir)
    ids = sorted(
        {p.name for base in ("datasets", "downloads") if (folder.root / base).is_dir()
         for p in (folder.root / base).iterdir() if p.is_dir()}
    )
    found: dict[str, list[Path]] = {}
    for dataset_id in ids:
        with folder.lock(dataset_id, blocking=False) as held:
            if not held:
                print(f"skipped {dataset_id}: another process is preparing it", file=sys.stderr)
                continue
            if items := leftovers(folder, dataset_id):
                found[dataset_id] = items
    if not found:
        print(f"nothing to clean in {settings.datadir}", file=sys.stderr)
        return 0
    items = [p for paths in found.values() for p in paths]
    size = sum(disk_usage(p) for p in items)
    for p in items:
        print(f"  {p}", file=sys.stderr)
    if not confirm(f"remove these {len(items)} items ({human_size(size)})?", args.yes):
        print("nothing was removed", file=sys.stderr)
        return 1
    total = 0
    for dataset_id, paths in found.items():
        with folder.lock(dataset_id, blocking=False) as held:
            if not held:
                print(f"skipped {dataset_id}: another process is preparing it", file=sys.stderr)
                continue
            current = set(leftovers(folder, dataset_id))  # it may have changed meanwhile
            for path in paths:
                if path in current and path.exists():
                    freed = remove(path)
                    total += freed
                    print(f"removed {path} ({human_size(freed)})")
            for directory in (folder.download_dir(dataset_id), folder.dataset_dir(dataset_id)):
                try:
                    directory.rmdir()  # only when it is left empty
                except OSError:
                    pass
    print(f"freed {human_size(total)}", file=sys.stderr)
    return 0
