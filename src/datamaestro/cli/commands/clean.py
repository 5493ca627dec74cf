"""datamaestro clean: remove what the data folder's own layout says is garbage, and nothing else.

Garbage: staging files and folders left by killed runs (``datasets/<id>/.*.tmp``),
partial downloads and their notes (``downloads/<id>/*.part``, ``*.part.json``,
``*.part.segments``), files in a dataset folder that are neither recorded in its
manifest nor a resource its definition declares, and lock files no process
holds. Links are never followed; whatever else is found is listed as left alone.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from datamaestro.cli.confirm import confirm
from datamaestro.config import load_settings
from datamaestro.manifest import MANIFEST
from datamaestro.paths import is_valid_id, is_valid_name, printable
from datamaestro.registry import Registry
from datamaestro.storage import DataFolder, disk_usage, human_size

NAME = "clean"
HELP = "remove partial downloads, leftovers of interrupted writes, unrecorded files and unused locks (asks first unless --yes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask before removing")


def survey(folder: Any, registry: Any) -> tuple[dict[str, list[Path]], list[str]]:
    """(garbage by dataset id, what is left alone and why); datasets being prepared are skipped."""
    garbage: dict[str, list[Path]] = {}
    alone: list[str] = []
    ids = set()
    for base in ("datasets", "downloads"):
        top = folder.root / base
        if top.is_symlink():
            alone.append(f"{printable(str(top))}: a link, not followed")
            continue
        for p in sorted(top.iterdir()) if top.is_dir() else []:
            if p.is_symlink():
                alone.append(f"{printable(str(p))}: a link, not followed")
            elif not p.is_dir() or not is_valid_id(p.name):
                alone.append(f"{printable(str(p))}: not a dataset folder")
            else:
                ids.add(p.name)
    for dataset_id in sorted(ids):
        with folder.lock(dataset_id, blocking=False) as held:
            if not held:
                print(f"skipped {dataset_id}: another process is preparing it", file=sys.stderr)
                continue
            found, left = garbage_of(folder, registry, dataset_id)
        alone += left
        if found:
            garbage[dataset_id] = found
    return garbage, alone


def garbage_of(folder: Any, registry: Any, dataset_id: str) -> tuple[list[Path], list[str]]:
    """What ``clean`` removes for one dataset (call with its lock held), and what it leaves alone."""
    found = list(folder.partial_files(dataset_id))
    alone = []
    downloads = folder.download_dir(dataset_id)
    if downloads.is_dir():
        for p in sorted(downloads.iterdir()):
            if p in found:
                continue
            why = "an original kept for 'datamaestro push'" if p.name.endswith(".original") else "not a partial download"
            alone.append(f"{printable(str(p))}: {why}")
    directory = folder.dataset_dir(dataset_id)
    if directory.is_dir():
        temporaries = folder.temporaries(dataset_id)
        found += temporaries
        keep = set(folder.manifest(dataset_id).entries) | {MANIFEST}
        try:
            keep |= {r.name for r in registry.definition(dataset_id).resources}
        except Exception:  # unknown or broken definition: its recorded files only
            pass
        for p in sorted(directory.iterdir()):
            if p in temporaries or p.name in keep:
                continue
            if p.is_symlink() or not is_valid_name(p.name):
                alone.append(f"{printable(str(p))}: not made by datamaestro")
            else:
                found.append(p)
    return found, alone


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.data)
    folder = DataFolder(settings.datadir)
    registry = Registry()
    garbage, alone = survey(folder, registry)
    for line in alone:
        print(f"  left alone: {line}", file=sys.stderr)
    if not garbage:
        _remove_free_locks(folder)
        print(f"nothing to clean in {settings.datadir}", file=sys.stderr)
        return 0
    items = [p for paths in garbage.values() for p in paths]
    size = sum(disk_usage(p) for p in items)
    for p in items:
        print(f"  {printable(str(p))}", file=sys.stderr)
    if not confirm(f"remove these {len(items)} items ({human_size(size)})?", args.yes):
        print("nothing was removed", file=sys.stderr)
        return 1
    total = 0
    for dataset_id, paths in garbage.items():
        with folder.lock(dataset_id, blocking=False) as held:
            if not held:
                print(f"skipped {dataset_id}: another process is preparing it", file=sys.stderr)
                continue
            current = set(garbage_of(folder, registry, dataset_id)[0])  # it may have changed meanwhile
            for path in paths:
                if path in current and os.path.lexists(path):
                    freed = folder.remove(path)
                    total += freed
                    print(f"removed {printable(str(path))} ({human_size(freed)})")
            for directory in (folder.download_dir(dataset_id), folder.dataset_dir(dataset_id)):
                try:
                    directory.rmdir()  # only when it is left empty
                except OSError:
                    pass
    _remove_free_locks(folder)
    print(f"freed {human_size(total)}", file=sys.stderr)
    return 0


def _remove_free_locks(folder: Any) -> None:
    """Remove the lock files that no process holds (each while holding it, so nobody holds a removed file)."""
    top = folder.root / "locks"
    if not top.is_dir() or top.is_symlink():
        return
    for lock in sorted(top.glob("*.lock")):
        dataset_id = lock.name[: -len(".lock")]
        if lock.is_symlink() or not is_valid_id(dataset_id):
            continue
        with folder.lock(dataset_id, blocking=False) as held:
            if held:
                folder.remove(lock)
